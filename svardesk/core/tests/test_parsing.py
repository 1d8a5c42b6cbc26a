"""Numbers from requests: ASCII digits only, within what the database stores."""

import pytest

from svardesk.core.parsing import MAX_ID, is_ascii_digits, parse_ascii_int, parse_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("007", 7), ("42", 42), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None),
     ("9" * 5000, None), ("²", None), ("٣", None), ("1²", None), ("", None), (" 1", None),
     ("1 ", None), ("-1", None), ("+1", None), ("1e3", None), ("1_000", None), (None, None),
     (3, None)],
)  # fmt: skip
def test_parse_ascii_int(text, expected):
    assert parse_ascii_int(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1), (1, 1), ("0", None), (0, None), (-1, None), (True, None), (MAX_ID, MAX_ID),
     (MAX_ID + 1, None), ("٣", None), (1.0, None), ([1], None)],
)  # fmt: skip
def test_parse_id(value, expected):
    assert parse_id(value) == expected


def test_python_would_take_these():
    """Why the helper exists."""
    assert "²".isdigit()
    assert int("٣") == 3
    assert not is_ascii_digits("²")
    assert not is_ascii_digits("٣")

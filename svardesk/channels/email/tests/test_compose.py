"""The outgoing email's headers: the reply subject with its ticket token, the References."""

import pytest

from svardesk.channels.email import compose


@pytest.mark.parametrize(
    ("subject", "is_reply", "expected"),
    [
        ("Printer on fire", True, "Re: Printer on fire [#42]"),
        ("Re: Printer on fire", True, "Re: Printer on fire [#42]"),
        ("RE: SV: Re: Printer on fire [#42]", True, "Re: Printer on fire [#42]"),
        ("AW: Drucker [#7]", True, "Re: Drucker [#42]"),
        ("", True, "Re: [#42]"),
        ("New question", False, "New question [#42]"),
    ],
)
def test_reply_subject(subject, is_reply, expected):
    assert compose.reply_subject(subject, 42, is_reply=is_reply) == expected


def test_references_keep_root_and_latest_when_trimmed():
    refs = [f"<m{i}@x>" for i in range(30)]
    trimmed = compose.trim_references([*refs, "<m3@x>", "m30@x"])
    assert len(trimmed) == compose.MAX_REFERENCES
    assert trimmed[0] == "<m0@x>"
    assert trimmed[-1] == "<m30@x>"
    assert trimmed[-2] == "<m29@x>"

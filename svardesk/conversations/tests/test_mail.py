"""The outgoing email's parts: sanitising editor HTML, the text part, subject and headers."""

import pytest

from svardesk.conversations import mail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            "<p>Hi <strong>there</strong></p>", "<p>Hi <strong>there</strong></p>", id="bold-kept"
        ),
        pytest.param("<p>x<script>alert(1)</script></p>", "<p>x</p>", id="script-dropped"),
        pytest.param('<p onclick="evil()">x</p>', "<p>x</p>", id="handler-dropped"),
        pytest.param(
            '<a href="javascript:alert(1)">x</a>',
            '<a rel="noopener noreferrer">x</a>',
            id="js-link",
        ),
        pytest.param(
            '<a href="https://example.com/a">x</a>',
            '<a href="https://example.com/a" rel="noopener noreferrer">x</a>',
            id="https-link",
        ),
        pytest.param('<img src="https://t.example/p.gif">', "", id="tracking-image-dropped"),
        pytest.param(
            '<p style="position:fixed">x</p><ul><li>a</li></ul><blockquote>q</blockquote>',
            "<p>x</p><ul><li>a</li></ul><blockquote>q</blockquote>",
            id="lists-and-quote-kept-style-dropped",
        ),
    ],
)
def test_clean_editor_html(raw, expected):
    assert mail.clean_editor_html(raw) == expected


def test_html_to_text_renders_structure():
    html = (
        "<p>Hello <strong>Åsa</strong>,</p><p>Try this:</p>"
        "<ol><li>Unplug it</li><li>Wait</li></ol><ul><li>bullet</li></ul>"
        '<blockquote><p>quoted line</p></blockquote><p>See <a href="https://acme.test/help">'
        "the guide</a>.<br>Thanks</p>"
    )
    assert mail.html_to_text(html) == (
        "Hello Åsa,\n\nTry this:\n\n1. Unplug it\n2. Wait\n\n- bullet\n\n> quoted line\n\n"
        "See the guide (https://acme.test/help).\nThanks"
    )


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
    assert mail.reply_subject(subject, 42, is_reply=is_reply) == expected


def test_references_keep_root_and_latest_when_trimmed():
    refs = [f"<m{i}@x>" for i in range(30)]
    trimmed = mail.trim_references([*refs, "<m3@x>", "m30@x"])
    assert len(trimmed) == mail.MAX_REFERENCES
    assert trimmed[0] == "<m0@x>"
    assert trimmed[-1] == "<m30@x>"
    assert trimmed[-2] == "<m29@x>"


def test_parse_address_list_keeps_names_and_drops_empties():
    assert mail.parse_address_list('"Lindqvist, Åsa" <asa@kund.example>, , bo@x.example') == [
        '"Lindqvist, Åsa" <asa@kund.example>',
        "bo@x.example",
    ]


def test_split_address_list_reports_what_is_not_an_address():
    assert mail.split_address_list("a@b.example; x@, not an address,,") == (
        ["a@b.example"],
        ["x@", "not an address"],
    )

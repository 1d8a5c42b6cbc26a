"""The reply and comment editor's HTML, cleaned before it is stored, and the one HTML → text
rendering (a reply's text part, a chat's plain text, previews)."""

import pytest

from svardesk.conversations.content import html_to_text
from svardesk.conversations.editor import clean_editor_html, text_as_html


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
    assert clean_editor_html(raw) == expected


def test_html_to_text_renders_structure():
    html = (
        "<p>Hello <strong>Åsa</strong>,</p><p>Try this:</p>"
        "<ol><li>Unplug it</li><li>Wait</li></ol><ul><li>bullet</li></ul>"
        '<blockquote><p>quoted line</p></blockquote><p>See <a href="https://acme.test/help">'
        "the guide</a>.<br>Thanks</p>"
    )
    assert html_to_text(html) == (
        "Hello Åsa,\n\nTry this:\n\n1. Unplug it\n2. Wait\n\n- bullet\n\n> quoted line\n\n"
        "See the guide (https://acme.test/help).\nThanks"
    )


def test_html_to_text_indents_nested_lists():
    html = "<ul><li>a<ul><li>b</li><li>c</li></ul></li><li>d</li></ul><p>x</p>"
    assert html_to_text(html) == "- a\n  - b\n  - c\n- d\n\nx"


def test_html_to_text_leaves_a_link_whose_text_is_its_address_alone():
    html = (
        '<p><a href="https://acme.test">https://acme.test</a> and <a href="mailto:a@b">mail</a></p>'
    )
    assert html_to_text(html) == "https://acme.test and mail"


def test_text_as_html_escapes_and_keeps_lines():
    assert text_as_html("a <b>\nc\n\nd") == "<p>a &lt;b&gt;<br>c</p>\n\n<p>d</p>"

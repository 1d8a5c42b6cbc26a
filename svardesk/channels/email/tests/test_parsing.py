"""Parsing the corpus: charsets, encoded words, bodies, attachments, quoted history, loops."""

import datetime as dt

import pytest

from svardesk.channels.email import loops
from svardesk.channels.email.parsing import (
    ParseError,
    message_id_of,
    parse_email,
    parse_message_ids,
    synthetic_message_id,
)
from svardesk.channels.email.tests.corpus import SIGNED_A, SIGNED_D, build_raw, corpus
from svardesk.conversations.content import (
    QUOTED_OPEN,
    html_to_text,
    sanitize_html,
    sanitize_message_html,
    split_quoted,
)

EN_DASH = "\u2013"  # as in the Windows-1252 mail


def test_plain_text_mail():
    parsed = parse_email(corpus("plain.eml"))

    assert parsed.message_id == "<CAK7plain001@mail.example.se>"
    assert parsed.subject == "Problem med inloggningen"
    assert (parsed.from_name, parsed.from_address) == ("Anna Svensson", "anna.svensson@example.se")
    assert parsed.to == ["Acme Support <support@acme.example>"]
    assert parsed.date == dt.datetime(2025, 3, 3, 8, 15, tzinfo=dt.UTC)
    assert "Lösenordsåterställningen" in parsed.text
    assert parsed.text.endswith("Tack på förhand,\nAnna Svensson")
    assert parsed.html == ""
    assert parsed.attachments == []


@pytest.mark.parametrize(
    ("name", "subject", "sender", "words"),
    [
        pytest.param(
            "swedish_latin1.eml",
            "Fråga om räkning",
            "Åsa Öberg",
            ["räkning för maj", "högre än vanligt", "Vänliga hälsningar", "Åsa Öberg"],
            id="iso-8859-1",
        ),
        pytest.param(
            "swedish_cp1252.eml",
            f"Fel pris {EN_DASH} 1 200 €",
            "Örjan Ström",
            ["Priset på er hemsida är 1 200 €", f"“fri frakt” {EN_DASH} men", "debiterades ändå"],
            id="windows-1252",
        ),
        pytest.param(
            "encoded_subject.eml",
            "Ändrad leveransadress för order 4412 📦",
            "Öberg, Åsa",
            ["Storgatan 5 i Göteborg i stället?"],
            id="rfc2047-utf8-b-and-q",
        ),
        pytest.param(
            "reply_outlook.eml",
            "SV: Fakturafråga",
            "Erik Lindqvist",
            ["Det stämmer, fakturan är betald nu."],
            id="raw-and-encoded-words-mixed",
        ),
    ],
)
def test_charsets_and_encoded_words(name, subject, sender, words):
    parsed = parse_email(corpus(name))

    assert parsed.subject == subject
    assert parsed.from_name == sender
    for word in words:
        assert word in parsed.text


def test_html_only_mail_gets_a_text_body_and_safe_html():
    parsed = parse_email(corpus("html_only.eml"))

    assert parsed.subject == "Beställning 4411 har inte kommit"
    assert parsed.text.startswith("Hej,\n\nMin beställning 4411 har fortfarande inte kommit.")
    assert "- Order: 4411\n- Datum: 1 mars" in parsed.text
    assert "alert" not in parsed.text
    assert "Hemlig titel" not in parsed.text
    html = sanitize_message_html(parsed.html)
    for forbidden in (
        "<script",
        "alert",
        "onclick",
        "onerror",
        "javascript:",
        "http://tracker.example.com",
        "Hemlig titel",
        "position",
        "<style",
    ):
        assert forbidden not in html
    assert '<img src="https://cdn.example.com/logo.png" alt="Butikens logga">' in html
    assert (
        '<a href="https://track.example.com/4411" target="_blank" '
        'rel="noopener noreferrer nofollow">här</a>'
    ) in html
    assert '<p style="color:#336699">Mvh<br>Kalle Karlsson</p>' in html


def test_multipart_with_attachments():
    parsed = parse_email(corpus("attachments.eml"))

    assert parsed.text.startswith("Hej,\n\nHär kommer fakturan och prislistan som ni bad om.")
    assert "<b>fakturan</b>" in parsed.html
    assert [(a.filename, a.content_type, a.size, a.is_inline) for a in parsed.attachments] == [
        ("faktura-2025-03.pdf", "application/pdf", 4096, False),
        ("prislista-åäö.csv", "text/csv", 48, False),
    ]
    assert parsed.attachments[0].payload.startswith(b"%PDF-1.4")
    assert parsed.attachments[1].payload.decode() == (
        "artikel;pris\nÄpple;12,50\nPäron;9,90\nÖl;25,00\n"
    )


def test_inline_cid_image_is_an_inline_attachment():
    parsed = parse_email(corpus("inline_image.eml"))

    assert parsed.subject == "Skärmbild på felet"
    assert parsed.text.startswith("Hej!\n\nSå här ser felmeddelandet ut:")
    [image] = parsed.attachments
    assert (image.filename, image.content_type, image.is_inline) == (
        "skarmbild.png",
        "image/png",
        True,
    )
    assert image.content_id == "skarmbild.png@01db8c3a.5f1e2d40"
    assert image.payload.startswith(b"\x89PNG\r\n")
    assert 'src="cid:skarmbild.png@01DB8C3A.5F1E2D40"' in sanitize_html(parsed.html)


def test_a_cid_image_the_html_does_not_show_is_a_plain_attachment():
    raw = corpus("inline_image.eml").replace(b"cid:skarmbild", b"cid:other")
    [image] = parse_email(raw).attachments
    assert image.is_inline is False


@pytest.mark.parametrize(
    ("name", "visible", "quoted_start"),
    [
        pytest.param(
            "reply_gmail.eml",
            "Tack, nu fungerar det igen!\n\n/Anna",
            "On Mon, 3 Mar 2025 at 10:30, Anna Agent at Acme Support <\nsupport@acme.example>"
            " wrote:",
            id="gmail",
        ),
        pytest.param(
            "reply_outlook.eml",
            "Hej,\n\nDet stämmer, fakturan är betald nu.\n\nMvh\nErik",
            "________________________________\nFrån: Acme Support <support@acme.example>",
            id="outlook",
        ),
        pytest.param(
            "reply_apple.eml",
            "Hej igen,\n\nPaketet kom fram idag, tack för hjälpen!\n\nMaja",
            "> 4 mars 2025 kl. 17:45 skrev Acme Support <support@acme.example>:",
            id="apple-mail",
        ),
    ],
)
def test_quoted_history_of_plain_text_replies(name, visible, quoted_start):
    parsed = parse_email(corpus(name))

    shown, quoted = split_quoted(parsed.text, html=False)

    assert shown == visible
    assert quoted.startswith(quoted_start)
    assert f"{shown}\n\n{quoted}" == parsed.text  # kept whole, only split


@pytest.mark.parametrize(
    ("name", "visible_words", "quoted_words"),
    [
        pytest.param(
            "reply_gmail.eml",
            ["Tack, nu fungerar det igen!", "/Anna"],
            ["wrote:", "Vi har återställt ditt lösenord."],
            id="gmail-div-gmail_quote",
        ),
        pytest.param(
            "reply_outlook.eml",
            ["Det stämmer, fakturan är betald nu."],
            ["<b>Från:</b>", "Vi ser ingen betalning för faktura 1001 ännu."],
            id="outlook-divRplyFwdMsg",
        ),
        pytest.param(
            "reply_apple.eml",
            ["Paketet kom fram idag, tack för hjälpen!"],
            ["4 mars 2025 kl. 17:45 skrev", "Paketet är skickat och bör vara framme i morgon."],
            id="apple-blockquote-cite",
        ),
    ],
)
def test_quoted_history_of_html_replies_is_marked_for_collapsing(name, visible_words, quoted_words):
    stored = sanitize_message_html(parse_email(corpus(name)).html)

    assert stored.count(QUOTED_OPEN) == 1
    shown, quoted = split_quoted(stored)
    for word in visible_words:
        assert word in shown
        assert word not in quoted
    for word in quoted_words:
        assert word in quoted
        assert word not in shown


def test_prose_that_mentions_writing_is_not_taken_for_quoted_history():
    text = "Den här gången skrev jag:\nmitt ordernummer är fel.\n\n> citat"
    assert split_quoted(text, html=False) == (
        "Den här gången skrev jag:\nmitt ordernummer är fel.",
        "> citat",
    )
    assert split_quoted("Hej!\nInget citat här.", html=False) == ("Hej!\nInget citat här.", "")


def test_sender_html_cannot_fake_the_quoted_marker():
    stored = sanitize_message_html('<p>Hej</p><div class="sd-quoted">inte citat</div>')
    assert QUOTED_OPEN not in stored
    assert split_quoted(stored) == (stored, "")


def test_broken_mime_raises_parse_error_and_lenient_reads_the_text():
    with pytest.raises(ParseError) as caught:
        parse_email(corpus("broken_mime.eml"))
    assert str(caught.value) == (
        "Broken MIME structure in a multipart/mixed part: the declared multipart boundary "
        "never occurs in the body"
    )

    lenient = parse_email(corpus("broken_mime.eml"), lenient=True)
    assert "Den deklarerade gr=C3=A4nsen finns inte i meddelandet." in lenient.text
    assert lenient.subject == "Trasig MIME"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        pytest.param(b"", "The message is empty.", id="empty"),
        pytest.param(b"just some bytes without headers", "The message has no headers.", id="junk"),
        pytest.param(
            b"To: support@acme.example\nSubject: x\n\nbody\n",
            "The message has no readable sender address (From).",
            id="no-sender",
        ),
    ],
)
def test_unreadable_messages(raw, error):
    with pytest.raises(ParseError) as caught:
        parse_email(raw)
    assert str(caught.value) == error


def test_missing_message_id_gets_a_stable_synthetic_id():
    raw = corpus("missing_message_id.eml")
    assert parse_email(raw).message_id == ""

    synthetic = message_id_of(raw)
    assert synthetic == synthetic_message_id(raw)
    assert synthetic.startswith("<")
    assert synthetic.endswith("@synthetic.svardesk.invalid>")
    # The same mail through another transport: CRLF line ends, an extra Received header.
    relayed = b"Received: from relay.example (relay.example [192.0.2.1])\r\n" + raw.replace(
        b"\n", b"\r\n"
    )
    assert message_id_of(relayed) == synthetic
    # Another body, or another sender, is another message.
    assert message_id_of(raw.replace(b"bara en g", b"tv\xc3\xa5 g")) != synthetic
    assert message_id_of(raw.replace(b"gunilla.nord@", b"gunnar.nord@")) != synthetic


def test_message_ids_are_normalised():
    assert message_id_of(corpus("plain.eml")) == "<CAK7plain001@mail.example.se>"
    assert parse_message_ids(f" <a@b>\n\t<c@d> {SIGNED_A} <a@b>") == ["<a@b>", "<c@d>", SIGNED_A]
    assert parse_message_ids("bare@id.example, other@id.example") == [
        "<bare@id.example>",
        "<other@id.example>",
    ]
    raw = build_raw(message_id="no-brackets@example.com")
    assert parse_email(raw).message_id == "<no-brackets@example.com>"


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        pytest.param(
            "text/plain; charset=x-klingon", "Räksmörgås".encode(), "Räksmörgås", id="unknown"
        ),
        pytest.param(
            "text/plain; charset=utf-8",
            "Räksmörgås".encode("cp1252"),
            "Räksmörgås",
            id="mislabelled",
        ),
        pytest.param(
            "text/plain; charset=us-ascii", "Räksmörgås".encode(), "Räksmörgås", id="ascii-utf8"
        ),
        pytest.param("text/plain", b"nul\x00byte", "nulbyte", id="nul-removed"),
        pytest.param(
            "text/plain; charset=iso-8859-1", b"pris 5 \x80", "pris 5 €", id="latin1-as-1252"
        ),
    ],
)
def test_charsets_are_decoded_gracefully(content_type, body, expected):
    raw = (
        b"From: a@example.com\nTo: support@acme.example\nSubject: s\nMessage-ID: <x@y>\n"
        b"Content-Type: " + content_type.encode() + b"\nContent-Transfer-Encoding: 8bit\n\n" + body
    )
    assert parse_email(raw).text == expected


def test_raw_8bit_headers_and_bad_encoded_words():
    raw = (
        "From: Örjan <o@example.com>\nTo: support@acme.example\n"
        "Subject: Rå rubrik =?x-unknown?Q?caf=E9?= =?utf-8?B?!!!?=\nMessage-ID: <h@y>\n\nx"
    ).encode()
    parsed = parse_email(raw)
    assert parsed.from_name == "Örjan"
    assert parsed.subject.startswith("Rå rubrik café")


def test_html_to_text_keeps_structure_and_drops_scripts():
    html = (
        "<p>Ett</p><script>x()</script><ul><li>a</li><li>b</li></ul><blockquote>citat</blockquote>"
    )
    assert html_to_text(html) == "Ett\n\n- a\n- b\n\n> citat"


# --- Loops ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        pytest.param(
            "Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied", id="auto-submitted"
        ),
        pytest.param(
            "Auto-Submitted: auto-generated; owner-email=x@y",
            "Auto-Submitted: auto-generated",
            id="auto-generated",
        ),
        pytest.param("Precedence: bulk", "Precedence: bulk", id="precedence-bulk"),
        pytest.param("Precedence: junk", "Precedence: junk", id="precedence-junk"),
        pytest.param("Precedence: list", "Precedence: list", id="precedence-list"),
        pytest.param("X-Autoreply: yes", "x-autoreply: yes", id="x-autoreply"),
        pytest.param("X-Autorespond: Semester", "x-autorespond: Semester", id="x-autorespond"),
        pytest.param(
            "X-Auto-Response-Suppress: OOF, AutoReply", "X-Auto-Response-Suppress", id="suppress"
        ),
        pytest.param("List-Id: <news.example.com>", "list-id", id="list-id"),
        pytest.param(
            "List-Unsubscribe: <mailto:u@example.com>", "list-unsubscribe", id="list-unsub"
        ),
        pytest.param("Return-Path: <>", "Return-Path: <>", id="null-sender"),
    ],
)
def test_auto_generated_headers(header, reason):
    verdict = loops.classify(parse_email(build_raw(extra_headers=header)))
    assert verdict.is_auto_generated is True
    assert verdict.reason == reason


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@mx.example.com", "postmaster@example.com", "no-reply@shop.example.com"],
)
def test_machine_senders_are_auto_generated(sender):
    assert loops.classify(parse_email(build_raw(sender=sender))).is_auto_generated


@pytest.mark.parametrize(
    "header",
    ["Auto-Submitted: no", "Precedence: first-class", "X-Autoreply: no", ""],
)
def test_a_person_writing_is_not_auto_generated(header):
    verdict = loops.classify(parse_email(build_raw(extra_headers=header)))
    assert verdict == loops.LoopVerdict(is_auto_generated=False)


def test_the_corpus_auto_reply_is_auto_generated_and_not_a_bounce():
    verdict = loops.classify(parse_email(corpus("auto_reply.eml")))
    assert verdict == loops.LoopVerdict(
        is_auto_generated=True, reason="Auto-Submitted: auto-replied", bounce=None
    )


def test_dsn_names_the_returned_message_and_the_diagnostic():
    verdict = loops.classify(parse_email(corpus("bounce_dsn.eml")))

    assert verdict.is_auto_generated
    assert verdict.bounce == loops.Bounce(
        original_message_ids=[SIGNED_D],
        failed=True,
        diagnostic=(
            "nobody@example.net 5.1.1 550 5.1.1 <nobody@example.net>: Recipient address "
            "rejected: User unknown in virtual mailbox table"
        ),
        recipients=["nobody@example.net"],
    )


def test_delayed_dsn_is_not_a_failure():
    raw = (
        corpus("bounce_dsn.eml")
        .replace(b"Action: failed", b"Action: delayed")
        .replace(b"Status: 5.1.1", b"Status: 4.4.1")
    )
    bounce = loops.classify(parse_email(raw)).bounce
    assert bounce is not None
    assert bounce.failed is False


def test_a_plain_mailer_daemon_notice_quoting_the_message_is_a_bounce():
    raw = build_raw(
        sender="MAILER-DAEMON@old.example.com",
        subject="failure notice",
        message_id="<daemon-1@old.example.com>",
        body=(
            "Hi. This is the qmail-send program at old.example.com.\n"
            "<x@example.net>:\nSorry, no mailbox here by that name.\n\n"
            f"--- Below this line is a copy of the message.\n\nMessage-ID: {SIGNED_D}\n"
        ),
    )
    bounce = loops.classify(parse_email(raw)).bounce
    assert bounce is not None
    assert bounce.original_message_ids == [SIGNED_D]
    assert bounce.failed is True
    assert "Sorry, no mailbox here by that name." in bounce.diagnostic


def test_a_named_text_part_is_an_attachment_not_body():
    raw = (
        b"From: a@example.com\nTo: support@acme.example\nSubject: s\nMessage-ID: <t@y>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain; charset=utf-8\n\nSe loggen.\n"
        b'--b\nContent-Type: text/plain; name="server.log"\n\nERROR 42\n'
        b"--b--\n"
    )
    parsed = parse_email(raw)
    assert parsed.text == "Se loggen."
    assert [(a.filename, a.payload) for a in parsed.attachments] == [("server.log", b"ERROR 42")]

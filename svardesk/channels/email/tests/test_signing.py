from svardesk.channels.email.signing import is_signed_message_id, make_message_id


def test_our_ids_verify_and_are_unique():
    first, second = make_message_id("acme.example"), make_message_id("acme.example")
    assert first != second
    assert first.startswith("<sd.")
    assert first.endswith("@acme.example>")
    assert is_signed_message_id(first)
    assert is_signed_message_id(first.strip("<>"))


def test_forged_or_foreign_ids_do_not_verify(settings):
    real = make_message_id("acme.example")
    token = real[4:28]
    assert not is_signed_message_id(f"<sd.{token}.{'0' * 20}@acme.example>")
    assert not is_signed_message_id("<CAF=abc@mail.gmail.com>")
    assert not is_signed_message_id("")
    settings.SECRET_KEY = "another install"
    assert not is_signed_message_id(real)

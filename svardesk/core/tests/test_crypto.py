import pytest

from svardesk.core.crypto import SecretDecryptionError, decrypt_secret, encrypt_secret


def test_a_secret_round_trips_and_is_not_stored_in_plain_text():
    token = encrypt_secret("imap password ÅÄÖ")
    assert "imap password" not in token
    assert token.isascii()
    assert decrypt_secret(token) == "imap password ÅÄÖ"
    assert encrypt_secret("imap password ÅÄÖ") != token  # random IV: equal secrets differ


def test_empty_stays_empty():
    assert encrypt_secret("") == ""
    assert decrypt_secret("") == ""


def test_another_secret_key_cannot_read_it(settings):
    token = encrypt_secret("hunter2")
    settings.SECRET_KEY = "a different install"
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(token)


def test_a_rotated_secret_key_reads_old_secrets_from_its_fallbacks(settings):
    old_key = settings.SECRET_KEY
    token = encrypt_secret("hunter2")
    settings.SECRET_KEY = "the new key"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert decrypt_secret(token) == "hunter2"
    assert decrypt_secret(encrypt_secret("new")) == "new"


def test_an_altered_value_is_refused():
    token = encrypt_secret("hunter2")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretDecryptionError):
        decrypt_secret(tampered)

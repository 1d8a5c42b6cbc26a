"""Secrets at rest (IMAP passwords, SMTP URLs with credentials): Fernet with a key derived from
the install's SECRET_KEY through HKDF.

Rotating SECRET_KEY keeps old secrets readable while the previous key is listed in
`SECRET_KEY_FALLBACKS`; new secrets are always encrypted with the current key.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from svardesk.core.exceptions import SvardeskError

_SALT = b"svardesk-secrets-v1"
_INFO = b"fernet key for stored credentials"


class SecretDecryptionError(SvardeskError):
    """A stored secret cannot be read: SECRET_KEY changed without keeping the old one as a
    fallback, or the stored value was altered."""


def _derive_key(secret_key: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=8)
def _fernet(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_derive_key(key)) for key in (secret_key, *fallbacks)])


def _current() -> MultiFernet:
    fallbacks = tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ())
    return _fernet(settings.SECRET_KEY, fallbacks)


def encrypt_secret(plaintext: str) -> str:
    """The encrypted form of `plaintext`, ASCII-safe for a text column; "" stays ""."""
    if not plaintext:
        return ""
    return _current().encrypt(plaintext.encode()).decode("ascii")


def decrypt_secret(token: str) -> str:
    """The plaintext of a value made by `encrypt_secret`; "" stays "".

    Raises SecretDecryptionError when no current or fallback key opens it."""
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SecretDecryptionError(
            "A stored credential cannot be decrypted; was SECRET_KEY changed?"
        ) from exc

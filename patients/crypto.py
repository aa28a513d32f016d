"""Encryption of PHI columns at rest, and the keyed hash used to compare SSNs.

django-encrypted-model-fields builds its Fernet keys once at import and, when a
value does not decrypt, quietly hands back the ciphertext as if it were the
value. For PHI that is wrong twice over: keys must be rotatable at run time,
and a wrong key must fail loudly. This module keeps the library's storage
format (Fernet tokens in a text column) and fixes both.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from encrypted_model_fields.fields import EncryptedCharField


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=1)
def _crypter_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY holds no key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more url-safe base64 Fernet keys, "
            "separated by commas."
        ) from exc


def crypter() -> MultiFernet:
    """The configured keys: the first encrypts, every one decrypts."""
    keys = settings.FIELD_ENCRYPTION_KEY
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    return _crypter_for(tuple(keys))


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting in {"FIELD_ENCRYPTION_KEY", "SSN_HASH_KEY", "SECRET_KEY"}:
        _crypter_for.cache_clear()
        _hash_key.cache_clear()


def encrypt(plaintext: str) -> str:
    return crypter().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return crypter().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError(
            "An encrypted column could not be decrypted with any key in FIELD_ENCRYPTION_KEY. "
            "The key is wrong, or the key that wrote it was removed before re-encryption."
        ) from exc


def reencrypt(token: str) -> str:
    """The same plaintext under the newest key (MultiFernet.rotate)."""
    try:
        return crypter().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("A stored value does not decrypt with any configured key.") from exc


@lru_cache(maxsize=1)
def _hash_key(configured: str, secret_key: str) -> bytes:
    if configured:
        return configured.encode("utf-8")
    # Derived from SECRET_KEY with a purpose label, so it is independent of the
    # encryption keys and rotating those never changes the hashes.
    return hashlib.sha256(b"healthcare.ssn-hash:" + secret_key.encode("utf-8")).digest()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of a canonical value: equal inputs compare equal, the value stays secret."""
    key = _hash_key(settings.SSN_HASH_KEY, settings.SECRET_KEY)
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


class StrictEncryptedCharField(EncryptedCharField):
    """Fernet-encrypted text column that raises on a wrong key instead of leaking ciphertext."""

    def to_python(self, value: Any) -> Any:
        # Values reaching to_python come from forms and code, never the database:
        # they are plaintext already.
        return super(EncryptedCharField, self).to_python(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return decrypt(value)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if value is None:
            return None
        return encrypt(str(value))

"""Encryption at rest for OAuth tokens: Fernet keys from settings.ENCRYPTION_KEYS, with rotation.

The first key encrypts; every key decrypts (MultiFernet), so a new key can be put in front and the
`rotate_encryption_keys` command re-encrypts existing rows before the old key is dropped.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables


class DecryptionError(Exception):
    """Ciphertext that none of the configured keys opens (a key was dropped too early)."""


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS is empty: Salesforce tokens cannot be stored. Set ENCRYPTION_KEYS to one or more "
            "comma-separated Fernet keys (`make run` writes one into .env; generate one with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).'
        )
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except (ValueError, TypeError):
        # Do not echo the key material in the message.
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None


def _keys() -> tuple[str, ...]:
    return tuple(k.strip() for k in getattr(settings, "ENCRYPTION_KEYS", []) if k and k.strip())


@sensitive_variables()
def encrypt(plaintext: str) -> str:
    return _multifernet(_keys()).encrypt(plaintext.encode()).decode()


@sensitive_variables()
def decrypt(ciphertext: str) -> str:
    try:
        return _multifernet(_keys()).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored token cannot be decrypted with any key in ENCRYPTION_KEYS.") from None


@sensitive_variables()
def rotate(ciphertext: str) -> str:
    """Re-encrypts with the first (newest) key; raises DecryptionError if no key opens it."""
    try:
        return _multifernet(_keys()).rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored token cannot be decrypted with any key in ENCRYPTION_KEYS.") from None


def primary_key_fingerprint() -> str:
    """A short, non-secret label for the key that encrypts, for command output."""
    import hashlib

    keys = _keys()
    if not keys:
        return "none"
    return hashlib.sha256(keys[0].encode()).hexdigest()[:8]

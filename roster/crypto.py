"""Encryption at rest for protected fields (date of birth, SSN).

Fernet (AES-128-CBC + HMAC-SHA256) with keys from settings.FIELD_ENCRYPTION_KEYS: the first
key encrypts; every key decrypts, so keys rotate by prepending a new one.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise RuntimeError("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(value: str) -> str:
    if value in (None, ""):
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise RuntimeError("A protected field could not be decrypted with the configured keys.")

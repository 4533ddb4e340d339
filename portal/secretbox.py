"""Secrets kept encrypted at rest (mailbox passwords, webhook signing secrets).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``). The key is ``DATA_ENCRYPTION_KEY``
(one or more Fernet keys separated by commas: the first encrypts, all decrypt, so keys can be
rotated) or, when that is unset, derived from ``SECRET_KEY`` with HKDF-SHA256. Changing
``SECRET_KEY`` without setting ``DATA_ENCRYPTION_KEY`` to the old derived key makes the stored
secrets unreadable: admins then enter them again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

__all__ = ["InvalidToken", "decrypt", "derived_key", "encrypt"]


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from ``SECRET_KEY`` (what ``DATA_ENCRYPTION_KEY`` defaults to)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"closeloop-secretbox",
               info=b"data-encryption-key").derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


def _box() -> MultiFernet:
    configured = current_app.config.get("DATA_ENCRYPTION_KEY")
    keys = [k.strip() for k in (configured or "").split(",") if k.strip()]
    if not keys:
        keys = [derived_key(current_app.config["SECRET_KEY"]).decode()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(plain: str) -> str:
    return _box().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """The plain text; raises ``InvalidToken`` when the key changed or the text was altered."""
    return _box().decrypt(token.encode()).decode()

"""Secrets at rest (OAuth tokens, restricted keys, webhook and embed secrets):
encrypted with MultiFernet, newest key first, so keys rotate without downtime."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer configured."""


def _fernet() -> MultiFernet:
    fernet = current_app.extensions.get("backstop.fernet")
    if fernet is None:
        fernet = MultiFernet([Fernet(k) for k in current_app.config["BACKSTOP"].fernet_keys])
        current_app.extensions["backstop.fernet"] = fernet
    return fernet


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("secret encrypted with an unknown key")


def rotate(token: str) -> str:
    """Re-encrypt under the newest key (``flask ops rotate-keys``)."""
    return _fernet().rotate(token.encode()).decode()

"""Secrets at rest (OAuth tokens, restricted keys, webhook and embed secrets):
encrypted with MultiFernet, newest key first, so keys rotate without downtime."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

#: How the schema names a column holding a MultiFernet token, and any column holding a
#: secret or its hash: the back office never shows them, an export never writes them.
ENCRYPTED_SUFFIXES = ("_enc", "_encrypted")
SECRET_SUFFIXES = (*ENCRYPTED_SUFFIXES, "_hash")


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer configured."""


@dataclass(frozen=True)
class _Keyring:
    keys: tuple[str, ...]
    each: tuple[Fernet, ...]
    multi: MultiFernet


def _keyring() -> _Keyring:
    # Cached per app, and rebuilt when the configured keys change (tests swap them).
    keys = tuple(current_app.config["BACKSTOP"].fernet_keys)
    ring: _Keyring | None = current_app.extensions.get("backstop.fernet")
    if ring is None or ring.keys != keys:
        each = tuple(Fernet(k) for k in keys)
        ring = _Keyring(keys, each, MultiFernet(list(each)))
        current_app.extensions["backstop.fernet"] = ring
    return ring


def _fernet() -> MultiFernet:
    return _keyring().multi


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("secret encrypted with an unknown key")


def rotate(token: str) -> str:
    """Re-encrypt under the newest key (``flask ops rotate-keys``)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("secret encrypted with an unknown key")


def key_index(token: str) -> int | None:
    """Which configured key opens ``token``: 0 for the newest, None for none of them.
    A Fernet token does not say which key made it, so each key is tried in turn."""
    raw = token.encode()
    for index, fernet in enumerate(_keyring().each):
        try:
            fernet.decrypt(raw)
        except InvalidToken:
            continue
        return index
    return None


def key_count() -> int:
    return len(_keyring().keys)


def key_fingerprint(index: int) -> str:
    """A short tag naming a configured key in reports (a hash prefix, never the key)."""
    return hashlib.sha256(_keyring().keys[index].encode()).hexdigest()[:8]

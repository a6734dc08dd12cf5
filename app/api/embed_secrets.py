"""A workspace's embed secret (it signs the requests merchants' pages make, DESIGN §8)
and the require-signature switch. Services: explicit arguments, flush, never commit."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..crypto import decrypt, encrypt
from .signing import EmbedSignatureError, SignatureMismatch, verify

log = logging.getLogger("backstop.embed")

PREFIX = "bk_embed_"


class SignatureRequired(EmbedSignatureError):
    """An unsigned request to a workspace that accepts signed requests only."""


def _new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def read(workspace: Workspace) -> str | None:
    """The secret in clear, or None before one was made. Raises
    :class:`app.crypto.SecretUnreadable` if it was encrypted with a retired key."""
    if workspace.embed_secret_enc is None:
        return None
    return decrypt(workspace.embed_secret_enc)


def ensure(session: Session, workspace: Workspace) -> str:
    """The workspace's secret, made on first need."""
    secret = read(workspace)
    if secret is None:
        secret = _store(session, workspace)
        log.info("embed.secret_created workspace=%s", workspace.id)
    return secret


def rotate(session: Session, workspace: Workspace) -> str:
    """A new secret; requests signed with the old one are refused from now on."""
    secret = _store(session, workspace)
    log.info("embed.secret_rotated workspace=%s", workspace.id)
    return secret


def _store(session: Session, workspace: Workspace) -> str:
    secret = _new_secret()
    workspace.embed_secret_enc = encrypt(secret)
    session.flush()
    return secret


def mask(secret: str) -> str:
    """What viewers see: enough to tell two secrets apart, not enough to sign."""
    return f"{PREFIX}{'•' * 16}{secret[-4:]}"


def set_signature_required(session: Session, workspace: Workspace, required: bool) -> None:
    workspace.is_embed_signature_required = required
    session.flush()
    log.info("embed.signature_required workspace=%s required=%s", workspace.id, required)


def authenticate(
    workspace: Workspace,
    *,
    customer: str,
    timestamp: object,
    signature: object,
    now: int,
    subscription: str | None = None,
) -> bool:
    """Whether the request was signed (True) or accepted unsigned (False); otherwise an
    :class:`EmbedSignatureError` saying why it is refused. ``now`` is epoch seconds."""
    if timestamp is None and signature is None:
        if workspace.is_embed_signature_required:
            raise SignatureRequired("this workspace accepts signed requests only")
        return False
    secret = read(workspace)
    if secret is None:
        raise SignatureMismatch("the signature does not match (no embed secret has been made yet)")
    verify(
        secret,
        customer=customer,
        timestamp=timestamp,
        signature=signature,
        now=now,
        subscription=subscription,
    )
    return True

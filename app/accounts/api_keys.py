"""API keys: made and revoked by owners and admins, shown once, stored as hashes.

A key reads ``bk_live_`` or ``bk_test_`` followed by 43 URL-safe characters (32 random
bytes). The prefix follows the workspace's Stripe connection when the key is made (live
mode or test mode; test mode when nothing is connected): a workspace's data is not split
by mode, so the prefix tells a key's owner which Stripe account it was made against.
Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict, Refusal
from ..stripe import connection as connection_service
from .models import ApiKey

LIVE_PREFIX, TEST_PREFIX = "bk_live_", "bk_test_"
SCOPES = ("read", "read_write")
#: How much of the secret stays visible in lists ("bk_live_AbCd…").
VISIBLE = 4
#: ``last_used_at`` is written at most this often (not a write per request).
TOUCH_EVERY = dt.timedelta(minutes=1)
NAME_MAX = 80


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    session: Session,
    workspace_id: int,
    *,
    name: str,
    scope: str,
    created_by_id: int | None,
) -> tuple[ApiKey, str]:
    """Make a key; returns the row and the secret (never stored, shown once)."""
    name = " ".join((name or "").split())
    problems = []
    if not name:
        problems.append("Give the key a name (what uses it).")
    elif len(name) > NAME_MAX:
        problems.append(f"Keep the name to {NAME_MAX} characters.")
    if scope not in SCOPES:
        problems.append("Choose read-only or read and write.")
    if problems:
        raise Refusal(*problems)
    conn = connection_service.of_workspace(session, workspace_id)
    mode = LIVE_PREFIX if conn is not None and conn.livemode else TEST_PREFIX
    secret = mode + secrets.token_urlsafe(32)
    key = ApiKey(
        workspace_id=workspace_id,
        name=name,
        prefix=secret[: len(mode) + VISIBLE],
        secret_hash=hash_secret(secret),
        scope=scope,
        created_by_id=created_by_id,
    )
    session.add(key)
    session.flush()
    return key, secret


def revoke(session: Session, key: ApiKey, *, now: dt.datetime) -> None:
    """Revoke for good: requests with the key get 401 from now on."""
    if key.revoked_at is not None:
        raise Conflict(f"The key “{key.name}” was already revoked.")
    key.revoked_at = now
    session.flush()


def listing(session: Session, workspace_id: int) -> list[ApiKey]:
    """The workspace's keys, active ones first, newest first."""
    return list(
        session.execute(
            select(ApiKey)
            .where(ApiKey.workspace_id == workspace_id)
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())
        ).scalars()
    )


def find(session: Session, secret: str) -> ApiKey | None:
    """The key whose secret this is, revoked or not; None if there is none."""
    if not secret.startswith((LIVE_PREFIX, TEST_PREFIX)) or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    key = session.execute(select(ApiKey).where(ApiKey.secret_hash == digest)).scalar_one_or_none()
    if key is None or not hmac.compare_digest(key.secret_hash, digest):
        return None
    return key


def authenticate(session: Session, secret: str) -> ApiKey | None:
    """The active key whose secret this is, or None (unknown, malformed or revoked)."""
    key = find(session, secret)
    return key if key is not None and key.revoked_at is None else None


def touch(session: Session, key: ApiKey, *, now: dt.datetime) -> bool:
    """Record that the key was used, at most once per :data:`TOUCH_EVERY`."""
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_EVERY:
        return False
    key.last_used_at = now
    session.flush()
    return True

"""``Idempotency-Key`` on POSTs, as Stripe has it: the first successful answer under a
key is kept for 24 hours and replayed for the same request; the same key with another
request (method, path or body) is refused with 400 and changes nothing.

The answer is stored in the request's own transaction, so it exists exactly when the
effect does. Two requests racing with one key meet on the table's unique key: the loser
is refused with 409 and rolled back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from flask import request
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import IDEMPOTENCY, ApiError
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
TTL = dt.timedelta(hours=24)
KEY_MAX = 255


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.path.encode() + b"\n")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > KEY_MAX or not key.isprintable() or key.strip() != key:
        raise ApiError(
            400,
            "idempotency_key_invalid",
            f"{HEADER} must be 1 to {KEY_MAX} printable characters (a UUID is a good choice).",
            type_=IDEMPOTENCY,
            param=HEADER,
        )
    return key


def run(
    session: Session,
    workspace_id: int,
    api_key_id: int,
    operation: Callable[[], tuple[BaseModel, int]],
    *,
    now: dt.datetime,
) -> tuple[Any, int, dict[str, str]]:
    """Run ``operation`` once per ``Idempotency-Key`` (or every time without one); returns
    the body, the status and extra headers."""
    key = _key()
    if key is None:
        body, status = operation()
        return body, status, {}
    fingerprint = _fingerprint()
    session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.workspace_id == workspace_id, IdempotentRequest.expires_at < now
        )
    )
    kept = session.execute(
        select(IdempotentRequest).where(
            IdempotentRequest.workspace_id == workspace_id, IdempotentRequest.key == key
        )
    ).scalar_one_or_none()
    if kept is not None:
        if kept.request_hash != fingerprint:
            raise ApiError(
                400,
                "idempotency_key_reused",
                f"This {HEADER} was used with another request in the last 24 hours; "
                "send a new key for a new request.",
                type_=IDEMPOTENCY,
                param=HEADER,
            )
        return kept.response_body, kept.status_code, {REPLAYED: "true"}
    body, status = operation()
    row = IdempotentRequest(
        workspace_id=workspace_id,
        api_key_id=api_key_id,
        key=key,
        request_hash=fingerprint,
        status_code=status,
        response_body=body.model_dump(mode="json"),
        created_at=now,
        expires_at=now + TTL,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise ApiError(
            409,
            "idempotency_key_in_use",
            f"Another request with this {HEADER} is being processed; retry in a moment.",
            type_=IDEMPOTENCY,
            param=HEADER,
        )
    return body, status, {}

"""Stripe answers the portal keeps so a page view asks Stripe nothing it already knows:
a subscription's upcoming invoice, the card on file, a price's name and amount, the
customer's tax ids. Each is valid while its ``basis`` (the mirror's version of what it
came from) is unchanged and it has not expired. Services flush, never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..times import aware
from .models import PortalCache

PRICE_TTL = dt.timedelta(days=1)
CARD_TTL = dt.timedelta(days=1)
UPCOMING_TTL = dt.timedelta(hours=12)
TAX_IDS_TTL = dt.timedelta(days=1)


def read_many(session: Session, workspace_id: int, keys: list[str]) -> dict[str, PortalCache]:
    if not keys:
        return {}
    rows = session.execute(
        select(PortalCache).where(
            PortalCache.workspace_id == workspace_id, PortalCache.key.in_(keys)
        )
    ).scalars()
    return {row.key: row for row in rows}


def fresh(row: PortalCache | None, basis: str, now: dt.datetime) -> bool:
    return (
        row is not None
        and row.basis == basis
        and (row.expires_at is None or aware(row.expires_at) > now)
    )


def store(
    session: Session,
    workspace_id: int,
    key: str,
    value: dict[str, Any],
    *,
    basis: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    expires_at: dt.datetime | None = None,
) -> None:
    until = now + ttl if expires_at is None else min(now + ttl, expires_at)
    row = session.execute(
        select(PortalCache).where(PortalCache.workspace_id == workspace_id, PortalCache.key == key)
    ).scalar_one_or_none()
    if row is None:
        row = PortalCache(workspace_id=workspace_id, key=key)
        try:
            with session.begin_nested():  # two page views of one customer at once
                row.basis, row.value, row.fetched_at, row.expires_at = basis, value, now, until
                session.add(row)
                session.flush()
            return
        except IntegrityError:
            row = session.execute(
                select(PortalCache).where(
                    PortalCache.workspace_id == workspace_id, PortalCache.key == key
                )
            ).scalar_one()
    row.basis, row.value, row.fetched_at, row.expires_at = basis, value, now, until
    session.flush()


def through(
    session: Session,
    workspace_id: int,
    known: dict[str, PortalCache],
    key: str,
    *,
    basis: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    fetch: Callable[[], tuple[dict[str, Any], dt.datetime | None]],
) -> dict[str, Any]:
    """The cached value of ``key``, or ``fetch()``'s (value, expiry) stored first."""
    row = known.get(key)
    if fresh(row, basis, now):
        assert row is not None
        return row.value
    value, expires_at = fetch()
    store(session, workspace_id, key, value, basis=basis, now=now, ttl=ttl, expires_at=expires_at)
    return value


def forget(session: Session, workspace_id: int, *keys: str) -> None:
    """Drop cached answers an action of ours just made stale."""
    session.execute(
        delete(PortalCache).where(
            PortalCache.workspace_id == workspace_id, PortalCache.key.in_(list(keys))
        )
    )

"""Stripe test clocks: what time it is for objects that live on one.

A merchant testing with a test clock expects Backstop's schedule to follow the clock
(a retry "in 3 days" runs when the clock has moved 3 days), so rows tied to a clock
are due against its ``frozen_time``. Live-mode objects never have a clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..times import aware
from .models import StripeTestClock


def record(session: Session, workspace_id: int, clock: dict[str, Any], source_created: int) -> None:
    """Keep the newest state of a clock from its ``test_helpers.test_clock.*`` event."""
    if not clock.get("id") or clock.get("frozen_time") is None:
        return
    query = select(StripeTestClock).where(
        StripeTestClock.workspace_id == workspace_id, StripeTestClock.stripe_id == clock["id"]
    )
    row = session.execute(query).scalar_one_or_none()
    frozen = dt.datetime.fromtimestamp(int(clock["frozen_time"]), dt.UTC)
    if row is None:
        row = StripeTestClock(
            workspace_id=workspace_id, stripe_id=clock["id"], frozen_time=frozen, source_created=-1
        )
        try:
            with session.begin_nested():  # its events may be processed by two workers at once
                session.add(row)
        except IntegrityError:
            row = session.execute(query).scalar_one()
    if source_created < row.source_created or aware(row.frozen_time) > frozen:
        return  # an older event: a clock only moves forward
    row.frozen_time = frozen
    row.status = clock.get("status") or "ready"
    row.source_created = source_created
    session.flush()


def ensure(session: Session, connection: Any, clock_id: str | None) -> None:
    """Learn a clock we have heard no event of yet (objects imported on connect)."""
    if not clock_id:
        return
    known = session.execute(
        select(StripeTestClock.id).where(
            StripeTestClock.workspace_id == connection.workspace_id,
            StripeTestClock.stripe_id == clock_id,
        )
    ).scalar_one_or_none()
    if known is None:
        from .client import client_for

        clock = client_for(connection).v1.test_helpers.test_clocks.retrieve(clock_id)
        record(
            session,
            connection.workspace_id,
            {"id": clock.id, "frozen_time": clock.frozen_time, "status": clock.status},
            source_created=0,
        )


def now_for(
    session: Session, workspace_id: int, clock_id: str | None, real_now: dt.datetime
) -> dt.datetime:
    """The time for an object on ``clock_id`` (or ``real_now`` when it has none)."""
    if not clock_id:
        return real_now
    frozen = session.execute(
        select(StripeTestClock.frozen_time).where(
            StripeTestClock.workspace_id == workspace_id, StripeTestClock.stripe_id == clock_id
        )
    ).scalar_one_or_none()
    return aware(frozen) if frozen is not None else real_now


def now_of(session: Session, row: Any, real_now: dt.datetime) -> dt.datetime:
    """The time for ``row`` (a campaign, a step, a notice: anything with ``workspace_id``
    and ``test_clock``): its clock's when it lives on one."""
    return now_for(session, row.workspace_id, row.test_clock, real_now)


def due_conditions(model: Any, now: dt.datetime) -> list[ColumnElement[bool]]:
    """The two claims of a schedule row that may live on a test clock: due by our clock,
    or due by its clock's time (the clock's ``frozen_time``)."""
    pending = model.status == "pending"
    on_clock = (
        select(StripeTestClock.id)
        .where(
            StripeTestClock.workspace_id == model.workspace_id,
            StripeTestClock.stripe_id == model.test_clock,
            StripeTestClock.frozen_time >= model.due_at,
        )
        .exists()
    )
    return [
        pending & model.test_clock.is_(None) & (model.due_at <= now),
        pending & model.test_clock.is_not(None) & on_clock,
    ]

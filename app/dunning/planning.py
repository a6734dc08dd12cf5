"""Writing a campaign's dunning touches into the recovery schedule: email steps beside
the retries, each due at 10:00 in the customer's timezone (DESIGN §7)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..recovery.models import CANCELLED, EMAIL, Campaign, Step
from ..recovery.planning import add_step
from .config import settings_for
from .sequences import plan_touches

#: A touch missed by more than this (recovery was paused over it) is skipped on resume
#: rather than sent late on top of the next one.
LATE_GRACE = dt.timedelta(hours=12)


def plan_for(session: Session, campaign: Campaign, *, now: dt.datetime) -> list[Step]:
    """Add the touches of the workspace's sequence the campaign does not have yet
    (none twice; cancelled ones count as not had, so a resume plans what is left)."""
    if not campaign.is_open:
        return []
    settings = settings_for(session, campaign.workspace_id)
    had = set(
        session.execute(
            select(Step.touch).where(
                Step.campaign_id == campaign.id, Step.kind == EMAIL, Step.status != CANCELLED
            )
        ).scalars()
    )
    touches = plan_touches(
        settings.sequence,
        campaign.opened_at,
        campaign.customer_tz,
        window_ends_at=campaign.window_ends_at,
    )
    missed = [t for t in touches if t.key not in had and t.at < now - LATE_GRACE]
    due = [t for t in touches if t.key not in had and t.at >= now - LATE_GRACE]
    written = []
    if missed and not had:
        # A failure we learn of late (a new connection's backfill): the customer still
        # hears from us now, once, with the latest touch they missed, never a burst.
        late = missed[-1]
        written.append(
            _write(
                session,
                campaign,
                late.key,
                now,
                f"{late.reason}; sent late: the failure was seen only now",
            )
        )
    for touch in due:
        written.append(_write(session, campaign, touch.key, max(touch.at, now), touch.reason))
    session.flush()
    return written


def _write(session: Session, campaign: Campaign, key: str, at: dt.datetime, reason: str) -> Step:
    step = add_step(session, campaign, EMAIL, at, reason)
    step.touch = key
    return step

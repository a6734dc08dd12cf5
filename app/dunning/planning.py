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


def plan_for(
    session: Session, campaign: Campaign, *, now: dt.datetime, late: str | None = None
) -> list[Step]:
    """Add the touches of the workspace's sequence the campaign does not have yet (none
    twice; cancelled ones count as not had, so a resume plans what is left). Touches
    already overdue (``late`` says why) are written due now: when they run, the catch-up
    rules send only the newest and skip the others, saying why."""
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
        early_first=campaign.is_high_value,
    )
    written = []
    for touch in touches:
        if touch.key in had:
            continue
        reason = touch.reason
        if touch.position == 1 and campaign.class_reason:
            reason = f"{reason}; {campaign.class_reason}"  # why the email, not a retry
        if touch.at < now:
            reason = f"{reason}; overdue when planned ({late or 'planned late'})"
        step = add_step(session, campaign, EMAIL, max(touch.at, now), reason)
        step.touch = touch.key
        written.append(step)
    session.flush()
    return written

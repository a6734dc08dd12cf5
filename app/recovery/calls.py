"""The "call this customer" tasks: open high-value campaigns nobody has called yet, and
marking one called (who, when, an optional note; audited). Any member of the workspace
may mark a call: whoever picked up the phone says so. Services flush only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import services as audit
from ..errors import Conflict, Refusal
from ..stripe.models import MirrorCustomer
from ..times import aware
from .high_value import Contact, contact_from
from .models import IN_FLIGHT, Campaign

MAX_NOTE = 500
#: The most tasks a dashboard card lists (the oldest failures first).
SHOWN = 20


class CallRefused(Refusal):
    """Marking this campaign called makes no sense."""


@dataclass(frozen=True)
class CallTask:
    campaign: Campaign
    contact: Contact
    waiting: str
    """How long since the failure, in words ("3 hours")."""


def waited(since: dt.datetime, now: dt.datetime) -> str:
    """``since`` to ``now`` in the largest whole unit: "just now", "5 minutes", "2 days"."""
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "just now"


def to_call(
    session: Session, workspace_id: int, *, now: dt.datetime, limit: int = SHOWN
) -> list[CallTask]:
    """Open high-value campaigns not called yet, oldest failure first, with the
    customer's name, email and phone from the mirror when known."""
    rows = session.execute(
        select(Campaign, MirrorCustomer)
        .outerjoin(
            MirrorCustomer,
            (MirrorCustomer.workspace_id == Campaign.workspace_id)
            & (MirrorCustomer.stripe_id == Campaign.customer_stripe_id),
        )
        .where(
            Campaign.workspace_id == workspace_id,
            Campaign.state == IN_FLIGHT,
            Campaign.is_high_value.is_(True),
            Campaign.called_at.is_(None),
        )
        .order_by(Campaign.opened_at, Campaign.id)
        .limit(limit)
    ).all()
    return [
        CallTask(campaign, contact_from(customer), waited(aware(campaign.opened_at), now))
        for campaign, customer in rows
    ]


def mark_called(
    session: Session,
    campaign: Campaign,
    *,
    actor_id: int | None,
    actor_label: str,
    note: str,
    now: dt.datetime,
) -> Campaign:
    """Record that someone called the customer of a high-value campaign (once)."""
    note = " ".join((note or "").split())
    if not campaign.is_high_value:
        raise CallRefused("This payment is not high-value: there is no call to record.")
    if len(note) > MAX_NOTE:
        raise CallRefused(f"The note is {len(note)} characters; keep it under {MAX_NOTE}.")
    if campaign.called_at is not None:
        raise Conflict(
            f"{campaign.called_by or 'Someone'} already marked this customer called "
            f"on {campaign.called_at:%B %-d at %H:%M} UTC."
        )
    campaign.called_at = now
    campaign.called_by = actor_label
    campaign.call_note = note or None
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="recovery.customer_called",
        target_type="campaign",
        target_id=str(campaign.id),
        workspace_id=campaign.workspace_id,
        note=note or None,
    )
    session.flush()
    return campaign

"""Pause and resume one campaign (the REST API's ``/campaigns/{id}/pause``): the same
effect as the workspace's pause switch (``campaigns.pause``/``resume``), for one
campaign. A paused campaign stays open: a payment still closes it, and its 30-day window
still runs. Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from ..audit import services as audit
from ..errors import Conflict
from ..schedule import kinds
from ..stripe import clocks
from . import campaigns, config, planning
from .models import EMAIL, RETRY, Campaign

log = logging.getLogger("backstop.recovery")


def _refuse_closed(campaign: Campaign, doing: str) -> None:
    if not campaign.is_open:
        raise Conflict(f"The campaign is {campaign.state}: there is nothing to {doing}.")


def pause_one(session: Session, campaign: Campaign, *, actor: str, now: dt.datetime) -> int:
    """Stop this campaign's retries and emails until it is resumed; returns how many
    planned steps were cancelled. Pausing a paused campaign changes nothing."""
    campaigns.lock(session, campaign)
    _refuse_closed(campaign, "pause")
    if campaign.is_paused:
        return 0
    campaign.is_paused = True
    campaign.paused_at = now
    campaign.paused_by = actor
    # As the workspace's pause: the retries and every message to the customer.
    stopped = (RETRY, EMAIL, *(k.name for k in kinds.registered() if k.is_customer_message))
    cancelled = planning.cancel_pending(
        session, campaign, f"campaign paused by {actor}", kinds=stopped
    )
    session.flush()
    log.info(
        "recovery.campaign_paused workspace=%s campaign=%s actor=%s cancelled=%s",
        campaign.workspace_id,
        campaign.id,
        actor,
        cancelled,
    )
    return cancelled


def resume_one(session: Session, campaign: Campaign, *, actor: str, now: dt.datetime) -> int:
    """Resume this campaign and plan anew from now (nothing while the workspace or the
    service is paused); returns how many steps were planned."""
    campaigns.lock(session, campaign)
    _refuse_closed(campaign, "resume")
    if not campaign.is_paused:
        return 0
    campaign.is_paused = False
    campaign.paused_at = None
    campaign.paused_by = None
    session.flush()
    paused = config.pause_reason(session, campaign.workspace_id, campaign)
    at = clocks.now_of(session, campaign, now)
    planned = len(
        planning.replan(
            session,
            campaign,
            now=at,
            policy=config.policy_for(session, campaign.workspace_id),
            paused=paused,
        )
    )
    if not paused:
        planned += len(campaigns.plan_kinds(session, campaign, now=at, late="campaign resumed"))
    session.flush()
    log.info(
        "recovery.campaign_resumed workspace=%s campaign=%s actor=%s planned=%s",
        campaign.workspace_id,
        campaign.id,
        actor,
        planned,
    )
    return planned


def switch(
    session: Session,
    campaign: Campaign,
    *,
    pause: bool,
    actor_id: int | None,
    actor_label: str,
    now: dt.datetime,
    **details: object,
) -> None:
    """Pause or resume ``campaign`` for a merchant (the campaign page's button, or the
    API), audited with whether anything changed; ``details`` go on the audit entry."""
    was_paused = campaign.is_paused
    if pause:
        pause_one(session, campaign, actor=actor_label, now=now)
    else:
        resume_one(session, campaign, actor=actor_label, now=now)
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label[:254],
        action="recovery.campaign.pause" if pause else "recovery.campaign.resume",
        target_type="campaign",
        target_id=str(campaign.id),
        workspace_id=campaign.workspace_id,
        changed=was_paused != campaign.is_paused,
        **details,
    )

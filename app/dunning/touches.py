"""Sending one dunning touch when its step comes due: re-read the invoice, pick the copy
for the decline, issue the touch's own card-update link and send (DESIGN §7)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from ..accounts.branding import brand
from ..accounts.models import Workspace
from ..money import format_money
from ..recovery.models import Campaign, Step
from ..stripe import cards
from ..stripe.models import StripeConnection
from . import links
from .config import settings_for
from .copy import EXPLANATIONS, copy_for, fill, variant_for
from .mailing import send_to_customer
from .sequences import PAUSE_OFFER_FROM_DAY, find_touch

log = logging.getLogger("backstop.dunning")
TEMPLATE = "dunning"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def context_for(
    workspace: Workspace,
    campaign: Campaign,
    *,
    key: str,
    sequence: str,
    overrides: dict[str, Any],
    customer_name: str | None,
    link_url: str,
    at: dt.datetime,
    pause_days: int | None = None,
    paused_until: dt.datetime | None = None,
) -> dict[str, Any]:
    """Everything the ``dunning`` template shows, as plain values (also the preview's)."""
    position, count = find_touch(sequence, key) or (1, 1)
    variant = variant_for(campaign.decline_class, campaign.decline_code or campaign.failure_code)
    explanation = EXPLANATIONS[variant]
    deadline = campaign.window_ends_at.astimezone(_zone(campaign.customer_tz))
    values = {
        "name": (customer_name or "").split(" ")[0] or "there",
        "merchant": workspace.name,
        "amount": format_money(campaign.amount_minor, campaign.currency),
        "deadline": f"{deadline:%B} {deadline.day}",
    }
    text = copy_for(overrides, key, position, count, paused=paused_until is not None)
    return {
        "brand": brand(workspace),
        "subject": fill(text.subject, values),
        "message": fill(text.message, values),
        "headline": explanation.headline,
        "explanation": fill(explanation.body, values),
        "button_label": explanation.button,
        "button_url": link_url,
        "variant": variant,
        "amount": values["amount"],
        "merchant": workspace.name,
        "touch": key,
        "is_final": position == count,
        "offers_pause": bool(pause_days)
        and sequence == "extended"
        and int(key[1:]) >= PAUSE_OFFER_FROM_DAY
        and paused_until is None,
        "pause_days": pause_days,
        "paused_until": paused_until.strftime("%B %-d, %Y") if paused_until else None,
        "link_days": links.LINK_TTL.days,
    }


def send_touch(
    session: Session,
    connection: StripeConnection,
    step: Step,
    *,
    now: dt.datetime,
    at: dt.datetime,
) -> tuple[str, str]:
    """Send the touch of ``step``; returns (outcome, detail) for the timeline. ``now`` is
    real time (links expire in it); ``at`` is the campaign's (its test clock's)."""
    campaign = step.campaign
    workspace = session.get(Workspace, campaign.workspace_id)
    assert workspace is not None
    settings = settings_for(session, workspace.id)
    contact = cards.customer_contact(connection, campaign.customer_stripe_id)
    if not contact.email:
        return "skipped", "the customer has no email address in Stripe"
    position = find_touch(settings.sequence, step.touch or "")
    is_final = position is not None and position[0] == position[1]
    paused_until = None
    if (
        is_final
        and settings.sequence == "extended"
        and settings.pause_days
        and (campaign.subscription_stripe_id)
    ):
        paused_until = at + dt.timedelta(days=settings.pause_days)
        cards.pause_subscription(
            connection, campaign.subscription_stripe_id, paused_until, key=f"step:{step.id}:pause"
        )
    _link, token = links.issue(
        session,
        workspace.id,
        purpose="dunning",
        customer_id=campaign.customer_stripe_id,
        email=contact.email,
        campaign_id=campaign.id,
        invoice_id=campaign.invoice_stripe_id,
        subscription_id=campaign.subscription_stripe_id,
        step_id=step.id,
        now=now,
    )
    context = context_for(
        workspace,
        campaign,
        key=step.touch or "d0",
        sequence=settings.sequence,
        overrides=settings.copy or {},
        customer_name=contact.name,
        link_url=links.url_for_token(token),
        at=at,
        pause_days=settings.pause_days,
        paused_until=paused_until,
    )
    message = send_to_customer(
        session,
        workspace,
        template=TEMPLATE,
        to=contact.email,
        context=context,
        customer_id=campaign.customer_stripe_id,
        campaign_id=campaign.id,
    )
    log.info(
        "dunning.touch workspace=%s campaign=%s touch=%s message=%s status=%s",
        workspace.id,
        campaign.id,
        step.touch,
        message.id,
        message.status,
    )
    if message.status == "blocked":
        return "blocked", f"not sent: {message.error}"
    paused = f"; subscription paused until {context['paused_until']}" if paused_until else ""
    return "sent", f"emailed {contact.email} ({context['variant'].replace('_', ' ')} copy){paused}"

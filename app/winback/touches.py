"""Running a due step of a win-back campaign: a touch (re-check everything at that
moment, then write with copy that follows the cancel reason and a fresh signed link) or
the close after the last touch's window. As a touch's message leaves, the outbox asks
again whether the campaign still wants it (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.branding import brand
from ..accounts.models import Workspace
from ..dunning.mailing import send_to_customer
from ..i18n import N_
from ..i18n import services as i18n
from ..outbox import services as outbox
from ..outbox.touch_guard import TouchGuard
from ..schedule import catchup, claims
from ..stripe import cards, clocks
from ..stripe import winback as stripe_winback
from ..stripe.models import StripeConnection
from . import campaigns, links, policy
from .copy import copy_for, fill
from .models import CLOSE, EMAIL, ENDED, STOPPED, WinbackCampaign, WinbackStep
from .settings import delays_of, settings_for

log = logging.getLogger("backstop.winback")
TEMPLATE = "winback"
PENDING_STATES = campaigns.PENDING_STATES
_PER = {"day": N_("a day"), "week": N_("a week"), "month": N_("a month"), "year": N_("a year")}


def finish(
    step: WinbackStep, outcome: str, detail: str, *, at: dt.datetime, status: str = "done"
) -> str:
    claims.finish(step, outcome, detail, at=at)
    step.status = status
    return outcome


def run(
    session: Session, connection: StripeConnection | None, step: WinbackStep, *, now: dt.datetime
) -> str:
    """Run a claimed step; returns its outcome. ``now`` is real time (links expire in
    it); the campaign's own time is its test clock's."""
    campaign = step.campaign
    at = clocks.now_of(session, campaign, now)
    if not campaign.is_open:
        return finish(
            step, "cancelled", f"the campaign is {campaign.state}", at=at, status="cancelled"
        )
    if step.kind == CLOSE:
        campaigns.close(
            session,
            campaign,
            ENDED,
            reason="no return within the window after the last email",
            at=at,
        )
        return finish(step, "closed", "the window ended: campaign over", at=at)
    settings = settings_for(session, campaign.workspace_id)
    if settings.is_paused:
        campaigns.close(session, campaign, STOPPED, reason="win-back is paused", at=at)
        return finish(step, "stopped", "win-back is paused", at=at, status="cancelled")
    if connection is None or not connection.is_connected:
        campaigns.close(session, campaign, STOPPED, reason="Stripe is disconnected", at=at)
        return finish(step, "stopped", "Stripe is disconnected", at=at, status="cancelled")
    newer = _newer_due(session, step, at)
    if newer is not None:
        return finish(
            step, "skipped", f"skipped: the {policy.touch_label(newer)} was due as well", at=at
        )
    held = catchup.held_until(campaign.last_touch_at, at)
    if held is not None:
        step.status, step.due_at, step.lease_until, step.attempts = "pending", held, None, 0
        step.outcome_detail = "held: the campaign's last email went out less than 24 h before"
        return "held"
    live = stripe_winback.live_subscriptions(connection, campaign.customer_stripe_id)
    if live:
        campaigns.on_returned(session, campaign, live[0], via_link=False, at=at)
        return finish(
            step, "cancelled", "the customer is subscribed again", at=at, status="cancelled"
        )
    return send(session, connection, step, settings=settings, now=now, at=at)


def _newer_due(session: Session, step: WinbackStep, at: dt.datetime) -> int | None:
    """A later touch of the same campaign that is due too (an outage, a late import):
    only the newest goes."""
    return session.execute(
        select(WinbackStep.number)
        .where(
            WinbackStep.campaign_id == step.campaign_id,
            WinbackStep.kind == EMAIL,
            WinbackStep.number > step.number,
            WinbackStep.status.in_(PENDING_STATES),
            WinbackStep.due_at <= at,
        )
        .order_by(WinbackStep.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def send(
    session: Session,
    connection: StripeConnection,
    step: WinbackStep,
    *,
    settings: Any,
    now: dt.datetime,
    at: dt.datetime,
) -> str:
    campaign = step.campaign
    workspace = session.get(Workspace, campaign.workspace_id)
    assert workspace is not None
    contact = cards.customer_contact(connection, campaign.customer_stripe_id)
    if not contact.email:
        return finish(step, "skipped", "the customer has no email address in Stripe", at=at)
    suppressed = outbox.suppression_for(session, workspace.id, contact.email)
    if suppressed is not None:
        campaigns.close(
            session, campaign, STOPPED, reason=f"the address is {suppressed.reason}", at=at
        )
        return finish(
            step, "stopped", f"the address is {suppressed.reason}", at=at, status="cancelled"
        )
    _link, token = links.issue(session, campaign, now=now, step_id=step.id)
    language = i18n.for_customer(session, workspace.id, campaign.customer_stripe_id)
    context = context_for(
        workspace,
        campaign,
        number=step.number,
        count=len(delays_of(settings)),
        settings=settings,
        customer_name=contact.name,
        link_url=links.url(session, workspace.id, token),
        language=language,
    )
    message = send_to_customer(
        session,
        workspace,
        template=TEMPLATE,
        to=contact.email,
        context=context,
        customer_id=campaign.customer_stripe_id,
        step_id=step.id,
        language=language,
    )
    step.message_id = message.id
    log.info(
        "winback.touch workspace=%s campaign=%s touch=%s message=%s status=%s",
        workspace.id,
        campaign.id,
        step.number,
        message.id,
        message.status,
    )
    if message.status == "blocked":
        return finish(step, "blocked", f"not sent: {message.error}", at=at)
    campaign.touches_sent += 1
    campaign.last_touch_at = at
    return finish(step, "sent", f"emailed {contact.email}", at=at)


def context_for(
    workspace: Workspace,
    campaign: WinbackCampaign,
    *,
    number: int,
    count: int,
    settings: Any,
    customer_name: str | None,
    link_url: str,
    language: i18n.Translator | None = None,
) -> dict[str, Any]:
    """Everything the ``winback`` template shows, as plain values (also the preview's)."""
    language = language or i18n.translator()
    price = language.money(campaign.amount_minor, campaign.currency)
    per = language.translate(_PER.get(campaign.interval, _PER["month"]))
    price_text = f"{price} {per}" if campaign.interval_count == 1 else price
    values = {
        # Translators: stands for the customer's name when we don't know it ("Hi there").
        "name": (customer_name or "").split(" ")[0] or language.gettext("there"),
        "merchant": workspace.name,
        "plan": campaign.plan_name or workspace.name,
        "price": price_text,
    }
    key = policy.copy_key(campaign.kind, campaign.reason)
    text = copy_for(settings.copy or {}, key, number, count, translate=language.translate)
    offer = policy.offer_for(
        settings.offer_percent,
        settings.offer_months,
        settings.offer_to,
        campaign.reason,
        campaign.kind,
    )
    return {
        "brand": brand(workspace),
        "subject": fill(text.subject, values),
        "headline": fill(text.subject, values),
        "message": fill(text.message, values),
        "plan": values["plan"],
        "price": price_text,
        "offer": describe_offer(offer, language) if offer else None,
        "button_label": language.gettext("Restart my subscription"),
        "button_url": link_url,
        "link_days": links.LINK_TTL.days,
        "touch": number,
        "reason": key,
    }


def describe_offer(offer: policy.Offer, language: i18n.Translator) -> str:
    return language.ngettext(
        "%(percent)d%% off for %(num)d month",
        "%(percent)d%% off for %(num)d months",
        offer.months,
        percent=offer.percent,
    )


# -- the moment the message leaves --------------------------------------------------------------


#: Re-checks a touch's message as it leaves, and notes it on the step.
GUARD = TouchGuard(
    WinbackStep, "winback.email", "win-back", lambda s, ws: settings_for(s, ws).is_paused
)

"""The pause offer, a step kind of the schedule: when a campaign's retries and reminder
emails are exhausted, one more email offers the customer a pause instead of losing the
subscription (Settings → Emails, off by default). Its link opens a hosted page where one
tap pauses collection and forgives the unpaid invoice (:mod:`app.dunning.pausing`).

Planned after the last touch and inside the 30-day window (:mod:`app.dunning.offers`);
as a customer message it follows the catch-up rules and the gap between two emails, and
its message is re-checked as it leaves like a touch's.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.branding import brand
from ..accounts.models import Workspace
from ..i18n import services as i18n
from ..recovery.models import CANCELLED, Campaign, Step
from ..recovery.planning import add_step
from ..schedule import kinds
from ..stripe import billing, cards
from ..stripe import subscriptions as stripe_subs
from ..stripe.models import StripeConnection
from ..times import zone
from . import links
from .config import message_gap, settings_for
from .mailing import send_to_customer
from .offers import plan_pause_offer
from .sequences import plan_touches

log = logging.getLogger("backstop.dunning")
NAME = "pause_offer"
TEMPLATE = "dunning_pause_offer"
PURPOSE = "pause_offer"


def plan_for(
    session: Session, campaign: Campaign, *, now: dt.datetime, late: str | None = None
) -> list[Step]:
    """The campaign's pause offer when the workspace makes one and the campaign has none
    yet (a cancelled one counts as none: a resume plans it again). When the window leaves
    no room for it, a skipped step says so on the timeline."""
    settings = settings_for(session, campaign.workspace_id)
    if not campaign.is_open or not settings.pause_offer_days:
        return []
    had = session.execute(
        select(Step.id).where(
            Step.campaign_id == campaign.id, Step.kind == NAME, Step.status != CANCELLED
        )
    ).first()
    if had is not None:
        return []
    touches = plan_touches(
        settings.sequence,
        campaign.opened_at,
        campaign.customer_tz,
        window_ends_at=campaign.window_ends_at,
    )
    offer = plan_pause_offer(
        touches[-1].at,
        campaign.window_ends_at,
        campaign.customer_tz,
        gap=message_gap(session, campaign.workspace_id),
        last_label=touches[-1].label,
    )
    if offer.at is None:
        step = add_step(session, campaign, NAME, touches[-1].at, offer.reason)
        step.finish("skipped", offer.reason, at=now)
        session.flush()
        return [step]
    reason = offer.reason
    if offer.at < now:
        reason = f"{reason}; overdue when planned ({late or 'planned late'})"
    step = add_step(session, campaign, NAME, max(offer.at, now), reason)
    session.flush()
    return [step]


def context_for(
    workspace: Workspace,
    campaign: Campaign,
    *,
    customer_name: str | None,
    plan_name: str | None,
    pause_days: int,
    resumes_at: dt.datetime,
    link_url: str,
    language: i18n.Translator | None = None,
) -> dict[str, Any]:
    """Everything the ``dunning_pause_offer`` email shows, as plain values (also the
    preview's), in ``language``."""
    language = language or i18n.translator()
    resumes_local = resumes_at.astimezone(zone(campaign.customer_tz))
    return {
        "brand": brand(workspace),
        # Translators: stands for the customer's name when we don't know it ("Hi there").
        "name": (customer_name or "").split(" ")[0] or language.gettext("there"),
        "merchant": workspace.name,
        "plan": plan_name or workspace.name,
        "amount": language.money(campaign.amount_minor, campaign.currency),
        "pause_days": pause_days,
        "resumes_on": language.date(resumes_local),
        "button_url": link_url,
        "link_days": links.LINK_TTL.days,
    }


def send_offer(
    session: Session,
    connection: StripeConnection,
    step: Step,
    *,
    now: dt.datetime,
    at: dt.datetime,
    invoice: billing.InvoiceFacts | None = None,
) -> kinds.Done:
    """Send the pause offer of ``step`` (the runner has re-checked the campaign and the
    invoice), unless the subscription cannot take a pause; says why on the timeline."""
    campaign = step.campaign
    workspace = session.get(Workspace, campaign.workspace_id)
    assert workspace is not None
    days = settings_for(session, workspace.id).pause_offer_days
    if not days:
        return kinds.Done("skipped", "skipped: the pause offer was turned off in Settings")
    if not campaign.subscription_stripe_id:
        return kinds.Done("skipped", "skipped: the customer has no subscription to pause")
    sub = stripe_subs.read_subscription(connection, campaign.subscription_stripe_id)
    why_not = unpausable(sub)
    if why_not:
        return kinds.Done("skipped", f"skipped: {why_not}")
    contact = cards.customer_contact(connection, campaign.customer_stripe_id)
    if not contact.email:
        return kinds.Done("skipped", "the customer has no email address in Stripe")
    link, token = links.issue(
        session,
        workspace.id,
        purpose=PURPOSE,
        customer_id=campaign.customer_stripe_id,
        email=contact.email,
        campaign_id=campaign.id,
        invoice_id=campaign.invoice_stripe_id,
        subscription_id=campaign.subscription_stripe_id,
        step_id=step.id,
        now=now,
    )
    link.pause_days = days
    language = i18n.for_customer(session, workspace.id, campaign.customer_stripe_id)
    context = context_for(
        workspace,
        campaign,
        customer_name=contact.name,
        plan_name=sub.plan_name,
        pause_days=days,
        resumes_at=at + dt.timedelta(days=days),
        link_url=links.url_for_token(session, workspace.id, token, path="pause-offer"),
        language=language,
    )
    message = send_to_customer(
        session,
        workspace,
        template=TEMPLATE,
        to=contact.email,
        context=context,
        customer_id=campaign.customer_stripe_id,
        campaign_id=campaign.id,
        step_id=step.id,
        language=language,
    )
    log.info(
        "dunning.pause_offer workspace=%s campaign=%s message=%s status=%s",
        workspace.id,
        campaign.id,
        message.id,
        message.status,
    )
    if message.status == "blocked":
        return kinds.Done("blocked", f"not sent: {message.error}")
    return kinds.Done("sent", f"emailed {contact.email}: a {days}-day pause instead")


def unpausable(sub: stripe_subs.SubscriptionFacts) -> str | None:
    """Why the subscription cannot take the offer, or None."""
    if sub.is_cancelled:
        return "the subscription has ended"
    if sub.cancel_at_period_end:
        return "the subscription is already set to cancel"
    if sub.is_paused:
        return "the subscription is paused already"
    return None


def rank(step: Step) -> tuple[int, int]:
    return (0, step.id)


KIND = kinds.StepKind(
    name=NAME,
    decide=send_offer,
    label=lambda step: "the pause offer email",
    plan=plan_for,
    rank=rank,
    message_gap=message_gap,
)

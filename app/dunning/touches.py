"""The email touch, a step kind of the schedule: when its step comes due (the runner
has re-checked the campaign and the invoice) pick the copy for the decline, issue the
touch's own card-update link and send; as the message leaves, check again that the
campaign still wants it (DESIGN §4, §7)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session

from ..accounts.branding import brand
from ..accounts.models import Workspace
from ..events import services as events
from ..i18n import services as i18n
from ..outbox.models import OutboxMessage
from ..recovery import config as recovery_config
from ..recovery.models import EMAIL, Campaign, Step
from ..schedule import kinds
from ..stripe import billing, cards, mirror
from ..stripe import connection as stripe_connection
from ..stripe.models import StripeConnection
from ..times import zone
from . import links, planning, subject_tests
from .config import message_gap, settings_for
from .copy import EXPLANATIONS, copy_for, fill, variant_for
from .mailing import send_to_customer
from .models import DunningSettings
from .offers import discount_words
from .sequences import PAUSE_OFFER_FROM_DAY, find_touch, touch_day, touch_label

log = logging.getLogger("backstop.dunning")
TEMPLATE = "dunning"


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
    language: i18n.Translator | None = None,
    discount: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Everything the ``dunning`` template shows, as plain values (also the preview's),
    in ``language`` (English when not given); the merchant's own copy stays as written.
    ``discount``: the last-chance offer (percent, months) the final touch carries."""
    language = language or i18n.translator()
    position, count = find_touch(sequence, key) or (1, 1)
    variant = variant_for(campaign.decline_class, campaign.decline_code or campaign.failure_code)
    explanation = EXPLANATIONS[variant]
    deadline = campaign.window_ends_at.astimezone(zone(campaign.customer_tz))
    values = {
        # Translators: stands for the customer's name when we don't know it ("Hi there").
        "name": (customer_name or "").split(" ")[0] or language.gettext("there"),
        "merchant": workspace.name,
        "amount": language.money(campaign.amount_minor, campaign.currency),
        "deadline": language.date(deadline, "day_month"),
    }
    text = copy_for(
        overrides,
        key,
        position,
        count,
        paused=paused_until is not None,
        translate=language.translate,
    )
    return {
        "brand": brand(workspace),
        "subject": fill(text.subject, values),
        "message": fill(text.message, values),
        "headline": language.translate(explanation.headline),
        "explanation": fill(language.translate(explanation.body), values),
        "button_label": language.translate(explanation.button),
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
        "paused_until": language.date(paused_until) if paused_until else None,
        "link_days": links.LINK_TTL.days,
        "discount_percent": discount[0] if discount and position == count else None,
        "discount_months": discount[1] if discount and position == count else None,
    }


def send_touch(
    session: Session,
    connection: StripeConnection,
    step: Step,
    *,
    now: dt.datetime,
    at: dt.datetime,
    invoice: billing.InvoiceFacts | None = None,
) -> kinds.Done:
    """Send the touch of ``step``; returns what came of it for the timeline. ``now`` is
    real time (links expire in it); ``at`` is the campaign's (its test clock's)."""
    campaign = step.campaign
    workspace = session.get(Workspace, campaign.workspace_id)
    assert workspace is not None
    settings = settings_for(session, workspace.id)
    contact = cards.customer_contact(connection, campaign.customer_stripe_id)
    if not contact.email:
        return kinds.Done("skipped", "the customer has no email address in Stripe")
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
    discount = last_chance_offer(settings) if is_final and paused_until is None else None
    link, token = links.issue(
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
    if discount is not None:
        link.discount_percent, link.discount_months = discount
    language = i18n.for_customer(session, workspace.id, campaign.customer_stripe_id)
    context = context_for(
        workspace,
        campaign,
        key=step.touch or "d0",
        sequence=settings.sequence,
        overrides=subject_tests.copy_for_step(session, settings, campaign, step),
        customer_name=contact.name,
        link_url=links.url_for_token(session, workspace.id, token),
        at=at,
        pause_days=settings.pause_days,
        paused_until=paused_until,
        language=language,
        discount=discount,
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
        "dunning.touch workspace=%s campaign=%s touch=%s message=%s status=%s",
        workspace.id,
        campaign.id,
        step.touch,
        message.id,
        message.status,
    )
    if message.status == "blocked":
        return kinds.Done("blocked", f"not sent: {message.error}")
    paused = f"; subscription paused until {paused_until:%B %-d, %Y}" if paused_until else ""
    offer = f"; last chance: {discount_words(*discount)} if paid now" if discount else ""
    arm = f" with subject {step.subject_arm.upper()} of its test" if step.subject_arm else ""
    return kinds.Done("sent", f"emailed {contact.email}{arm}{paused}{offer}")


def last_chance_offer(settings: DunningSettings) -> tuple[int, int] | None:
    """The workspace's last-chance discount as (percent, months), or None when off."""
    if settings.discount_percent and settings.discount_months:
        return settings.discount_percent, settings.discount_months
    return None


# -- the moment the message leaves --------------------------------------------------------------


def still_wanted(session: Session, message: OutboxMessage, *, now: dt.datetime) -> str | None:
    """Why a touch's stored message must not leave any more: its campaign closed, or the
    invoice was paid or closed in Stripe since (re-read unless an event newer than the
    message already told us), or recovery was paused."""
    step = session.get(Step, message.step_id) if message.step_id is not None else None
    if step is None:
        return None
    campaign = step.campaign
    if not campaign.is_open:
        return f"the campaign was {campaign.state} before the email left"
    paused = recovery_config.pause_reason(session, campaign.workspace_id, campaign)
    if paused:
        return f"{paused} before the email left"
    connection = stripe_connection.connected(session, campaign.workspace_id)
    if connection is None:
        return "Stripe was disconnected before the email left"
    status = mirror.invoice_status_since(
        session, campaign.workspace_id, campaign.invoice_stripe_id, message.created_at
    )
    if status is None:
        status = billing.read_invoice(connection, campaign.invoice_stripe_id).status
    if status != "open":
        return f"the invoice was {status} before the email left"
    return None


def note_dropped(
    session: Session, message: OutboxMessage, reason: str, *, now: dt.datetime
) -> None:
    """The touch's timeline entry says the email never left, and why."""
    step = session.get(Step, message.step_id) if message.step_id is not None else None
    if step is not None:
        step.outcome = "dropped"
        step.outcome_detail = f"not sent: {reason}"[:500]
        _emit(session, "dunning.email.dropped", step, message, reason=reason)
    log.info("dunning.touch.dropped workspace=%s message=%s", message.workspace_id, message.id)


def note_sent(session: Session, message: OutboxMessage, *, now: dt.datetime) -> None:
    step = session.get(Step, message.step_id) if message.step_id is not None else None
    if step is not None:
        _emit(session, "dunning.email.sent", step, message)


def _emit(session: Session, name: str, step: Step, message: OutboxMessage, **data: str) -> None:
    events.emit(
        session,
        step.workspace_id,
        name,
        subject=f"message:{message.id}",
        data={
            "campaign_id": step.campaign_id,
            "step_id": step.id,
            "touch": step.touch,
            "customer": message.customer_stripe_id,
            "to": message.to_email,
            **data,
        },
    )


# -- the kind -------------------------------------------------------------------------------


def rank(step: Step) -> tuple[int, int]:
    """Later touches outrank earlier ones (``d7`` over ``d3``)."""
    return (touch_day(step.touch or "d0"), step.id)


def label(step: Step) -> str:
    """The touch as the timeline names it in a sentence: "the second reminder email"."""
    session = Session.object_session(step)
    assert session is not None
    sequence = settings_for(session, step.workspace_id).sequence
    return f"the {touch_label(sequence, step.touch or 'd0')}"


KIND = kinds.StepKind(
    name=EMAIL,
    decide=send_touch,
    label=label,
    plan=planning.plan_for,
    rank=rank,
    message_gap=message_gap,
)

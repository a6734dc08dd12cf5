"""Running a due step of a checkout-recovery campaign: a reminder (re-check everything
at that moment: the campaign, the pause, Stripe, a checkout completed meanwhile, the
recovery link's life, the address's suppression; then write with the plan, its price
and the button to Stripe's recovery URL) or the close after the last reminder's window.
As a reminder leaves, the outbox asks again whether the campaign still wants it."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.branding import brand
from ..accounts.models import Workspace
from ..dunning.config import settings_for as mail_settings_for
from ..dunning.mailing import send_to_customer
from ..i18n import N_
from ..i18n import services as i18n
from ..i18n.locales import SUPPORTED
from ..outbox import services as outbox
from ..outbox.touch_guard import TouchGuard
from ..schedule import claims
from ..stripe import checkout as stripe_checkout
from ..stripe import clocks
from ..stripe.models import StripeConnection
from . import campaigns, policy
from .copy import copy_for, fill
from .models import CLOSE, EMAIL, ENDED, STOPPED, CheckoutRecoveryCampaign, CheckoutRecoveryStep
from .settings import settings_for

log = logging.getLogger("backstop.checkout_recovery")
TEMPLATE = "checkout_recovery"
PENDING_STATES = campaigns.PENDING_STATES
_PER = {"day": N_("a day"), "week": N_("a week"), "month": N_("a month"), "year": N_("a year")}
Step = CheckoutRecoveryStep


def finish(step: Step, outcome: str, detail: str, *, at: dt.datetime, status: str = "done") -> str:
    claims.finish(step, outcome, detail, at=at)
    step.status = status
    return outcome


def run(
    session: Session, connection: StripeConnection | None, step: Step, *, now: dt.datetime
) -> str:
    """Run a claimed step; returns its outcome. The campaign's time is its test clock's."""
    campaign = step.campaign
    at = clocks.now_of(session, campaign, now)
    if not campaign.is_open:
        return finish(
            step, "cancelled", f"the campaign is {campaign.state}", at=at, status="cancelled"
        )
    if step.kind == CLOSE:
        campaigns.close(session, campaign, ENDED, reason="no checkout within the window", at=at)
        return finish(step, "closed", "the window ended: campaign over", at=at)
    settings = settings_for(session, campaign.workspace_id)
    stop = _stop_reason(settings, connection, campaign, at)
    if stop is not None:
        state, why = stop
        campaigns.close(session, campaign, state, reason=why, at=at)
        return finish(step, "stopped", why, at=at, status="cancelled")
    assert connection is not None
    newer = _newer_due(session, step, at)
    if newer is not None:
        return finish(
            step, "skipped", f"skipped: the {policy.touch_label(newer)} was due as well", at=at
        )
    since = campaign.expired_at - dt.timedelta(days=1)
    for done in stripe_checkout.completed_since(connection, campaign.customer_stripe_id, since):
        if policy.same_purchase(
            campaign.price_ids,
            campaign.email,
            campaign.customer_stripe_id,
            prices=done.price_ids,
            email=policy.email_of(done.raw, None),
            customer=done.customer_id,
        ):
            completed_at = stripe_checkout._epoch(done.raw.get("created")) or at
            campaigns.on_completed(
                session, campaign, done, at=max(completed_at, campaign.expired_at)
            )
            return finish(
                step, "cancelled", "the customer has checked out", at=at, status="cancelled"
            )
    return send(session, step, at=at)


def _stop_reason(
    settings: Any,
    connection: StripeConnection | None,
    campaign: CheckoutRecoveryCampaign,
    at: dt.datetime,
) -> tuple[str, str] | None:
    if settings.is_paused:
        return STOPPED, "checkout recovery is paused"
    if connection is None or not connection.is_connected:
        return STOPPED, "Stripe is disconnected"
    expires = campaign.recovery_expires_at
    if expires is not None and at >= expires:
        return ENDED, "the recovery link expired"
    return None


def _newer_due(session: Session, step: Step, at: dt.datetime) -> int | None:
    return session.execute(
        select(Step.number)
        .where(
            Step.campaign_id == step.campaign_id,
            Step.kind == EMAIL,
            Step.number > step.number,
            Step.status.in_(PENDING_STATES),
            Step.due_at <= at,
        )
        .order_by(Step.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def language_for(session: Session, campaign: CheckoutRecoveryCampaign) -> i18n.Translator:
    """The session's own locale when we speak it (the page was in it), else the
    customer's or the workspace's language."""
    locale = (campaign.locale or "").split("-")[0].lower()
    if locale in SUPPORTED:
        return i18n.translator_for(session, campaign.workspace_id, locale)
    return i18n.for_customer(session, campaign.workspace_id, campaign.customer_stripe_id)


def send(session: Session, step: Step, *, at: dt.datetime) -> str:
    campaign = step.campaign
    workspace = session.get(Workspace, campaign.workspace_id)
    assert workspace is not None
    suppressed = outbox.suppression_for(session, workspace.id, campaign.email)
    if suppressed is not None:
        why = f"the address is {suppressed.reason}"
        campaigns.close(session, campaign, STOPPED, reason=why, at=at)
        return finish(step, "stopped", why, at=at, status="cancelled")
    language = language_for(session, campaign)
    settings = settings_for(session, workspace.id)
    context = context_for(
        workspace, campaign, number=step.number, settings=settings, language=language
    )
    if campaign.customer_stripe_id:
        message = send_to_customer(
            session,
            workspace,
            template=TEMPLATE,
            to=campaign.email,
            context=context,
            customer_id=campaign.customer_stripe_id,
            step_id=step.id,
            language=language,
        )
    else:  # an email-only checkout: no Stripe customer, so no billing portal to link
        mail = mail_settings_for(session, workspace.id)
        sender = outbox.sender_for(session, workspace.id, mail.from_name or workspace.name)
        message = outbox.send(
            session,
            template=TEMPLATE,
            to=campaign.email,
            context=context,
            from_email=sender.from_addr,
            workspace_id=workspace.id,
            reply_to=mail.reply_to,
            step_id=step.id,
            blocked=sender.blocked,
            locale=language.locale,
            overrides=language.overrides,
        )
    step.message_id = message.id
    log.info(
        "checkout_recovery.touch workspace=%s campaign=%s touch=%s message=%s status=%s",
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
    return finish(step, "sent", f"emailed {campaign.email}", at=at)


def context_for(
    workspace: Workspace,
    campaign: CheckoutRecoveryCampaign,
    *,
    number: int,
    settings: Any,
    language: i18n.Translator | None = None,
    button_url: str | None = None,
) -> dict[str, Any]:
    """Everything the ``checkout_recovery`` template shows, as plain values (also the
    settings page's preview)."""
    language = language or i18n.translator()
    price = language.money(campaign.amount_minor, campaign.currency)
    per = language.translate(_PER.get(campaign.interval, _PER["month"]))
    price_text = f"{price} {per}" if campaign.interval_count == 1 else price
    values = {
        # Translators: stands for the customer's name when we don't know it ("Hi there").
        "name": (campaign.customer_name or "").split(" ")[0] or language.gettext("there"),
        "merchant": workspace.name,
        "plan": campaign.plan_name or workspace.name,
        "price": price_text,
    }
    text = copy_for(settings.copy or {}, number, translate=language.translate)
    return {
        "brand": brand(workspace),
        "subject": fill(text.subject, values),
        "headline": fill(text.subject, values),
        "message": fill(text.message, values),
        "plan": values["plan"],
        "price": price_text,
        "button_label": language.gettext("Finish checking out"),
        "button_url": button_url or campaign.recovery_url,
        "touch": number,
    }


# -- the moment the message leaves --------------------------------------------------------------


#: Re-checks a touch's message as it leaves, and notes it on the step.
GUARD = TouchGuard(
    CheckoutRecoveryStep,
    "checkout.recovery.email",
    "checkout recovery",
    lambda s, ws: settings_for(s, ws).is_paused,
)

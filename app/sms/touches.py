"""The text touch, a step kind of the recovery schedule beside the email touches: when
its step comes due (the runner has re-checked the campaign and the invoice, and kept
the 24-hour gap between messages) check consent, the STOP list, quiet hours and the
monthly cap, then store the text with its own card-update link; as it leaves, check
again that the campaign still wants it (DESIGN §4, §7)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..dunning import links
from ..i18n import services as i18n
from ..recovery import config as recovery_config
from ..recovery.models import CANCELLED, Campaign, Step
from ..recovery.planning import add_step
from ..schedule import kinds
from ..stripe import billing, mirror, phones
from ..stripe import connection as stripe_connection
from ..stripe.models import StripeConnection
from ..times import zone
from . import config, copy, policy, services
from .models import SmsMessage

log = logging.getLogger("backstop.sms")
SMS = "sms"
PURPOSE = "dunning"


# -- planning --------------------------------------------------------------------------------


def plan_for(
    session: Session, campaign: Campaign, *, now: dt.datetime, late: str | None = None
) -> list[Step]:
    """Add the texts of the workspace's days the campaign does not have yet, when texts
    are on. Consent and the number are checked when each is due, not here (the merchant
    may record consent in the meantime); a customer without them sees a skipped text."""
    if not campaign.is_open:
        return []
    row = config.settings_for(session, campaign.workspace_id)
    if not row.is_enabled or not row.touch_days:
        return []
    had = set(
        session.execute(
            select(Step.touch).where(
                Step.campaign_id == campaign.id, Step.kind == SMS, Step.status != CANCELLED
            )
        ).scalars()
    )
    planned = policy.plan_texts(
        row.touch_days,
        campaign.opened_at,
        campaign.customer_tz,
        window_ends_at=campaign.window_ends_at,
    )
    written = []
    for position, (key, day, at) in enumerate(planned, start=1):
        if key in had:
            continue
        label = policy.position_label(position, len(planned))
        when = "on the first day of the reminders"
        if day:
            when = f"{day} day{'s' if day > 1 else ''} into the reminders"
        reason = f"{label} ({position} of {len(planned)}): {when}, at 10:00 the customer's time"
        if at < now:
            reason = f"{reason}; overdue when planned ({late or 'planned late'})"
        step = add_step(session, campaign, SMS, max(at, now), reason)
        step.touch = key
        written.append(step)
    session.flush()
    return written


# -- deciding ----------------------------------------------------------------------------------


def send_text(
    session: Session,
    connection: StripeConnection,
    step: Step,
    *,
    now: dt.datetime,
    at: dt.datetime,
    invoice: billing.InvoiceFacts | None = None,
) -> kinds.Verdict:
    """Decide the text of ``step`` and store it; ``now`` is real time (links expire in
    it), ``at`` the campaign's (its test clock's)."""
    campaign = step.campaign
    workspace = session.get(Workspace, campaign.workspace_id)
    assert workspace is not None
    row = config.settings_for(session, workspace.id)
    done = _already_written(session, step)
    if done is not None:
        return done
    if not row.is_enabled:
        return kinds.Done("skipped", "skipped: texts are turned off (Settings → Text messages)")
    contact = phones.customer_phone(connection, campaign.customer_stripe_id)
    if not policy.has_consent(contact.metadata):
        return kinds.Done(
            "skipped",
            f"skipped: the customer has not agreed to texts ({policy.CONSENT_KEY} is not set)",
        )
    if not contact.phone:
        return kinds.Done("skipped", "skipped: the customer has no phone number in Stripe")
    phone = policy.normalise_phone(contact.phone, contact.country)
    if phone is None:
        return kinds.Done(
            "skipped", "skipped: the customer's phone number is not a valid international number"
        )
    stopped = services.opted_out(session, workspace.id, phone)
    if stopped is not None:
        return kinds.Done("skipped", "skipped: the customer replied STOP to texts")
    until = policy.next_allowed(
        at, campaign.customer_tz, row.quiet_start_minute, row.quiet_end_minute
    )
    if until is not None:
        local = until.astimezone(zone(campaign.customer_tz))
        moved = (
            f"moved to {local:%H:%M} the customer's time: quiet hours "
            f"{config.quiet_words(row)} ({campaign.customer_tz})"
        )
        if moved not in step.reason:
            step.reason = f"{step.reason}; {moved}"[:500]
        return kinds.Hold(until, f"held: {moved}")
    config.lock(session, row)  # texts deciding at once count the cap in turn
    month = policy.month_of(at, workspace.timezone)
    used = services.used_in(session, workspace.id, month)
    if used >= row.monthly_cap:
        return kinds.Done(
            "skipped",
            f"skipped: this month's cap of {row.monthly_cap} texts was reached "
            "(Settings → Text messages)",
        )
    _link, token = links.issue(
        session,
        workspace.id,
        purpose=PURPOSE,
        customer_id=campaign.customer_stripe_id,
        campaign_id=campaign.id,
        invoice_id=campaign.invoice_stripe_id,
        subscription_id=campaign.subscription_stripe_id,
        step_id=step.id,
        now=now,
    )
    language = i18n.for_customer(session, workspace.id, campaign.customer_stripe_id)
    body = copy.reminder(
        merchant=workspace.name,
        amount=language.money(campaign.amount_minor, campaign.currency),
        link=links.url_for_token(session, workspace.id, token),
        is_first=_is_first(session, step),
        translate=language.translate,
    )
    message = services.store(
        session,
        row,
        purpose=PURPOSE,
        to=phone,
        body=body,
        month=month,
        locale=language.locale,
        customer_id=campaign.customer_stripe_id,
        campaign_id=campaign.id,
        step_id=step.id,
        blocked=config.blocked_reason(row),
    )
    log.info(
        "sms.touch workspace=%s campaign=%s touch=%s message=%s status=%s",
        workspace.id,
        campaign.id,
        step.touch,
        message.id,
        message.status,
    )
    if message.status == "blocked":
        return kinds.Done("blocked", f"not sent: {message.error}")
    return kinds.Done("sent", services.describe(message))


def _already_written(session: Session, step: Step) -> kinds.Done | None:
    """A step run again (its lease ran out while another worker had it) finds its text
    stored and ends as that run did: one text per step, whatever the runs."""
    message = session.execute(
        select(SmsMessage).where(SmsMessage.step_id == step.id)
    ).scalar_one_or_none()
    if message is None:
        return None
    if message.status == "blocked":
        return kinds.Done("blocked", f"not sent: {message.error}")
    return kinds.Done("sent", services.describe(message))


def _is_first(session: Session, step: Step) -> bool:
    """Whether no text of this campaign went before this one."""
    earlier = session.execute(
        select(SmsMessage.id)
        .where(SmsMessage.campaign_id == step.campaign_id, SmsMessage.step_id != step.id)
        .limit(1)
    ).scalar_one_or_none()
    return earlier is None


# -- the moment the text leaves -------------------------------------------------------------


def still_wanted(session: Session, message: SmsMessage) -> str | None:
    """Why a touch's stored text must not leave any more: the campaign closed, recovery
    was paused, texts were turned off, or the invoice was paid or closed in Stripe since
    (re-read unless an event newer than the text already told us)."""
    step = session.get(Step, message.step_id) if message.step_id is not None else None
    if step is None:
        return None
    campaign = step.campaign
    if not campaign.is_open:
        return f"the campaign was {campaign.state} before the text left"
    paused = recovery_config.pause_reason(session, campaign.workspace_id)
    if paused:
        return f"{paused} before the text left"
    if not config.settings_for(session, campaign.workspace_id).is_enabled:
        return "texts were turned off before the text left"
    connection = stripe_connection.connected(session, campaign.workspace_id)
    if connection is None:
        return "Stripe was disconnected before the text left"
    status = mirror.invoice_status_since(
        session, campaign.workspace_id, campaign.invoice_stripe_id, message.created_at
    )
    if status is None:
        status = billing.read_invoice(connection, campaign.invoice_stripe_id).status
    if status != "open":
        return f"the invoice was {status} before the text left"
    return None


# -- the kind ---------------------------------------------------------------------------------


def rank(step: Step) -> tuple[int, int]:
    """Later texts outrank earlier ones (``d5`` over ``d1``)."""
    return (int((step.touch or "d0").removeprefix("d")), step.id)


def label(step: Step) -> str:
    """The text as the timeline names it in a sentence: "the first reminder text"."""
    session = Session.object_session(step)
    assert session is not None
    days = config.settings_for(session, step.workspace_id).touch_days or []
    day = int((step.touch or "d0").removeprefix("d"))
    if day in days:
        return f"the {policy.position_label(sorted(days).index(day) + 1, len(days))}"
    return f"the reminder text of day {day}"


def message_gap(session: Session, workspace_id: int) -> dt.timedelta:
    """Texts keep the email's gap: no two messages of a campaign within it (DESIGN §4)."""
    from ..dunning.config import message_gap as email_gap

    return email_gap(session, workspace_id)


KIND = kinds.StepKind(
    name=SMS,
    decide=send_text,
    label=label,
    plan=plan_for,
    rank=rank,
    message_gap=message_gap,
)

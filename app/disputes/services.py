"""Disputes as Stripe's events tell them: the mirror row, its four signals and likely
cause, and the evidence draft members review. Services flush, never commit."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Conflict, Refusal
from ..events import services as events
from ..stripe import disputes as stripe_disputes
from ..stripe.models import StripeConnection
from . import evidence, policy, records
from .models import CLOSED_STATUSES, Dispute

log = logging.getLogger("backstop.disputes")

CREATED, CLOSED = "dispute.created", "dispute.closed"


def _epoch(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value else None


def find(session: Session, workspace_id: int, stripe_id: str) -> Dispute | None:
    return session.execute(
        select(Dispute).where(Dispute.workspace_id == workspace_id, Dispute.stripe_id == stripe_id)
    ).scalar_one_or_none()


def _apply(dispute: Dispute, obj: dict[str, Any], created: int) -> bool:
    """Copy Stripe's state when the event is not older than what we have."""
    if created < (dispute.source_created or 0):
        return False
    details = obj.get("evidence_details") or {}
    card = (obj.get("payment_method_details") or {}).get("card") or {}
    dispute.status = obj.get("status") or dispute.status
    dispute.reason = obj.get("reason") or dispute.reason or "general"
    dispute.amount_minor = int(obj.get("amount") or dispute.amount_minor or 0)
    dispute.currency = (obj.get("currency") or dispute.currency or "usd").lower()
    dispute.due_by = _epoch(details.get("due_by")) or dispute.due_by
    dispute.is_past_due = bool(details.get("past_due"))
    dispute.network = card.get("brand") or dispute.network
    dispute.network_reason_code = card.get("network_reason_code") or dispute.network_reason_code
    if details.get("submission_count") and dispute.submitted_at is None:
        dispute.submitted_at = _epoch(created)
        dispute.submitted_by = dispute.submitted_by or "in Stripe"
    dispute.source_created = created
    return True


def on_event(
    session: Session, connection: StripeConnection, obj: dict[str, Any], created: int
) -> Dispute | None:
    """``charge.dispute.created|updated|closed|funds_*``: mirror the dispute; a new one is
    classified and gets its evidence draft (and its automatic submission, if on)."""
    if not obj.get("id") or not obj.get("charge"):
        return None
    ws = connection.workspace_id
    dispute = find(session, ws, obj["id"])
    was_closed = dispute is not None and dispute.is_closed
    if dispute is None:
        dispute = _open(session, connection, obj, created)
        if dispute is None:
            dispute = find(session, ws, obj["id"])  # another worker made it meanwhile
            if dispute is None:
                return None
    elif not _apply(dispute, obj, created):
        return dispute
    if dispute.is_closed and not was_closed:
        _closed(session, dispute, at=_epoch(created) or dt.datetime.now(dt.UTC))
    session.flush()
    return dispute


def _open(
    session: Session, connection: StripeConnection, obj: dict[str, Any], created: int
) -> Dispute | None:
    charge = stripe_disputes.read_charge(connection, obj["charge"])
    invoice = None
    if charge.customer_id and charge.payment_intent_id:
        invoice = stripe_disputes.invoice_of_payment(
            connection, charge.customer_id, charge.payment_intent_id
        )
    from ..stripe import clocks

    clock = None
    if charge.customer_id:
        clock = stripe_disputes.customer_clock(connection, charge.customer_id)
        clocks.ensure(session, connection, clock)
    dispute = Dispute(
        workspace_id=connection.workspace_id,
        stripe_id=obj["id"],
        charge_stripe_id=obj["charge"],
        payment_intent_stripe_id=charge.payment_intent_id,
        customer_stripe_id=charge.customer_id,
        invoice_stripe_id=invoice.id if invoice else None,
        test_clock=clock,
        status="needs_response",
        reason="general",
        amount_minor=0,
        currency="usd",
        charged_at=charge.created,
        opened_at=_epoch(obj.get("created")) or _epoch(created) or dt.datetime.now(dt.UTC),
        network=charge.brand,
        signals={
            "billing_reason": invoice.billing_reason if invoice else None,
            "period": _period(charge.created, invoice),
        },
    )
    _apply(dispute, obj, created)
    try:
        with session.begin_nested():
            session.add(dispute)
            session.flush()
    except IntegrityError:
        return None
    assess(session, dispute)
    events.emit(
        session,
        dispute.workspace_id,
        CREATED,
        subject=f"dispute:{dispute.id}",
        data=event_data(dispute),
        occurred_at=dispute.opened_at,
    )
    from . import submitting

    submitting.plan(session, dispute)
    log.info("disputes.opened workspace=%s dispute=%s", dispute.workspace_id, dispute.stripe_id)
    return dispute


def _period(charged: dt.datetime, invoice: Any) -> list[str]:
    """The disputed service period: the invoice's line period, else the month before."""
    start = invoice.period_start if invoice and invoice.period_start else None
    end = invoice.period_end if invoice and invoice.period_end else None
    if start is None or end is None or end <= start:
        start, end = charged - records.DEFAULT_PERIOD, charged
    return [start.isoformat(), end.isoformat()]


def period_of(dispute: Dispute) -> tuple[dt.datetime, dt.datetime]:
    start, end = (dispute.signals or {}).get("period") or [None, None]
    if not start or not end:
        at = dispute.charged_at or dispute.opened_at
        return at - records.DEFAULT_PERIOD, at
    return dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)


def _closed(session: Session, dispute: Dispute, *, at: dt.datetime) -> None:
    dispute.closed_at = at
    from . import submitting

    submitting.cancel(session, dispute, "the dispute closed")
    events.emit(
        session,
        dispute.workspace_id,
        CLOSED,
        subject=f"dispute:{dispute.id}",
        data={**event_data(dispute), "outcome": dispute.status},
        occurred_at=at,
    )


def event_data(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute": dispute.stripe_id,
        "charge": dispute.charge_stripe_id,
        "customer": dispute.customer_stripe_id,
        "amount": dispute.amount_minor,
        "currency": dispute.currency,
        "reason": dispute.reason,
        "status": dispute.status,
        "network": dispute.network,
        "likely_cause": dispute.likely_cause,
        "recommended_action": dispute.recommended_action,
        "due_by": dispute.due_by.isoformat() if dispute.due_by else None,
    }


# -- signals, classification and the draft -------------------------------------------------------


def facts_of(session: Session, dispute: Dispute) -> evidence.Facts:
    return records.gather(session, dispute, period=period_of(dispute))


def assess(
    session: Session, dispute: Dispute, facts: evidence.Facts | None = None
) -> evidence.Facts:
    """Work out the four signals and the likely cause, and (re)assemble the draft,
    keeping the fields a member edited."""
    facts = facts or facts_of(session, dispute)
    start, end = period_of(dispute)
    signals = policy.Signals(
        usage=records.usage(facts, start, end),
        cancel_attempt=records.cancel_attempt(facts, dispute.charged_at or dispute.opened_at),
        support_contact=records.contact(dispute.support_contact),
        timing=records.timing((dispute.signals or {}).get("billing_reason")),
        reason=dispute.reason,
    )
    verdict = policy.classify(signals)
    dispute.signals = {
        **(dispute.signals or {}),
        "usage": signals.usage.value,
        "usage_sources": list(facts.sources),
        "cancel_attempt": signals.cancel_attempt.value,
        "support_contact": signals.support_contact.value,
        "timing": signals.timing.value,
        "why": verdict.why,
    }
    dispute.likely_cause = verdict.cause.value
    dispute.recommended_action = verdict.action.value
    if dispute.is_open:
        fresh = evidence.assemble(facts)
        kept = {k: v for k, v in (dispute.evidence or {}).items() if k in dispute.edited_fields}
        dispute.evidence = {**fresh, **kept}
    session.flush()
    return facts


def save_draft(
    session: Session,
    dispute: Dispute,
    fields: dict[str, str],
    *,
    support_contact: str | None,
    support_note: str | None,
) -> None:
    """A member's edits of the draft and the support-contact signal."""
    if not dispute.is_open:
        raise Conflict("This dispute's evidence was already submitted or the dispute closed.")
    problems = [
        f"{evidence.FIELD_LABELS[k]} is longer than {evidence.FIELD_LIMIT:,} characters"
        for k, v in fields.items()
        if len(v) > evidence.FIELD_LIMIT
    ]
    total = sum(len(v) for v in fields.values())
    if total > evidence.TOTAL_LIMIT:
        problems.append(f"all fields together are longer than {evidence.TOTAL_LIMIT:,} characters")
    if support_contact not in (None, "yes", "no"):
        problems.append("say whether the customer contacted support: yes, no, or not known")
    if problems:
        raise Refusal(*problems)
    current = dispute.evidence or {}
    edited = set(dispute.edited_fields or [])
    edited |= {k for k, v in fields.items() if v != current.get(k, "")}
    dispute.evidence = {k: v for k, v in {**current, **fields}.items() if v.strip()}
    dispute.edited_fields = sorted(edited)
    dispute.support_contact = support_contact
    dispute.support_note = (support_note or "").strip()[:2000] or None
    assess(session, dispute)


def refresh_open(session: Session, workspace_id: int) -> int:
    """Re-assess every open dispute of a workspace (its policy links changed)."""
    rows = session.execute(
        select(Dispute).where(
            Dispute.workspace_id == workspace_id,
            Dispute.status.not_in(CLOSED_STATUSES),
            Dispute.submitted_at.is_(None),
        )
    ).scalars()
    count = 0
    for dispute in rows:
        assess(session, dispute)
        count += 1
    return count

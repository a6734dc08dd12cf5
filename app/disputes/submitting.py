"""Submitting a dispute's evidence (a member's click, or the automatic submission some
hours before ``due_by``), and accepting a dispute. Services flush, never commit; the
Stripe calls carry idempotency keys derived from our row and the evidence sent."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict
from ..schedule.claims import finish
from ..stripe import clocks
from ..stripe import disputes as stripe_disputes
from ..stripe.client import StripeError
from ..stripe.models import StripeConnection
from . import evidence, pdf, records, services
from .models import PENDING, Dispute, DisputeSubmission

AUTO = "automatic submission"


def plan(session: Session, dispute: Dispute) -> DisputeSubmission | None:
    """Put the automatic submission in the schedule when the workspace has it on."""
    settings = records.settings_for(session, dispute.workspace_id)
    if not settings.is_auto_submit or dispute.due_by is None or not dispute.is_open:
        return None
    due = dispute.due_by - dt.timedelta(hours=settings.auto_submit_hours)
    row = session.execute(
        select(DisputeSubmission).where(DisputeSubmission.dispute_id == dispute.id)
    ).scalar_one_or_none()
    if row is None:
        row = DisputeSubmission(
            workspace_id=dispute.workspace_id,
            dispute_id=dispute.id,
            test_clock=dispute.test_clock,
            due_at=max(due, dispute.opened_at),
        )
        session.add(row)
    elif row.status == PENDING:
        row.due_at = max(due, dispute.opened_at)
    session.flush()
    return row


def replan(session: Session, workspace_id: int) -> None:
    """The settings changed: plan (or drop) the automatic submission of open disputes."""
    settings = records.settings_for(session, workspace_id)
    for dispute in session.execute(
        select(Dispute).where(Dispute.workspace_id == workspace_id, Dispute.submitted_at.is_(None))
    ).scalars():
        if not dispute.is_open:
            continue
        if settings.is_auto_submit:
            plan(session, dispute)
        else:
            cancel(session, dispute, "automatic submission was turned off")


def cancel(session: Session, dispute: Dispute, why: str) -> None:
    row = session.execute(
        select(DisputeSubmission).where(
            DisputeSubmission.dispute_id == dispute.id, DisputeSubmission.status == PENDING
        )
    ).scalar_one_or_none()
    if row is not None:
        finish(row, "skipped", why, at=dt.datetime.now(dt.UTC))


def package(session: Session, dispute: Dispute) -> tuple[dict[str, str], bytes]:
    """The text fields as they stand and the PDF made from the same records."""
    facts = services.facts_of(session, dispute)
    fields = {k: v for k, v in (dispute.evidence or {}).items() if k in evidence.TEXT_FIELDS}
    return fields, pdf.render(facts, fields)


def submit(
    session: Session,
    connection: StripeConnection,
    dispute: Dispute,
    *,
    actor: str,
    now: dt.datetime,
) -> Dispute:
    """Upload the PDF and submit the draft; Stripe reviews it and it can't change after."""
    if not dispute.is_open:
        raise Conflict("This dispute's evidence was already submitted or the dispute closed.")
    if dispute.due_by is not None and clocks.now_of(session, dispute, now) > dispute.due_by:
        raise Conflict("The evidence was due before now; Stripe no longer takes it.")
    fields, document = package(session, dispute)
    digest = hashlib.sha256(
        json.dumps(fields, sort_keys=True).encode() + hashlib.sha256(document).digest()
    ).hexdigest()[:16]
    key = f"dispute:{dispute.id}:{digest}"
    try:
        file_id = stripe_disputes.upload_evidence_file(
            connection, document, f"evidence-{dispute.stripe_id}.pdf", idempotency_key=f"{key}:file"
        )
        result = stripe_disputes.submit_evidence(
            connection,
            dispute.stripe_id,
            {**fields, evidence.FILE_FIELD: file_id},
            idempotency_key=f"{key}:submit",
        )
    except StripeError as exc:
        raise Conflict(f"Stripe refused the evidence: {exc.user_message or exc}")
    dispute.evidence_file_stripe_id = file_id
    dispute.submitted_at = clocks.now_of(session, dispute, now)
    dispute.submitted_by = actor
    cancel(session, dispute, f"submitted by {actor}" if actor != AUTO else "submitted")
    services.on_event(session, connection, result, dispute.source_created)
    session.flush()
    return dispute


def accept(
    session: Session, connection: StripeConnection, dispute: Dispute, *, now: dt.datetime
) -> Dispute:
    """Accept the dispute (it is lost; nothing more to submit)."""
    if not dispute.is_open:
        raise Conflict("Only a dispute still waiting for a response can be accepted.")
    try:
        result = stripe_disputes.accept(
            connection, dispute.stripe_id, idempotency_key=f"dispute:{dispute.id}:accept"
        )
    except StripeError as exc:
        raise Conflict(f"Stripe refused: {exc.user_message or exc}")
    dispute.accepted_at = clocks.now_of(session, dispute, now)
    cancel(session, dispute, "the dispute was accepted")
    services.on_event(session, connection, result, dispute.source_created)
    session.flush()
    return dispute


def run(
    session: Session,
    connection: StripeConnection | None,
    row: DisputeSubmission,
    *,
    now: dt.datetime,
) -> str:
    """A due automatic submission: submit unless a member did, or it closed meanwhile."""
    dispute = session.get(Dispute, row.dispute_id)
    at = clocks.now_of(session, row, now)
    if dispute is None or not dispute.is_open:
        return finish(row, "skipped", "the dispute was answered or closed already", at=at)
    if connection is None or not connection.is_connected:
        return finish(row, "skipped", "Stripe is not connected", at=at)
    if not records.settings_for(session, row.workspace_id).is_auto_submit:
        return finish(row, "skipped", "automatic submission was turned off", at=at)
    try:
        with session.begin_nested():
            submit(session, connection, dispute, actor=AUTO, now=now)
    except Conflict as refused:
        return finish(row, "error", str(refused), at=at)
    return finish(row, "submitted", "the evidence was submitted automatically", at=at)

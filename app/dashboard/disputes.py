"""Disputes: the list with each dispute's due date, likely cause and recommended action;
one dispute with its signals, the evidence draft (editable by owners and admins), the
PDF, Submit and Accept; and the dispute-rate monitor with its chart."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..accounts.masking import sees_customer_emails
from ..audit import services as audit
from ..disputes import evidence, monitor, policy, records, services, submitting
from ..disputes.models import Dispute
from ..errors import Conflict
from ..extensions import db
from ..insights import charts
from ..models import utcnow
from ..stripe import connection as stripe_connection
from ..tenancy import get_or_404, scoped
from .chrome import PAGE, feature_blueprint, on_refusal

bp = feature_blueprint("disputes", __name__)

STATUS_LABELS = {
    "needs_response": "Needs a response",
    "warning_needs_response": "Inquiry: needs a response",
    "under_review": "Under review",
    "warning_under_review": "Inquiry under review",
    "won": "Won",
    "lost": "Lost",
    "warning_closed": "Inquiry closed",
    "prevented": "Prevented",
}
SIGNAL_WORDS = {
    "usage": {
        "used": "Active in the disputed period",
        "unused": "No activity we could see in the disputed period",
        "unknown": "Nothing we can observe for this customer",
    },
    "cancel_attempt": {
        "none": "Never opened the cancel page",
        "stayed": "Opened the cancel page, was offered one-tap cancel, and stayed",
        "cancelled": "Cancelled through you before the dispute",
    },
    "support_contact": {
        "yes": "Contacted your support (you said so)",
        "no": "Did not contact your support (you said so)",
        "unknown": "Not known: say below whether they contacted support",
    },
    "timing": {
        "first_charge": "The subscription's first payment",
        "renewal": "A renewal",
        "other": "Another payment (not a renewal)",
    },
}
ACTION_LABELS = {"fight": "Submit evidence", "accept": "Accept or refund"}


def _dispute(dispute_id: int) -> Dispute:
    return get_or_404(Dispute, current_workspace().id, id=dispute_id)


def _actor() -> str:
    return current_user.email


@bp.get("/disputes")
def index():
    workspace = current_workspace()
    page = max(1, request.args.get("page", 1, type=int))
    rows = (
        db.session.execute(
            scoped(Dispute, workspace.id)
            .order_by(Dispute.opened_at.desc(), Dispute.id.desc())
            .limit(PAGE + 1)
            .offset((page - 1) * PAGE)
        )
        .scalars()
        .all()
    )
    return render_template(
        "dashboard/disputes.html",
        disputes=rows[:PAGE],
        page=page,
        has_more=len(rows) > PAGE,
        status_labels=STATUS_LABELS,
        causes=policy.CAUSE_LABELS,
        action_labels=ACTION_LABELS,
        settings=records.settings_for(db.session, workspace.id),
    )


@bp.get("/disputes/<int:dispute_id>")
def show(dispute_id: int):
    return _page(_dispute(dispute_id))


def _page(dispute: Dispute, errors: list[str] | None = None, form: dict | None = None) -> str:
    return render_template(
        "dashboard/dispute.html",
        dispute=dispute,
        errors=errors or [],
        form=form or {},
        status_labels=STATUS_LABELS,
        causes=policy.CAUSE_LABELS,
        advice=policy.ADVICE,
        action_labels=ACTION_LABELS,
        signal_words=SIGNAL_WORDS,
        fields=evidence.TEXT_FIELDS,
        field_labels=evidence.FIELD_LABELS,
        field_limit=evidence.FIELD_LIMIT,
        total_limit=evidence.TOTAL_LIMIT,
    )


@bp.post("/disputes/<int:dispute_id>/draft")
@require_role("owner", "admin")
def save_draft(dispute_id: int):
    dispute = _dispute(dispute_id)
    fields = {name: request.form.get(name, "") for name in evidence.TEXT_FIELDS}
    contact = request.form.get("support_contact") or None
    note = request.form.get("support_note", "")
    form = {**fields, "support_contact": contact, "support_note": note}
    on_refusal(lambda refusal: _page(dispute, refusal.errors, form))
    services.save_draft(db.session, dispute, fields, support_contact=contact, support_note=note)
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=_actor(),
        action="dispute.draft_saved",
        target_type="dispute",
        target_id=dispute.stripe_id,
        workspace_id=dispute.workspace_id,
        edited=dispute.edited_fields,
        support_contact=contact,
    )
    flash("Evidence draft saved. Nothing is sent to Stripe until you submit.", "success")
    return redirect(url_for("disputes.show", dispute_id=dispute.id))


@bp.get("/disputes/<int:dispute_id>/evidence.pdf")
def evidence_pdf(dispute_id: int):
    dispute = _dispute(dispute_id)
    if not sees_customer_emails():
        abort(403)  # the PDF carries the customer's address in full
    _fields, document = submitting.package(db.session, dispute)
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        document,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="evidence-{dispute.stripe_id}.pdf"'
        },
    )


def _connection():
    connection = stripe_connection.connected(db.session, current_workspace().id)
    if connection is None:
        raise Conflict("Stripe is not connected: reconnect it to answer disputes.")
    return connection


@bp.post("/disputes/<int:dispute_id>/submit")
@require_role("owner", "admin")
def submit(dispute_id: int):
    dispute = _dispute(dispute_id)
    submitting.submit(db.session, _connection(), dispute, actor=_actor(), now=utcnow())
    _audit(dispute, "dispute.submitted")
    flash("Evidence submitted to Stripe. The bank decides; you'll see the outcome here.", "success")
    return redirect(url_for("disputes.show", dispute_id=dispute.id))


@bp.post("/disputes/<int:dispute_id>/accept")
@require_role("owner", "admin")
def accept(dispute_id: int):
    dispute = _dispute(dispute_id)
    submitting.accept(db.session, _connection(), dispute, now=utcnow())
    _audit(dispute, "dispute.accepted")
    flash("Dispute accepted: it is closed as lost.", "success")
    return redirect(url_for("disputes.show", dispute_id=dispute.id))


def _audit(dispute: Dispute, action: str) -> None:
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=_actor(),
        action=action,
        target_type="dispute",
        target_id=dispute.stripe_id,
        workspace_id=dispute.workspace_id,
        status=dispute.status,
    )


@bp.get("/disputes/monitor")
def monitor_page():
    workspace = current_workspace()
    until = monitor.month_of(utcnow())
    found = monitor.rates(db.session, workspace.id, until=until, months=6)
    months = sorted({r.month for r in found}) or [until]
    networks = sorted({r.network for r in found})
    by = {(r.month, r.network): r for r in found}
    chart = None
    if networks:
        chart = charts.bar_chart(
            [
                charts.Series(
                    monitor.NETWORK_LABELS.get(n, n.title()),
                    f"series-{i}",
                    [
                        by[(m, n)].disputes * 10_000 // by[(m, n)].settled
                        if by[(m, n)].settled
                        else 0
                        for m in months
                    ],
                )
                for i, n in enumerate(networks, start=1)
            ],
            [charts.Bucket(m, m) for m in months],
            title="Dispute rate per card network, per calendar month",
            money_currency=None,
            fmt=lambda bp: f"{bp // 100}.{bp % 100:02d} %",
            stacked=False,
            bucket_heading="Month",
        )
    return render_template(
        "dashboard/dispute_monitor.html",
        chart=chart,
        rates=[r for r in found if r.disputes or r.settled],
        thresholds=policy.THRESHOLDS,
    )

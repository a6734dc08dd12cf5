"""Settings → Data & privacy: the owner asks for a zip of everything about the workspace
(built by a worker) and erases one customer's personal data on their request, after a
step that shows what would change. Owners only; audited (docs/data-rights.md)."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..audit import services as audit
from ..errors import Refusal
from ..extensions import db
from ..privacy import erasure, requests
from ..privacy.erasure import TableErasure
from ..privacy.policy import Subject, parse_subject
from .chrome import feature_blueprint, on_refusal

bp = feature_blueprint("data_privacy", __name__)
URL = "/settings/data-privacy"


#: The merchant's words for the tables an erasure touches most (the rest: the table's name).
WHAT = {
    "mirror_customer": "Customer record copied from Stripe",
    "mirror_invoice": "Invoices copied from Stripe",
    "mirror_subscription": "Subscriptions copied from Stripe",
    "outbox_message": "Emails sent",
    "sms_message": "Text messages",
    "recovery_campaign": "Recovery campaigns",
    "recovery_step": "Recovery steps",
    "retain_session": "Cancel-flow visits",
    "winback_campaign": "Win-back campaigns",
    "checkout_recovery_campaign": "Checkout-recovery campaigns",
    "dispute": "Disputes",
    "portal_link": "Portal links",
    "portal_cache": "Cached portal pages",
    "card_update_link": "Card-update links",
    "stripe_event": "Events received from Stripe",
    "domain_event": "Backstop's event log",
    "outbound_delivery": "Webhook deliveries",
    "outbound_attempt": "Webhook delivery attempts",
    "audit_entry": "Audit log",
    "dunning_expiry_notice": "Card-expiry notices",
    "portal_change": "Scheduled plan changes",
    "retain_outside_cancel": "Cancellations made outside Backstop",
}


def what(table: str) -> str:
    return WHAT.get(table, table.replace("_", " ").capitalize())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _page(
    *,
    customer: str = "",
    errors: list[str] | None = None,
    planned: list[TableErasure] | None = None,
) -> str:
    workspace = current_workspace()
    return render_template(
        "dashboard/data_privacy.html",
        exports=requests.recent(db.session, workspace.id),
        filename=lambda row: requests.filename(row, workspace.slug),
        customer=customer,
        errors=errors or [],
        planned=planned,
        what=what,
    )


@bp.get(URL)
def show():
    return _page()


@bp.post(f"{URL}/exports")
@require_role("owner")
def start_export():
    on_refusal(lambda refusal: _page(errors=refusal.errors))
    workspace = current_workspace()
    row = requests.start(
        db.session, workspace.id, requested_by_id=current_user.id, via="dashboard", now=_now()
    )
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action="privacy.workspace_export",
        target_type="workspace_export",
        target_id=str(row.id),
        workspace_id=workspace.id,
    )
    flash("Export started: it appears below when it is ready.", "success")
    return redirect(url_for("data_privacy.show"))


@bp.get(f"{URL}/exports/status")
def export_status():
    """The page's poll while an export is being built: each listed export's state."""
    rows = requests.recent(db.session, current_workspace().id)
    return jsonify(
        {
            "exports": [
                {"id": row.id, "status": row.status, "rows": row.rows_written, "error": row.error}
                for row in rows
            ]
        }
    )


@bp.get(f"{URL}/exports/<int:workspace_export_id>/download")
@require_role("owner")
def download_export(workspace_export_id: int):
    workspace = current_workspace()
    row = requests.of_workspace(db.session, workspace.id, workspace_export_id)
    if row is None or row.status != requests.DONE:
        abort(404)
    return Response(
        row.content_zip or b"",
        mimetype="application/zip",
        headers=requests.download_headers(row, workspace.slug),
    )


def _subject(customer: str) -> Subject:
    try:
        return parse_subject(customer)
    except ValueError as exc:
        raise Refusal(str(exc))


def _erase(customer: str, *, execute: bool) -> list[TableErasure]:
    return erasure.erase_customer(
        db.session,
        current_workspace().id,
        _subject(customer),
        actor_id=current_user.id,
        actor_label=current_user.email,
        execute=execute,
    )


@bp.post(f"{URL}/erase")
@require_role("owner")
def preview_erasure():
    """The confirm step: what erasing them would change, table by table (nothing yet)."""
    customer = request.form.get("customer", "").strip()
    on_refusal(lambda refusal: _page(customer=customer, errors=refusal.errors))
    return _page(customer=customer, planned=_erase(customer, execute=False))


@bp.post(f"{URL}/erase/confirm")
@require_role("owner")
def erase_customer():
    customer = request.form.get("customer", "").strip()
    on_refusal(lambda refusal: _page(customer=customer, errors=refusal.errors))
    if request.form.get("confirm") != "erase":
        raise Refusal("Type “erase” to confirm.")
    done = _erase(customer, execute=True)
    changed = sum(e.deleted + e.erased + e.scrubbed for e in done)
    flash(
        f"That customer's personal data is erased ({changed} rows changed); they will not be "
        "emailed or texted again. Erase them in Stripe too.",
        "success",
    )
    return redirect(url_for("data_privacy.show"))

"""Settings → Webhooks: the workspace's endpoints (URL, events, on or off), each with its
secret (revealed to owners and admins on demand, rotated with an overlap), a test event,
and its delivery log with what was sent and answered, and Resend. Thin views over
``app.integrations.endpoints``; every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..accounts.access import can, current_workspace, require_role
from ..audit import services as audit
from ..crypto import SecretUnreadable
from ..errors import Refusal
from ..extensions import db
from ..integrations import catalogue, endpoints, signing
from ..integrations.endpoints import Rules
from ..integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint
from ..models import utcnow
from ..tenancy import get_or_404, scoped
from .chrome import feature_blueprint, on_refusal, settings

bp = feature_blueprint("webhooks", __name__)

LOG_PAGE = 50
STATUSES = {"delivered", "pending", "queued", "running", "failed", "cancelled"}


def rules() -> Rules:
    return Rules(allow_loopback=settings().outbound_allow_loopback)


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings().step_lease_seconds)


def _audit(action: str, endpoint: WebhookEndpoint, **details: Any) -> None:
    audit.record(db.session, actor_id=current_user.id, actor_label=current_user.email,
                 action=action, target_type="webhook_endpoint", target_id=str(endpoint.id),
                 workspace_id=endpoint.workspace_id, **details)  # fmt: skip


def _form() -> dict[str, Any]:
    types = request.form.getlist("event_types")
    if request.form.get("all_events") == "1":
        types = [catalogue.ALL]
    return {
        "url": request.form.get("url", "").strip(),
        "event_types": types,
        "description": request.form.get("description", "").strip(),
    }


# -- the list -----------------------------------------------------------------------------


@bp.get("/settings/webhooks")
def index():
    return _index()


def _index(form: dict[str, Any] | None = None, errors: list[str] | None = None):
    workspace = current_workspace()
    rows = (
        db.session.execute(scoped(WebhookEndpoint, workspace.id).order_by(WebhookEndpoint.id))
        .scalars()
        .all()
    )
    last = dict(
        db.session.execute(
            select(Delivery.endpoint_id, func.max(Delivery.id))
            .where(Delivery.workspace_id == workspace.id, Delivery.endpoint_id.is_not(None))
            .group_by(Delivery.endpoint_id)
        ).all()
    )
    latest = {
        d.endpoint_id: d
        for d in db.session.execute(
            scoped(Delivery, workspace.id).where(Delivery.id.in_(list(last.values()) or [0]))
        ).scalars()
    }
    return render_template(
        "dashboard/webhooks.html",
        endpoints=rows,
        latest=latest,
        types=catalogue.TYPES,
        form=form or {"url": "", "event_types": [], "description": ""},
        errors=errors or [],
        editable=can("admin"),
    ), 400 if errors else 200


@bp.post("/settings/webhooks")
@require_role("owner", "admin")
def create():
    form = _form()
    on_refusal(lambda r: _index(form, r.errors)[0])
    endpoint = endpoints.create(db.session, current_workspace().id, rules=rules(), **form)
    _audit("webhooks.endpoint_added", endpoint, url=endpoint.url, events=endpoint.event_types)
    flash("Endpoint added. Put its signing secret on your server to verify what it receives.",
          "success")  # fmt: skip
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


# -- one endpoint -------------------------------------------------------------------------


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    return get_or_404(WebhookEndpoint, current_workspace().id, id=endpoint_id)


@bp.get("/settings/webhooks/<int:endpoint_id>")
def show(endpoint_id: int):
    return _show(_endpoint(endpoint_id))


def _show(
    endpoint: WebhookEndpoint,
    *,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    revealed: str | None = None,
    status: int = 200,
):
    wanted = request.args.get("status", "")
    query = scoped(Delivery, endpoint.workspace_id).where(Delivery.endpoint_id == endpoint.id)
    if wanted in STATUSES:
        query = query.where(Delivery.status == wanted)
    log = db.session.execute(query.order_by(Delivery.id.desc()).limit(LOG_PAGE)).scalars().all()
    now = utcnow()
    overlap = endpoint.previous_secret_expires_at
    return (
        render_template(
            "dashboard/webhook.html",
            endpoint=endpoint,
            log=log,
            status_filter=wanted if wanted in STATUSES else "",
            statuses=sorted(STATUSES),
            types=catalogue.TYPES,
            sendable=catalogue.SENT,
            form=form
            or {
                "url": endpoint.url,
                "event_types": endpoint.event_types,
                "description": endpoint.description,
            },
            errors=errors or [],
            revealed=revealed,
            masked=_masked(endpoint),
            overlap_until=overlap
            if endpoint.previous_secret_enc and overlap and overlap > now
            else None,
            editable=can("admin"),
        ),
        status,
    )


def _masked(endpoint: WebhookEndpoint) -> str | None:
    try:
        return signing.mask(endpoints.secret(endpoint))
    except SecretUnreadable:
        return None


@bp.post("/settings/webhooks/<int:endpoint_id>")
@require_role("owner", "admin")
def save(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    form = _form()
    on_refusal(lambda r: _show(endpoint, form=form, errors=r.errors)[0])
    endpoints.update_endpoint(db.session, endpoint, rules=rules(), **form)
    _audit("webhooks.endpoint_changed", endpoint, url=endpoint.url, events=endpoint.event_types)
    flash("Endpoint saved.", "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/settings/webhooks/<int:endpoint_id>/state")
@require_role("owner", "admin")
def state(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    wanted = {"on": True, "off": False}.get(request.form.get("state", ""))
    if wanted is None:
        raise Refusal("Choose whether the endpoint is on or off.")
    endpoints.set_enabled(db.session, endpoint, wanted, now=utcnow(),
                          reason=f"turned off by {current_user.email}")  # fmt: skip
    _audit("webhooks.endpoint_enabled" if wanted else "webhooks.endpoint_disabled", endpoint)
    flash("Endpoint turned on: new events are sent to it again." if wanted
          else "Endpoint turned off: nothing more is sent to it.", "success")  # fmt: skip
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/settings/webhooks/<int:endpoint_id>/delete")
@require_role("owner", "admin")
def delete(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    _audit("webhooks.endpoint_deleted", endpoint, url=endpoint.url)
    db.session.delete(endpoint)
    flash("Endpoint deleted, with its delivery log.", "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/settings/webhooks/<int:endpoint_id>/secret")
@require_role("owner", "admin")
def reveal(endpoint_id: int):
    """Show the secret in clear, once, on this page (audited: who saw it, when)."""
    endpoint = _endpoint(endpoint_id)
    try:
        secret = endpoints.secret(endpoint)
    except SecretUnreadable:
        raise Refusal("The secret can't be read (its key was retired): rotate it.") from None
    _audit("webhooks.secret_revealed", endpoint)  # committed with the request
    return _show(endpoint, revealed=secret)


@bp.post("/settings/webhooks/<int:endpoint_id>/rotate")
@require_role("owner", "admin")
def rotate(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    overlap = request.form.get("overlap", "1") != "0"
    endpoints.rotate(db.session, endpoint, now=utcnow(), overlap=overlap)
    _audit("webhooks.secret_rotated", endpoint, overlap=overlap)
    flash("New secret made. The old one keeps signing beside it for 24 hours: deploy the new "
          "one before then." if overlap else "New secret made; the old one stopped signing "
          "at once.", "success")  # fmt: skip
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.post("/settings/webhooks/<int:endpoint_id>/test")
@require_role("owner", "admin")
def test(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    event_type = request.form.get("event_type", "")
    delivery = endpoints.send_test(db.session, endpoint, event_type,
                                   workspace_slug=current_workspace().slug, now=utcnow(),
                                   lease=_lease())  # fmt: skip
    _audit("webhooks.test_sent", endpoint, event_type=event_type)
    flash(f"Test {event_type} event sent. Its delivery is at the top of the log.", "success")
    return redirect(url_for("webhooks.delivery", endpoint_id=endpoint.id, delivery_id=delivery.id))


# -- deliveries ---------------------------------------------------------------------------


def _delivery(endpoint: WebhookEndpoint, delivery_id: int) -> Delivery:
    row = get_or_404(Delivery, endpoint.workspace_id, id=delivery_id)
    if row.endpoint_id != endpoint.id:
        abort(404)
    return row


@bp.get("/settings/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>")
def delivery(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint(endpoint_id)
    row = _delivery(endpoint, delivery_id)
    tries = (
        db.session.execute(
            scoped(DeliveryAttempt, endpoint.workspace_id)
            .where(DeliveryAttempt.delivery_id == row.id)
            .order_by(DeliveryAttempt.id.desc())
        )
        .scalars()
        .all()
    )
    return render_template("dashboard/webhook_delivery.html", endpoint=endpoint, delivery=row,
                           tries=tries, editable=can("admin"))  # fmt: skip


@bp.post("/settings/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@require_role("owner", "admin")
def resend(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint(endpoint_id)
    row = _delivery(endpoint, delivery_id)
    endpoints.resend(db.session, row, now=utcnow(), lease=_lease())
    _audit("webhooks.delivery_resent", endpoint, delivery=row.id, event_type=row.event_type)
    flash("Sent again. The new try is at the top of the list below.", "success")
    return redirect(url_for("webhooks.delivery", endpoint_id=endpoint.id, delivery_id=row.id))

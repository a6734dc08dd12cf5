"""HTTP edges of the Stripe package: inbound webhooks and the connect flows."""

from __future__ import annotations

import json
import secrets
import time

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.access import current_workspace, require_role
from ..accounts.models import Workspace
from ..extensions import csrf, db, limiter
from ..observability.context import bind_workspace
from ..observability.metrics.instruments import STRIPE_WEBHOOK_EVENTS, STRIPE_WEBHOOK_REJECTED
from . import connection as connection_service
from . import intake, signatures
from .models import StripeConnection

bp = Blueprint("stripe", __name__)


# -- inbound webhooks ----------------------------------------------------------------------------


def _read_body() -> bytes:
    """The raw body, 413 past ``webhook_max_bytes``. Stripe always sends a Content-Length,
    and then exactly that many bytes are read from the WSGI input (werkzeug's limiting
    stream around it costs a sixteenth of intake's CPU); a short body fails its signature."""
    limit = current_app.config["BACKSTOP"].webhook_max_bytes
    length = request.content_length
    if length is not None and length > limit:
        STRIPE_WEBHOOK_REJECTED.labels("too_large").inc()
        abort(413)
    if length is not None:
        return request.environ["wsgi.input"].read(length)
    body = request.stream.read(limit + 1)  # no length: at most one byte past the limit
    if len(body) > limit:
        STRIPE_WEBHOOK_REJECTED.labels("too_large").inc()
        abort(413)
    return body


def _refuse(reason: str, status: int = 400, *, counted_as: str):
    STRIPE_WEBHOOK_REJECTED.labels(counted_as).inc()
    return jsonify(error=reason), status


def _accept(body: bytes, secrets_: list[str], workspace_id: int | None):
    """Verify, store once, answer. ``workspace_id`` None: route by ``event.account``."""
    settings = current_app.config["BACKSTOP"]
    try:
        signatures.verify(
            body,
            request.headers.get("Stripe-Signature"),
            secrets_,
            now=int(time.time()),
            tolerance=settings.webhook_tolerance_seconds,
        )
    except signatures.SignatureExpired:
        return _refuse("signature timestamp outside the tolerance", counted_as="expired")
    except signatures.SignatureError:
        return _refuse("invalid signature", counted_as="signature")
    try:
        event = intake.parse(body)
    except intake.BadPayload as exc:
        return _refuse(str(exc), counted_as="payload")
    result = intake.receive(
        current_app._get_current_object(), event, body, workspace_id=workspace_id
    )
    bind_workspace(result.workspace_id)
    STRIPE_WEBHOOK_EVENTS.labels(event["type"][:100], _result_label(result)).inc()
    intake.dispatch(result)
    return current_app.response_class(_RECEIVED[result.duplicate], mimetype="application/json")


def _result_label(result: intake.Intake) -> str:
    if result.duplicate:
        return "duplicate"
    return "stored" if result.workspace_id is not None else "unrouted"


#: The two answers to a stored delivery, encoded once (``jsonify`` per request costs
#: about a tenth of intake's CPU).
_RECEIVED = {
    dup: json.dumps({"received": True, "duplicate": dup}).encode() for dup in (False, True)
}


@bp.post("/webhooks/stripe")
@csrf.exempt
@limiter.exempt  # Stripe's deliveries are signed and never throttled (the check cost ~10%)
def platform_webhook():
    """Connect events of every OAuth-connected account, routed by ``event.account``."""
    body = _read_body()
    secret = current_app.config["BACKSTOP"].stripe_webhook_secret
    if not secret:
        return _refuse(
            "the platform webhook secret is not configured", 503, counted_as="not_configured"
        )
    return _accept(body, [secret], None)


@bp.post("/webhooks/stripe/<slug>")
@csrf.exempt
@limiter.exempt
def workspace_webhook(slug: str):
    """Events from a merchant's own endpoint (restricted-key mode)."""
    body = _read_body()
    row = db.session.execute(
        select(Workspace.id, StripeConnection)
        .join(StripeConnection, StripeConnection.workspace_id == Workspace.id, isouter=True)
        .where(Workspace.slug == slug)
    ).first()
    if row is None:
        return _refuse("unknown workspace", 404, counted_as="unknown_workspace")
    workspace_id, connection = row
    secret = connection_service.webhook_secret(connection) if connection else None
    if not secret:
        return _refuse(
            "this workspace has no Stripe webhook endpoint", 404, counted_as="unknown_workspace"
        )
    return _accept(body, [secret], workspace_id)


# -- connecting -------------------------------------------------------------------------------


@bp.get("/stripe/connect")
@login_required
@require_role("owner", "admin")
def connect():
    workspace = current_workspace()
    state = secrets.token_urlsafe(24)
    session["stripe_oauth"] = {"state": state, "workspace_id": workspace.id}
    return redirect(connection_service.authorize_url(state, current_user.email))


@bp.get("/stripe/oauth/callback")
@login_required
def oauth_callback():
    pending = session.pop("stripe_oauth", None)
    if not pending or not secrets.compare_digest(pending["state"], request.args.get("state", "")):
        abort(400, "This Stripe authorization does not belong to this session.")
    workspace = current_workspace()
    if workspace.id != pending["workspace_id"]:
        abort(400, "This Stripe authorization belongs to another workspace.")
    require_role("owner", "admin")(lambda: None)()
    if request.args.get("error"):
        flash(
            "Stripe was not connected: "
            + request.args.get("error_description", request.args["error"]),
            "warning",
        )
        return redirect(url_for("stripe_settings.show"))
    code = request.args.get("code")
    if not code:
        abort(400, "Stripe sent no authorization code.")
    try:
        connection_service.complete_oauth(db.session, workspace.id, code)
    except connection_service.StripeRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("stripe_settings.show"))
    db.session.commit()
    flash("Stripe is connected. Importing your customers now.", "success")
    return redirect(url_for("dashboard.overview"))

"""Settings → Embed: the workspace's embed secret and the require-signature switch.

Thin views over ``app.api.embed_secrets``. Owners and admins make the secret with one
click, then see it; viewers see it masked."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..accounts.access import can, current_workspace, require_role
from ..api import embed_secrets
from ..crypto import SecretUnreadable
from ..extensions import db
from ..stripe.models import StripeConnection
from ..tenancy import scoped
from .chrome import feature_blueprint, settings

bp = feature_blueprint("embed", __name__)

SWITCH_VALUES = {"1": True, "0": False}


def _page(status: int = 200, error: str | None = None) -> tuple[str, int]:
    workspace = current_workspace()
    secret, unreadable = None, False
    try:
        secret = embed_secrets.read(workspace)
    except SecretUnreadable:
        unreadable = True
    connection = db.session.execute(scoped(StripeConnection, workspace.id)).scalar_one_or_none()
    base = settings().base_url.rstrip("/")
    return render_template(
        "dashboard/embed.html",
        secret=secret if secret is None or can("admin") else embed_secrets.mask(secret),
        unreadable=unreadable,
        error=error,
        script_url=f"{base}/hosted/static/embed.js",
        api_url=f"{base}/api/embed/payment-wall",
        livemode=bool(connection and connection.is_connected and connection.livemode),
    ), status


@bp.get("/settings/embed")
def show():
    return _page()


@bp.post("/settings/embed/rotate")
@require_role("owner", "admin")
def rotate():
    workspace = current_workspace()
    first = workspace.embed_secret_enc is None
    embed_secrets.rotate(db.session, workspace)
    flash(
        "Embed secret made: put it on your server."
        if first
        else "New embed secret made. Requests signed with the old one are refused from now on: "
        "put the new one on your server.",
        "success",
    )
    return redirect(url_for("embed.show"))


@bp.post("/settings/embed/signature")
@require_role("owner", "admin")
def signature():
    required = SWITCH_VALUES.get(request.form.get("required", ""))
    if required is None:
        return _page(400, "Choose whether signatures are required (on or off).")
    embed_secrets.set_signature_required(db.session, current_workspace(), required)
    flash(
        "Unsigned requests are refused from now on."
        if required
        else "Unsigned requests are accepted again. Turn this back on once your server signs.",
        "success",
    )
    return redirect(url_for("embed.show"))

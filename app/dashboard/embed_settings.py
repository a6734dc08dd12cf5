"""Settings → Embed: the workspace's embed secret and the require-signature switch.

Routes live on the dashboard blueprint (``views.bp``); the views load, authorise, call
``app.api.embed_secrets`` and commit once. Owners and admins see the secret (it is made
the first time one of them opens the page); viewers see it masked."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from ..accounts.access import can, current_workspace, require_role
from ..api import embed_secrets
from ..crypto import SecretUnreadable
from ..extensions import db
from ..stripe.models import StripeConnection
from ..tenancy import scoped
from .views import bp

SWITCH_VALUES = {"1": True, "0": False}


def _page(status: int = 200, error: str | None = None) -> tuple[str, int]:
    workspace = current_workspace()
    secret, unreadable = None, False
    try:
        secret = (
            embed_secrets.ensure(db.session, workspace)
            if can("admin")
            else embed_secrets.read(workspace)
        )
    except SecretUnreadable:
        unreadable = True
    if status == 200:
        db.session.commit()  # the secret made on first need
    connection = db.session.execute(scoped(StripeConnection, workspace.id)).scalar_one_or_none()
    base = current_app.config["BACKSTOP"].base_url.rstrip("/")
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
def embed_settings():
    return _page()


@bp.post("/settings/embed/rotate")
@require_role("owner", "admin")
def rotate_embed_secret():
    embed_secrets.rotate(db.session, current_workspace())
    db.session.commit()
    flash(
        "New embed secret made. Requests signed with the old one are refused from now on: "
        "put the new one on your server.",
        "success",
    )
    return redirect(url_for("dashboard.embed_settings"))


@bp.post("/settings/embed/signature")
@require_role("owner", "admin")
def embed_signature():
    required = SWITCH_VALUES.get(request.form.get("required", ""))
    if required is None:
        return _page(400, "Choose whether signatures are required (on or off).")
    embed_secrets.set_signature_required(db.session, current_workspace(), required)
    db.session.commit()
    flash(
        "Unsigned requests are refused from now on."
        if required
        else "Unsigned requests are accepted again. Turn this back on once your server signs.",
        "success",
    )
    return redirect(url_for("dashboard.embed_settings"))

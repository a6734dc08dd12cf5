"""Settings → Stripe: connect with a restricted key (OAuth lives in ``app/stripe/views``),
see the connection, disconnect."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..accounts.access import current_workspace, require_role
from ..extensions import db
from ..stripe import connection as connection_service
from .chrome import feature_blueprint, on_refusal

bp = feature_blueprint("stripe_settings", __name__)


@bp.get("/settings/stripe")
def show():
    return render_template("dashboard/stripe.html")


@bp.post("/settings/stripe/restricted-key")
@require_role("owner", "admin")
def restricted_key():
    workspace = current_workspace()

    def refused(exc):
        flash(str(exc), "error")
        return render_template("dashboard/stripe.html")

    on_refusal(refused)
    connection_service.connect_restricted_key(
        db.session,
        workspace.id,
        workspace.slug,
        request.form.get("key", ""),
        request.form.get("publishable_key", ""),
    )
    flash("Stripe is connected with your restricted key. Importing your customers now.", "success")
    return redirect(url_for("dashboard.overview"))


@bp.post("/settings/stripe/disconnect")
@require_role("owner")
def disconnect():
    connection = connection_service.of_workspace(db.session, current_workspace().id)
    if connection is None or not connection.is_connected:
        flash("Stripe is not connected.", "warning")
        return redirect(url_for("stripe_settings.show"))
    connection_service.disconnect(db.session, connection)
    flash("Stripe is disconnected. Backstop no longer acts on this account.", "success")
    return redirect(url_for("stripe_settings.show"))

"""Overview: what Backstop earned (the insights), the set-up checklist, its warnings and
the first import's progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for

from ..accounts import services as account_services
from ..accounts.access import current_workspace, require_role
from ..extensions import db
from ..insights import lifetime, lift
from ..outbox import services as outbox
from ..recovery import calls
from ..recovery import queries as recovery_queries
from ..retain import flows as retain_flows
from ..stripe import connection as connection_service
from ..stripe.models import StripeConnection
from . import checklist, insights
from .chrome import feature_blueprint, on_refusal

bp = feature_blueprint("dashboard", __name__)


def _import_status(connection: StripeConnection | None) -> dict:
    if connection is None:
        return {"status": "none"}
    return {
        **connection_service.import_summary(
            connection.import_progress or {}, connection.import_status
        ),
        "error": connection.import_error,
    }


@bp.get("/")
def home():
    return redirect(url_for("dashboard.overview"))


@bp.get("/dashboard")
def overview():
    return _page()


def _page(**extra: Any) -> str:
    workspace = current_workspace()
    connection = connection_service.of_workspace(db.session, workspace.id)
    domain = outbox.send_domain(db.session, workspace.id)
    facts = checklist.Facts(
        stripe_connected=bool(connection and connection.is_connected),
        send_domain_verified=bool(domain and domain.is_verified),
        unverified_domain=domain.domain if domain and not domain.is_verified else None,
        cancel_flow_published=retain_flows.has_published_flow(db.session, workspace.id),
        portal_cancel_disabled=workspace.is_portal_cancel_disabled,
        has_campaign=recovery_queries.has_campaign(db.session, workspace.id),
        stripe_retries_on=recovery_queries.stripe_retries_on(
            db.session, workspace.id, now=dt.datetime.now(dt.UTC)
        ),
    )
    steps = checklist.steps(facts)
    return render_template(
        "dashboard/overview.html",
        steps=steps,
        progress=checklist.progress(steps),
        warnings=checklist.warnings(facts),
        import_status=_import_status(connection),
        to_call=calls.to_call(db.session, workspace.id, now=dt.datetime.now(dt.UTC)),
        insights=insights.context(
            db.session,
            workspace,
            period=request.args.get("period", ""),
            currency=request.args.get("currency"),
            now=dt.datetime.now(dt.UTC),
        ),
        **extra,
    )


@bp.get("/dashboard/import-status")
def import_status():
    return jsonify(
        _import_status(connection_service.of_workspace(db.session, current_workspace().id))
    )


@bp.post("/dashboard/insights/cost")
@require_role("owner", "admin")
def save_cost():
    """What Backstop costs a month, for the return on it (an empty amount forgets it)."""
    workspace = current_workspace()
    on_refusal(lambda refusal: _page(cost_errors=refusal.errors, cost_form=request.form))
    cost = lift.parse_cost(request.form.get("amount", ""), request.form.get("currency", ""))
    lift.save_cost(db.session, workspace.id, cost)
    flash("Monthly cost saved." if cost else "Monthly cost removed.", "success")
    return redirect(
        url_for(
            "dashboard.overview",
            period=request.form.get("period") or None,
            currency=request.form.get("shown_currency") or None,
            _anchor="insights-roi",
        )
    )


@bp.post("/dashboard/insights/ltv")
def compute_ltv():
    """Queue the LTV calculator's computation now (it runs daily on its own)."""
    queued = lifetime.request(db.session, current_workspace().id, now=dt.datetime.now(dt.UTC))
    flash(
        "Computing the lifetime value: reload in a minute."
        if queued
        else "The lifetime value is up to date or already being computed.",
        "success",
    )
    return redirect(
        url_for(
            "dashboard.overview", period=request.form.get("period") or None, _anchor="insights-ltv"
        )
    )


@bp.post("/dashboard/checklist/portal")
@require_role("owner", "admin")
def tick_portal():
    account_services.set_portal_cancel_disabled(
        current_workspace(), request.form.get("done") == "1"
    )
    return redirect(url_for("dashboard.overview"))

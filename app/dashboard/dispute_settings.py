"""Settings → Disputes: automatic submission (on or off, and how many hours before the
evidence is due) and the policy links the evidence cites."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import can, current_workspace, require_role
from ..audit import services as audit
from ..disputes import records, services, submitting
from ..extensions import db
from .chrome import feature_blueprint

bp = feature_blueprint("dispute_settings", __name__)

HOURS = (1, 168)  # at most the seven days Stripe gives


def _url(value: str, words: str, errors: list[str]) -> str | None:
    value = value.strip()
    if not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(value) > 500:
        errors.append(f"{words} must be a web address starting with https://")
    return value


@bp.get("/settings/disputes")
def show():
    stored = records.settings_for(db.session, current_workspace().id)
    form = {
        "is_auto_submit": stored.is_auto_submit,
        "auto_submit_hours": str(stored.auto_submit_hours),
        "terms_url": stored.terms_url or "",
        "cancellation_policy_url": stored.cancellation_policy_url or "",
    }
    return render_template(
        "dashboard/dispute_settings.html", form=form, errors=[], editable=can("admin"), hours=HOURS
    )


@bp.post("/settings/disputes")
@require_role("owner", "admin")
def save():
    workspace = current_workspace()
    data = request.form
    errors: list[str] = []
    hours_text = data.get("auto_submit_hours", "").strip()
    hours = int(hours_text) if hours_text.isdigit() else None
    if hours is None or not HOURS[0] <= hours <= HOURS[1]:
        errors.append(f"submit between {HOURS[0]} and {HOURS[1]} hours before the evidence is due")
    terms = _url(data.get("terms_url", ""), "The terms of service link", errors)
    cancellation = _url(
        data.get("cancellation_policy_url", ""), "The cancellation policy link", errors
    )
    form = {
        "is_auto_submit": data.get("is_auto_submit") == "1",
        "auto_submit_hours": hours_text,
        "terms_url": data.get("terms_url", ""),
        "cancellation_policy_url": data.get("cancellation_policy_url", ""),
    }
    if errors:
        return render_template(
            "dashboard/dispute_settings.html", form=form, errors=errors, editable=True, hours=HOURS
        ), 400
    stored = records.settings_for(db.session, workspace.id)
    stored.is_auto_submit = form["is_auto_submit"]
    stored.auto_submit_hours = hours
    stored.terms_url = terms
    stored.cancellation_policy_url = cancellation
    db.session.flush()
    submitting.replan(db.session, workspace.id)
    services.refresh_open(db.session, workspace.id)
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action="disputes.settings_saved",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        is_auto_submit=stored.is_auto_submit,
        auto_submit_hours=hours,
    )
    flash("Dispute settings saved. Open disputes' drafts now cite these links.", "success")
    return redirect(url_for("dispute_settings.show"))

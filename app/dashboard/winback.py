"""Win back: what the emails to customers whose subscription ended brought back (per
reason and per email), the campaigns, and the pause switch. Reads from
``app.winback.queries``; the switch is ``app.winback.settings.set_paused``."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..audit import services as audit
from ..extensions import db
from ..winback import policy, queries
from ..winback import settings as winback_settings
from .chrome import PAGE, feature_blueprint

bp = feature_blueprint("winback", __name__)

PERIODS = {"30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months"}
STATE_LABELS = {
    "active": "Under way",
    "won": "Won back",
    "returned": "Came back on their own",
    "stopped": "Stopped",
    "ended": "Ended",
}
KIND_LABELS = {"voluntary": "They cancelled", "involuntary": "Payment failed"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@bp.get("/winback")
def index():
    workspace = current_workspace()
    period = request.args.get("days", "30")
    if period not in PERIODS:
        period = "30"
    since = _now() - dt.timedelta(days=int(period))
    page = max(1, request.args.get("page", 1, type=int))
    return render_template(
        "dashboard/winback.html",
        period=period,
        periods=PERIODS,
        figures=queries.figures(db.session, workspace.id, since=since),
        reasons=queries.by_reason(db.session, workspace.id, since=since),
        touches=queries.by_touch(db.session, workspace.id, since=since),
        listing=queries.campaigns(db.session, workspace.id, page=page, per_page=PAGE),
        config=winback_settings.settings_for(db.session, workspace.id),
        reason_labels=policy.REASON_LABELS,
        copy_key=policy.copy_key,
        state_labels=STATE_LABELS,
        kind_labels=KIND_LABELS,
    )


@bp.post("/winback/pause")
@require_role("owner", "admin")
def pause():
    stopped = _switch(paused=True)
    flash(
        f"Win-back is paused: {stopped} {'campaign' if stopped == 1 else 'campaigns'} "
        "stopped, and no new one starts until you resume.",
        "success",
    )
    return redirect(url_for("winback.index"))


@bp.post("/winback/resume")
@require_role("owner", "admin")
def resume():
    _switch(paused=False)
    flash("Win-back resumed: subscriptions that end from now on start campaigns.", "success")
    return redirect(url_for("winback.index"))


def _switch(*, paused: bool) -> int:
    workspace = current_workspace()
    stopped = winback_settings.set_paused(
        db.session, workspace.id, paused, by=current_user.email, now=_now()
    )
    audit.record(
        db.session,
        actor_id=current_user.id,
        actor_label=current_user.email,
        action="winback.paused" if paused else "winback.resumed",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        stopped=stopped,
    )
    return stopped

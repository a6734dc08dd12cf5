"""Settings → Audit log: every change made in the workspace, by whom and when (team,
security, settings, pauses, exports, erasures, API keys…), for owners and admins."""

from __future__ import annotations

from flask import abort, render_template, request

from ..accounts.access import current_workspace, require_role
from ..audit import queries
from ..extensions import db
from .chrome import PAGE, feature_blueprint

bp = feature_blueprint("workspace_audit", __name__)


@bp.get("/settings/audit-log")
@require_role("owner", "admin")
def show():
    workspace = current_workspace()
    before = request.args.get("before", type=int)
    if "before" in request.args and (before is None or before < 1):
        abort(400, "before must be a positive entry id")
    actor = request.args.get("who", "")[:254]
    action = request.args.get("what", "")[:64]
    actors, actions = queries.choices(db.session, workspace.id)
    found = queries.page(
        db.session, workspace.id, before=before, actor=actor, action=action, size=PAGE
    )
    return render_template(
        "dashboard/audit_log.html",
        found=found,
        actors=actors,
        actions=actions,
        who=actor,
        what=action,
        described=queries.described,
        first_page=before is None,
    )

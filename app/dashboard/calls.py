"""High-value payments to call: the Overview's "Call these customers" card and the
"Called" button (owners and admins, who get the ping; viewers only look). Audited."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, url_for
from flask_login import current_user

from ..accounts.access import current_workspace, require_role
from ..extensions import db
from ..recovery import calls
from ..recovery.models import Campaign
from ..tenancy import get_or_404
from .chrome import feature_blueprint

bp = feature_blueprint("calls", __name__)

#: Where the button may send the member back to.
BACK = {"overview": "dashboard.overview", "recovery": "recovery.index"}


@bp.post("/recovery/campaigns/<int:campaign_id>/called")
@require_role("owner", "admin")
def called(campaign_id: int):
    workspace = current_workspace()
    campaign = get_or_404(Campaign, workspace.id, id=campaign_id)
    calls.mark_called(
        db.session,
        campaign,
        actor_id=current_user.id,
        actor_label=current_user.email,
        note=request.form.get("note", ""),
        now=dt.datetime.now(dt.UTC),
    )
    flash("Marked called. The payment is off the list to call.", "success")
    back = BACK.get(request.form.get("back", ""))
    if back:
        return redirect(url_for(back) + "#to-call")
    return redirect(url_for("recovery.campaign", campaign_id=campaign.id))

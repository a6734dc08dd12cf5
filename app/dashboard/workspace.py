"""Settings → Workspace: name, timezone, brand and the address in email footers."""

from __future__ import annotations

import zoneinfo

from flask import abort, flash, redirect, render_template, request, url_for

from ..accounts import services as account_services
from ..accounts.access import can, current_workspace
from ..accounts.forms import WorkspaceSettingsForm
from ..times import timezone_groups
from .chrome import feature_blueprint, on_refusal

bp = feature_blueprint("workspace", __name__)


def _form() -> WorkspaceSettingsForm:
    workspace = current_workspace()
    form = WorkspaceSettingsForm(obj=workspace)
    groups = timezone_groups(zoneinfo.available_timezones())
    known = {name for _, choices in groups for name, _ in choices}
    if workspace.timezone not in known:  # an alias chosen before the picker was grouped
        groups.append(("Other", [(workspace.timezone, workspace.timezone)]))
    form.timezone.choices = dict(groups)
    return form


@bp.route("/settings/workspace", methods=["GET", "POST"])
def settings():
    form = _form()
    if request.method == "GET":
        return render_template("dashboard/workspace.html", form=form)
    if not can("admin"):
        abort(403)
    if not form.validate_on_submit():
        return render_template("dashboard/workspace.html", form=form), 400
    on_refusal(lambda _: render_template("dashboard/workspace.html", form=form))
    account_services.update_workspace(
        current_workspace(),
        name=form.name.data,
        timezone=form.timezone.data,
        brand_color=form.brand_color.data,
        logo_url=form.logo_url.data,
        postal_address=form.postal_address.data,
        website_url=form.website_url.data,
    )
    flash("Settings saved.", "success")
    return redirect(url_for("workspace.settings"))

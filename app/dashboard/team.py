"""Settings → Team: members, their roles, invitations by email."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..accounts import team
from ..accounts.access import can, current_workspace, require_role
from ..accounts.forms import InviteForm
from ..accounts.models import Membership
from ..extensions import db
from ..tenancy import get_or_404
from .chrome import feature_blueprint, on_refusal, settings

bp = feature_blueprint("team", __name__)


def _page(form: InviteForm, errors: list[str] | None = None) -> str:
    workspace = current_workspace()
    return render_template(
        "dashboard/team.html",
        form=form,
        errors=errors or [],
        members=team.members(db.session, workspace.id),
        pending=team.pending_invitations(db.session, workspace.id),
    )


@bp.get("/settings/team")
def show():
    return _page(InviteForm())


@bp.post("/settings/team")
def invite():
    if not can("admin"):
        abort(403)
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(form), 400

    def refused(exc):
        form.email.errors = list(exc.errors)
        return _page(form)

    on_refusal(refused)
    invitation = team.invite(
        db.session,
        current_workspace(),
        current_user,
        form.email.data,
        form.role.data,
        mail_from=settings().mail_from,
        accept_url=lambda token: url_for("accounts.accept", token=token, _external=True),
    )
    flash(f"Invitation sent to {invitation.email}.", "success")
    return redirect(url_for("team.show"))


@bp.post("/settings/team/<int:member_id>/remove")
@require_role("owner")
def remove_member(member_id: int):
    member = get_or_404(Membership, current_workspace().id, id=member_id)
    on_refusal(lambda exc: _page(InviteForm(), errors=exc.errors))
    team.remove_member(db.session, member)
    flash("Member removed.", "success")
    return redirect(url_for("team.show"))

"""Settings → Team: members, their roles, invitations by email. Admins invite (not as
owners), resend and withdraw invitations; only owners change roles and remove members.
Every change is audited with who made it (``accounts.team``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..accounts import team
from ..accounts.access import current_workspace, membership, require_role
from ..accounts.forms import InviteForm, RoleForm
from ..accounts.models import ROLES, Invitation, Membership
from ..extensions import db
from ..models import utcnow
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
        roles=ROLES,
        now=utcnow(),
    )


def _accept_url(token: str) -> str:
    return url_for("accounts.accept", token=token, _external=True)


def _refused_on_page(exc) -> str:
    return _page(InviteForm(formdata=None), errors=exc.errors)


@bp.get("/settings/team")
def show():
    return _page(InviteForm())


@bp.post("/settings/team")
@require_role("owner", "admin")
def invite():
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
        accept_url=_accept_url,
        inviter_role=membership().role,
    )
    flash(f"Invitation sent to {invitation.email}.", "success")
    return redirect(url_for("team.show"))


@bp.post("/settings/team/invitations/<int:invitation_id>/resend")
@require_role("owner", "admin")
def resend_invitation(invitation_id: int):
    invitation = get_or_404(Invitation, current_workspace().id, id=invitation_id)
    on_refusal(_refused_on_page)
    team.resend_invitation(
        db.session,
        invitation,
        current_user,
        mail_from=settings().mail_from,
        accept_url=_accept_url,
        now=utcnow(),
    )
    flash(
        f"A new invitation link went to {invitation.email}; the old one no longer works.", "success"
    )
    return redirect(url_for("team.show"))


@bp.post("/settings/team/invitations/<int:invitation_id>/revoke")
@require_role("owner", "admin")
def revoke_invitation(invitation_id: int):
    invitation = get_or_404(Invitation, current_workspace().id, id=invitation_id)
    on_refusal(_refused_on_page)
    email = invitation.email
    team.revoke_invitation(db.session, invitation, current_user)
    flash(f"The invitation to {email} was withdrawn: its link no longer works.", "success")
    return redirect(url_for("team.show"))


@bp.post("/settings/team/<int:member_id>/role")
@require_role("owner")
def change_role(member_id: int):
    member = get_or_404(Membership, current_workspace().id, id=member_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _page(InviteForm(formdata=None), errors=["Choose owner, admin or viewer."]), 400
    on_refusal(_refused_on_page)
    if team.change_role(db.session, member, form.role.data, current_user):
        flash(f"Role changed to {form.role.data}.", "success")
    return redirect(url_for("team.show"))


@bp.post("/settings/team/<int:member_id>/remove")
@require_role("owner")
def remove_member(member_id: int):
    member = get_or_404(Membership, current_workspace().id, id=member_id)
    on_refusal(_refused_on_page)
    team.remove_member(db.session, member, current_user)
    flash("Member removed.", "success")
    return redirect(url_for("team.show"))

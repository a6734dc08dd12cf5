"""The team: invitations (hashed, 7 days, resend, withdraw), roles (only owners change
them; the last owner stays), removing members; every change audited with its actor."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from sqlalchemy import select

from app.accounts.models import Invitation, Membership
from app.audit.models import AuditEntry
from app.extensions import db
from app.models import utcnow
from app.outbox.models import OutboxMessage

from .. import factories as f
from ..forms import submit

PAGE = "/settings/team"


def _links() -> list[str]:
    messages = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
    return [
        re.search(r"http://localhost(/invitations/\S+)", m.body_text).group(1) for m in messages
    ]


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def _invite(web, email: str = "new@example.com", role: str = "viewer"):
    return submit(web, PAGE, {"email": email, "role": role})


def test_invitation_token_is_hashed_and_lasts_seven_days(web, ctx) -> None:
    owner = f.user("owner@example.com")
    f.workspace(owner)
    db.session.commit()
    f.login(web, owner)
    assert _invite(web).status_code == 302
    invitation = db.session.execute(select(Invitation)).scalar_one()
    token = _links()[0].rsplit("/", 1)[1]
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    assert abs(invitation.expires_at - (utcnow() + dt.timedelta(days=7))) < dt.timedelta(minutes=1)
    entry = _audit("invitation.sent")[0]
    assert entry.actor_id == owner.id and entry.details["email"] == "new@example.com"
    invitation.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    submit(web, "/logout", {}, page="/dashboard")
    assert "expired" in web.get(_links()[0]).get_data(as_text=True)


def test_resend_replaces_the_link_and_withdraw_voids_it(web, ctx) -> None:
    owner = f.user("owner@example.com")
    f.workspace(owner)
    db.session.commit()
    f.login(web, owner)
    _invite(web)
    invitation = db.session.execute(select(Invitation)).scalar_one()
    invitation.expires_at = utcnow() - dt.timedelta(days=1)
    db.session.commit()
    resent = submit(web, f"/settings/team/invitations/{invitation.id}/resend", {}, page=PAGE)
    assert resent.status_code == 302
    old, new = _links()
    assert web.get(old).status_code == 400
    assert web.get(new).status_code == 200
    db.session.refresh(invitation)
    assert invitation.expires_at > utcnow() + dt.timedelta(days=6)
    withdrawn = submit(web, f"/settings/team/invitations/{invitation.id}/revoke", {}, page=PAGE)
    assert withdrawn.status_code == 302
    assert web.get(new).status_code == 400
    assert [len(_audit(a)) for a in ("invitation.resent", "invitation.revoked")] == [1, 1]


def test_admins_invite_but_not_owners_and_change_no_roles(web, ctx) -> None:
    owner = f.user("owner@example.com")
    ws = f.workspace(owner)
    admin = f.member(ws, "admin", "admin@example.com")
    viewer = f.member(ws, "viewer", "viewer@example.com")
    db.session.commit()
    f.login(web, admin)
    assert _invite(web, "x@example.com", "admin").status_code == 302
    assert _invite(web, "y@example.com", "owner").status_code == 403
    viewer_member = db.session.execute(
        select(Membership).where(Membership.user_id == viewer.id)
    ).scalar_one()
    assert (
        submit(
            web, f"/settings/team/{viewer_member.id}/role", {"role": "owner"}, page=PAGE
        ).status_code
        == 403
    )
    assert (
        submit(web, f"/settings/team/{viewer_member.id}/remove", {}, page=PAGE).status_code == 403
    )
    db.session.refresh(viewer_member)
    assert viewer_member.role == "viewer"


def test_owners_change_roles_and_the_last_owner_stays(web, ctx) -> None:
    owner = f.user("owner@example.com")
    ws = f.workspace(owner)
    other = f.member(ws, "viewer", "v@example.com")
    db.session.commit()
    f.login(web, owner)
    mine = db.session.execute(select(Membership).where(Membership.user_id == owner.id)).scalar_one()
    theirs = db.session.execute(
        select(Membership).where(Membership.user_id == other.id)
    ).scalar_one()
    refused = submit(web, f"/settings/team/{mine.id}/role", {"role": "admin"}, page=PAGE)
    assert refused.status_code == 409 and "at least one owner" in refused.get_data(as_text=True)
    assert (
        submit(web, f"/settings/team/{theirs.id}/role", {"role": "bogus"}, page=PAGE).status_code
        == 400
    )
    assert (
        submit(web, f"/settings/team/{theirs.id}/role", {"role": "owner"}, page=PAGE).status_code
        == 302
    )
    # Two owners now: one may step down.
    assert (
        submit(web, f"/settings/team/{mine.id}/role", {"role": "admin"}, page=PAGE).status_code
        == 302
    )
    db.session.refresh(mine)
    db.session.refresh(theirs)
    assert (mine.role, theirs.role) == ("admin", "owner")
    changes = _audit("member.role_changed")
    assert [(c.details["before"], c.details["after"], c.actor_id) for c in changes] == [
        ("viewer", "owner", owner.id),
        ("owner", "admin", owner.id),
    ]


def test_remove_member_is_audited_and_scoped(web, ctx) -> None:
    owner = f.user("owner@example.com")
    ws = f.workspace(owner)
    gone = f.member(ws, "admin", "gone@example.com")
    elsewhere = f.workspace()
    stranger = f.member(elsewhere, "viewer")
    db.session.commit()
    f.login(web, owner)
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == gone.id)
    ).scalar_one()
    foreign = db.session.execute(
        select(Membership).where(Membership.user_id == stranger.id)
    ).scalar_one()
    assert submit(web, f"/settings/team/{foreign.id}/remove", {}, page=PAGE).status_code == 404
    assert (
        submit(web, f"/settings/team/{foreign.id}/role", {"role": "owner"}, page=PAGE).status_code
        == 404
    )
    assert submit(web, f"/settings/team/{membership.id}/remove", {}, page=PAGE).status_code == 302
    entry = _audit("member.removed")[0]
    assert entry.actor_id == owner.id and entry.details["email"] == "gone@example.com"
    assert entry.workspace_id == ws.id


def test_accepting_signs_the_new_member_in_and_is_audited(web, ctx) -> None:
    from app.accounts.models import UserSession

    owner = f.user("owner@example.com")
    f.workspace(owner)
    db.session.commit()
    f.login(web, owner)
    _invite(web, "new@example.com", "admin")
    submit(web, "/logout", {}, page="/dashboard")
    assert submit(web, _links()[0], {"password": "new member password"}).status_code == 302
    assert web.get("/settings/security").status_code == 200
    joined = _audit("member.joined")[0]
    assert joined.actor_label == "new@example.com"
    live = db.session.execute(select(UserSession).where(UserSession.revoked_at.is_(None))).scalars()
    assert [s.user_id for s in live] == [joined.actor_id]

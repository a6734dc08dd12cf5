"""A workspace's team: invitations by email and the members' roles. Services flush;
callers commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import services as audit
from ..errors import Conflict, Refusal
from ..models import utcnow
from ..outbox import services as outbox
from .models import ROLES, Invitation, Membership, User, Workspace
from .services import AccountError, normalise_email

INVITATION_TTL = dt.timedelta(days=7)


class LastOwner(Conflict):
    """Removing this member would leave the workspace without an owner."""

    def __init__(self) -> None:
        super().__init__("A workspace keeps at least one owner.")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OwnersOnly(Refusal):
    """Only owners make owners or change roles."""

    status = 403

    def __init__(self) -> None:
        super().__init__("Only an owner can do that.")


def audit_member(
    session: Session, actor: User, member: Membership | Invitation, action: str, **details: Any
) -> None:
    """A change to the team, in the audit log with who made it."""
    target_type = "invitation" if isinstance(member, Invitation) else "membership"
    audit.record(
        session,
        actor_id=actor.id,
        actor_label=actor.email,
        action=action,
        target_type=target_type,
        target_id=str(member.id),
        workspace_id=member.workspace_id,
        **details,
    )


def invite(
    session: Session,
    workspace: Workspace,
    inviter: User,
    email: str,
    role: str,
    *,
    mail_from: str,
    accept_url: Callable[[str], str],
    inviter_role: str = "owner",
) -> Invitation:
    """Invite ``email`` as ``role`` and queue the invitation email (sent after the commit)
    with the link ``accept_url(token)``; the token itself is never stored."""
    if role not in ROLES:
        raise AccountError("Choose owner, admin or viewer.")
    if role == "owner" and inviter_role != "owner":
        raise OwnersOnly()
    email = normalise_email(email)
    existing = session.execute(
        select(Membership)
        .join(User)
        .where(Membership.workspace_id == workspace.id, User.email == email)
    ).scalar_one_or_none()
    if existing is not None:
        raise AccountError(f"{email} is already a member of this workspace.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        workspace_id=workspace.id,
        email=email,
        role=role,
        token_hash=_hash(token),
        invited_by_id=inviter.id,
        expires_at=utcnow() + INVITATION_TTL,
    )
    session.add(invitation)
    session.flush()
    _send(session, workspace, inviter, invitation, token, mail_from, accept_url)
    audit_member(session, inviter, invitation, "invitation.sent", email=email, role=role)
    return invitation


def resend_invitation(
    session: Session,
    invitation: Invitation,
    actor: User,
    *,
    mail_from: str,
    accept_url: Callable[[str], str],
    now: dt.datetime,
) -> Invitation:
    """A new link (the old one stops working), good for another 7 days."""
    if invitation.accepted_at is not None:
        raise AccountError("This invitation was already accepted.")
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _hash(token)
    invitation.expires_at = now + INVITATION_TTL
    session.flush()
    workspace = session.get(Workspace, invitation.workspace_id)
    assert workspace is not None  # the invitation is scoped to it
    _send(session, workspace, actor, invitation, token, mail_from, accept_url)
    audit_member(session, actor, invitation, "invitation.resent", email=invitation.email)
    return invitation


def revoke_invitation(session: Session, invitation: Invitation, actor: User) -> None:
    """Withdraw a pending invitation: its link stops working."""
    if invitation.accepted_at is not None:
        raise AccountError("This invitation was already accepted.")
    audit_member(session, actor, invitation, "invitation.revoked", email=invitation.email)
    session.delete(invitation)
    session.flush()


def _send(
    session: Session,
    workspace: Workspace,
    inviter: User,
    invitation: Invitation,
    token: str,
    mail_from: str,
    accept_url: Callable[[str], str],
) -> None:
    outbox.send(
        session,
        template="invitation",
        to=invitation.email,
        from_email=mail_from,
        workspace_id=workspace.id,
        context={
            "inviter": inviter.email,
            "workspace": workspace.name,
            "role": invitation.role,
            "accept_url": accept_url(token),
        },
    )


def open_invitation(session: Session, token: str) -> Invitation:
    invitation = session.execute(
        select(Invitation).where(Invitation.token_hash == _hash(token))
    ).scalar_one_or_none()
    if invitation is None or invitation.accepted_at is not None:
        raise AccountError("This invitation is not valid or was already used.")
    expires = invitation.expires_at
    if expires.tzinfo is None:  # SQLite returns naive UTC
        expires = expires.replace(tzinfo=dt.UTC)
    if expires <= utcnow():
        raise AccountError("This invitation has expired. Ask for a new one.")
    return invitation


def accept_invitation(session: Session, invitation: Invitation, user: User) -> Membership:
    if normalise_email(user.email) != invitation.email:
        raise AccountError("This invitation was sent to another email address.")
    found = session.execute(
        select(Membership).where(
            Membership.workspace_id == invitation.workspace_id, Membership.user_id == user.id
        )
    ).scalar_one_or_none()
    invitation.accepted_at = utcnow()
    if found is not None:
        return found
    member = Membership(workspace_id=invitation.workspace_id, user_id=user.id, role=invitation.role)
    session.add(member)
    session.flush()
    return member


def owners_count(session: Session, workspace_id: int) -> int:
    return session.execute(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == "owner")
    ).scalar_one()


def remove_member(session: Session, member: Membership, actor: User) -> None:
    """Remove a member; the last owner stays (:class:`LastOwner`)."""
    if member.role == "owner" and owners_count(session, member.workspace_id) <= 1:
        raise LastOwner()
    removed = session.get(User, member.user_id)
    audit_member(session, actor, member, "member.removed", email=removed.email if removed else None)
    session.delete(member)
    session.flush()


def change_role(session: Session, member: Membership, role: str, actor: User) -> bool:
    """Give a member another role (owners only: the view checks); the last owner stays
    an owner. False when the role was already that."""
    if role not in ROLES:
        raise AccountError("Choose owner, admin or viewer.")
    if role == member.role:
        return False
    if member.role == "owner" and owners_count(session, member.workspace_id) <= 1:
        raise LastOwner()
    changed = session.get(User, member.user_id)
    audit_member(
        session,
        actor,
        member,
        "member.role_changed",
        email=changed.email if changed else None,
        before=member.role,
        after=role,
    )
    member.role = role
    session.flush()
    return True


def members(session: Session, workspace_id: int) -> list[tuple[Membership, User]]:
    return [
        (m, u)
        for m, u in session.execute(
            select(Membership, User)
            .join(User)
            .where(Membership.workspace_id == workspace_id)
            .order_by(Membership.id)
        )
    ]


def pending_invitations(session: Session, workspace_id: int) -> list[Invitation]:
    return list(
        session.execute(
            select(Invitation)
            .where(Invitation.workspace_id == workspace_id, Invitation.accepted_at.is_(None))
            .order_by(Invitation.id.desc())
        ).scalars()
    )

"""A workspace's team: invitations by email and the members' roles. Services flush;
callers commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Conflict
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


def invite(
    session: Session,
    workspace: Workspace,
    inviter: User,
    email: str,
    role: str,
    *,
    mail_from: str,
    accept_url: Callable[[str], str],
) -> Invitation:
    """Invite ``email`` as ``role`` and queue the invitation email (sent after the commit)
    with the link ``accept_url(token)``; the token itself is never stored."""
    if role not in ROLES:
        raise AccountError("Choose owner, admin or viewer.")
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
    return invitation


def open_invitation(session: Session, token: str) -> Invitation:
    invitation = session.execute(
        select(Invitation).where(Invitation.token_hash == _hash(token))
    ).scalar_one_or_none()
    if invitation is None or invitation.accepted_at is not None:
        raise AccountError("This invitation is not valid or was already used.")
    expires = invitation.expires_at
    if expires.tzinfo is None:  # SQLite returns naive UTC
        expires = expires.replace(tzinfo=dt.UTC)
    if expires < utcnow():
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


def remove_member(session: Session, member: Membership) -> None:
    """Remove a member; the last owner stays (:class:`LastOwner`)."""
    if member.role == "owner" and owners_count(session, member.workspace_id) <= 1:
        raise LastOwner()
    session.delete(member)
    session.flush()


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

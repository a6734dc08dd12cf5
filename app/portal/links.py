"""Portal links: ``/portal/<token>``, 90 days, one per customer, handed out again while
valid. The token is stored hashed (a database leak hands out no working link) and
encrypted (so the same link can be given again, in an email footer or to the embed)."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.hosts import hosted_base_url
from ..crypto import SecretUnreadable, decrypt, encrypt
from . import policy
from .models import PortalLink


def issue(
    session: Session, workspace_id: int, customer_id: str, *, now: dt.datetime
) -> tuple[PortalLink, str]:
    """The customer's valid link and its token; a new one when none has a week left."""
    current = session.execute(
        select(PortalLink)
        .where(
            PortalLink.workspace_id == workspace_id,
            PortalLink.customer_stripe_id == customer_id,
            PortalLink.revoked_at.is_(None),
        )
        .order_by(PortalLink.expires_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if current is not None and policy.reusable(
        expires_at=current.expires_at, revoked=False, now=now
    ):
        try:
            return current, decrypt(current.token_enc)
        except SecretUnreadable:
            pass  # encrypted under a key since removed: make a new one
    token = secrets.token_urlsafe(32)
    link = PortalLink(
        workspace_id=workspace_id,
        customer_stripe_id=customer_id,
        token_hash=policy.hash_token(token),
        token_enc=encrypt(token),
        created_at=now,
        expires_at=now + policy.LINK_TTL,
    )
    session.add(link)
    session.flush()
    return link, token


def find(session: Session, token: str) -> PortalLink | None:
    if not token or len(token) > 100:
        return None
    return session.execute(
        select(PortalLink).where(PortalLink.token_hash == policy.hash_token(token))
    ).scalar_one_or_none()


def is_usable(link: PortalLink, now: dt.datetime) -> bool:
    return link.revoked_at is None and now < link.expires_at


def url(session: Session, workspace_id: int, token: str) -> str:
    return f"{hosted_base_url(session, workspace_id)}/portal/{token}"


def url_for_customer(
    session: Session, workspace_id: int, customer_id: str, *, now: dt.datetime
) -> str:
    """The customer's portal address (for an email footer): their link, or a new one."""
    _, token = issue(session, workspace_id, customer_id, now=now)
    return url(session, workspace_id, token)


def revoke_all(session: Session, workspace_id: int, customer_id: str, *, now: dt.datetime) -> int:
    """End every link of the customer (support: a link was forwarded to someone)."""
    links = (
        session.execute(
            select(PortalLink).where(
                PortalLink.workspace_id == workspace_id,
                PortalLink.customer_stripe_id == customer_id,
                PortalLink.revoked_at.is_(None),
            )
        )
        .scalars()
        .all()
    )
    for link in links:
        link.revoked_at = now
    session.flush()
    return len(links)

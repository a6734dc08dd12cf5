"""Card-update links: ``/update-card/<token>``, 21 days, single use. Only a hash of the
token is stored, so a database leak hands out no working links."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.hosts import hosted_base_url
from .models import CardUpdateLink

LINK_TTL = dt.timedelta(days=21)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    workspace_id: int,
    *,
    purpose: str,
    customer_id: str,
    now: dt.datetime,
    email: str | None = None,
    campaign_id: int | None = None,
    invoice_id: str | None = None,
    subscription_id: str | None = None,
    step_id: int | None = None,
    dismissible: bool = False,
    ttl: dt.timedelta = LINK_TTL,
) -> tuple[CardUpdateLink, str]:
    """A new link and its token (the token is in the URL only)."""
    token = secrets.token_urlsafe(32)
    link = CardUpdateLink(
        workspace_id=workspace_id,
        token_hash=_hash(token),
        purpose=purpose,
        customer_stripe_id=customer_id,
        email=email,
        campaign_id=campaign_id,
        invoice_stripe_id=invoice_id,
        subscription_stripe_id=subscription_id,
        step_id=step_id,
        is_dismissible=dismissible,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(link)
    session.flush()
    return link, token


def find(session: Session, token: str) -> CardUpdateLink | None:
    if not token or len(token) > 100:
        return None
    return session.execute(
        select(CardUpdateLink).where(CardUpdateLink.token_hash == _hash(token))
    ).scalar_one_or_none()


def url_for_token(
    session: Session, workspace_id: int, token: str, path: str = "update-card"
) -> str:
    """The link on the workspace's hosted address (its custom domain once verified)."""
    return f"{hosted_base_url(session, workspace_id)}/{path}/{token}"


def is_expired(link: CardUpdateLink, now: dt.datetime) -> bool:
    return now >= link.expires_at


def is_usable(link: CardUpdateLink, now: dt.datetime) -> bool:
    return link.used_at is None and not is_expired(link, now)

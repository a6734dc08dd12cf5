"""Win-back links: ``/come-back/<token>``, 30 days, one customer, single use. Only a
hash of the token is stored, so a database leak hands out no working links."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..dunning.links import url_for_token
from .models import WinbackCampaign, WinbackLink

LINK_TTL = dt.timedelta(days=30)
PATH = "come-back"
FRESH_LINKS_PER_HOUR = 3


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    campaign: WinbackCampaign,
    *,
    now: dt.datetime,
    step_id: int | None = None,
    purpose: str = "touch",
) -> tuple[WinbackLink, str]:
    """A new link and its token (the token is in the URL only)."""
    token = secrets.token_urlsafe(32)
    link = WinbackLink(
        workspace_id=campaign.workspace_id,
        token_hash=_hash(token),
        campaign_id=campaign.id,
        step_id=step_id,
        purpose=purpose,
        created_at=now,
        expires_at=now + LINK_TTL,
    )
    session.add(link)
    session.flush()
    return link, token


def find(session: Session, token: str) -> WinbackLink | None:
    if not token or len(token) > 100:
        return None
    return session.execute(
        select(WinbackLink).where(WinbackLink.token_hash == _hash(token))
    ).scalar_one_or_none()


def url(session: Session, workspace_id: int, token: str) -> str:
    """The link on the workspace's hosted address (its custom domain once verified)."""
    return url_for_token(session, workspace_id, token, PATH)


def is_expired(link: WinbackLink, now: dt.datetime) -> bool:
    return now >= link.expires_at


def is_usable(link: WinbackLink, now: dt.datetime) -> bool:
    return link.used_at is None and not is_expired(link, now)


def fresh_links_lately(session: Session, campaign: WinbackCampaign, now: dt.datetime) -> int:
    return session.execute(
        select(func.count(WinbackLink.id)).where(
            WinbackLink.workspace_id == campaign.workspace_id,
            WinbackLink.campaign_id == campaign.id,
            WinbackLink.purpose == "fresh",
            WinbackLink.created_at >= now - dt.timedelta(hours=1),
        )
    ).scalar_one()

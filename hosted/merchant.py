"""The merchant as a customer-facing page shows them: the brand emails use, plus where
to write for help (the dunning emails' reply-to) and a way back to their own site."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.branding import brand, web_address
from app.accounts.models import Workspace
from app.dunning.models import DunningSettings

#: The page of a link we cannot tie to any merchant.
BACKSTOP = {
    "name": "Backstop",
    "color": "#4f46e5",
    "logo_url": None,
    "address": None,
    "support_email": None,
    "website_url": None,
    "is_backstop": True,
}


def page_brand(session: Session, workspace: Workspace) -> dict[str, Any]:
    """``brand(workspace)`` with the support address and the website, for hosted pages.
    Reads the dunning settings without making them (a page view writes nothing)."""
    reply_to = session.execute(
        select(DunningSettings.reply_to).where(DunningSettings.workspace_id == workspace.id)
    ).scalar_one_or_none()
    return {
        **brand(workspace),
        "support_email": reply_to or None,
        "website_url": web_address(workspace.website_url),
        "is_backstop": False,
    }

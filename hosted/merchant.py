"""The merchant as a customer-facing page shows them: the brand emails use, plus where
to write for help (the dunning emails' reply-to) and a way back to their own site."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.branding import brand, web_address
from app.accounts.models import Workspace
from app.dunning.models import DunningSettings
from app.portal.settings import config_of

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


#: The white label's button shapes, as the corner radius every page's buttons take.
RADIUS = {"square": "2px", "pill": "999px", "rounded": "8px"}


def page_brand(session: Session, workspace: Workspace) -> dict[str, Any]:
    """``brand(workspace)`` with the support address, the website and the white label
    (Settings → Portal: button shape, custom CSS, help links) for every hosted page.
    Reads settings without making them (a page view writes nothing)."""
    reply_to = session.execute(
        select(DunningSettings.reply_to).where(DunningSettings.workspace_id == workspace.id)
    ).scalar_one_or_none()
    look = config_of(session, workspace.id)
    return {
        **brand(workspace),
        "support_email": look.support_email or reply_to or None,
        "support_url": look.support_url,
        "website_url": web_address(workspace.website_url),
        "radius": RADIUS.get(look.button_style, RADIUS["rounded"]),
        "custom_css": look.custom_css or None,
        "is_backstop": False,
    }

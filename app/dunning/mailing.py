"""Writing to a merchant's customer: from the workspace's sender (its verified domain,
else the shared one; an unverified domain blocks), with its from-name and reply-to, in
the customer's language (their Stripe ``preferred_locales``, else the workspace's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..i18n import services as i18n
from ..models import utcnow
from ..outbox import services as outbox
from ..outbox.models import OutboxMessage
from ..portal import links as portal_links
from .config import settings_for


def send_to_customer(
    session: Session,
    workspace: Workspace,
    *,
    template: str,
    to: str,
    context: dict[str, Any],
    customer_id: str,
    campaign_id: int | None = None,
    step_id: int | None = None,
    language: i18n.Translator | None = None,
) -> OutboxMessage:
    """``language``: the one ``context`` was written in (``i18n.for_customer``); looked
    up from the customer when not given."""
    if language is None:
        language = i18n.for_customer(session, workspace.id, customer_id)
    settings = settings_for(session, workspace.id)
    # Every customer email links to their billing portal (the same 90-day link each time).
    portal_url = portal_links.url_for_customer(session, workspace.id, customer_id, now=utcnow())
    context = {**context, "portal_url": portal_url}
    sender = outbox.sender_for(session, workspace.id, settings.from_name or workspace.name)
    return outbox.send(
        session,
        template=template,
        to=to,
        context=context,
        from_email=sender.from_addr,
        workspace_id=workspace.id,
        reply_to=settings.reply_to,
        customer_id=customer_id,
        campaign_id=campaign_id,
        step_id=step_id,
        blocked=sender.blocked,
        locale=language.locale,
        overrides=language.overrides,
    )

"""The payment wall (DESIGN §7): a customer with an in-flight campaign gets a link to the
hosted wall for the newest one; anyone else is current. Services take ``now``, flush,
never commit."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..dunning import links
from ..recovery.campaigns import open_campaigns
from ..stripe.models import MirrorCustomer
from ..tenancy import scoped

log = logging.getLogger("backstop.embed")


class NotFound(Exception):
    """An unknown workspace or customer (the API answers 404 with this text)."""


@dataclass(frozen=True)
class Wall:
    """``url`` of the hosted wall, or None when the customer is current."""

    url: str | None = None


def workspace_by_slug(session: Session, slug: str) -> Workspace:
    workspace = session.execute(
        select(Workspace).where(Workspace.slug == slug)
    ).scalar_one_or_none()
    if workspace is None:
        raise NotFound("unknown workspace")
    return workspace


def payment_wall(
    session: Session,
    workspace: Workspace,
    customer_id: str,
    *,
    now: dt.datetime,
    dismissible: bool = False,
) -> Wall:
    """A fresh wall link for ``customer_id``'s newest in-flight campaign, or current."""
    customer = session.execute(
        scoped(MirrorCustomer, workspace.id).where(
            MirrorCustomer.stripe_id == customer_id, ~MirrorCustomer.is_deleted
        )
    ).scalar_one_or_none()
    # A held-out campaign gets nothing from Backstop, the wall included.
    campaigns = [c for c in open_campaigns(session, workspace.id, customer_id) if not c.is_holdout]
    if not campaigns:
        if customer is None:
            raise NotFound("unknown customer")
        return Wall()
    campaign = campaigns[-1]
    link, token = links.issue(
        session,
        workspace.id,
        purpose="wall",
        customer_id=customer_id,
        now=now,
        email=customer.email if customer is not None else None,
        campaign_id=campaign.id,
        invoice_id=campaign.invoice_stripe_id,
        subscription_id=campaign.subscription_stripe_id,
        dismissible=dismissible,
    )
    log.info(
        "embed.wall_opened workspace=%s campaign=%s link=%s dismissible=%s",
        workspace.id,
        campaign.id,
        link.id,
        dismissible,
    )
    return Wall(url=links.url_for_token(session, workspace.id, token, "wall"))

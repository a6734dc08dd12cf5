"""A customer's portal link by email: from an expired link's page ("Email me a new
link"), and from the workspace's login page where a customer types their email (like
Stripe's portal login link). The link goes only to the address Stripe has for the
customer; the page never says whether an address is a customer's. At most a few
emails an hour per customer. Services flush, never commit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.branding import brand
from ..accounts.models import Workspace
from ..dunning.mailing import send_to_customer
from ..outbox.models import OutboxMessage
from ..stripe.models import MirrorCustomer
from ..tenancy import scoped
from . import links, policy

TEMPLATE = "portal_link"
EMAILS_PER_HOUR = 3
#: Customers one address may reach (a shared billing inbox for a few accounts).
CUSTOMERS_PER_ADDRESS = 5


def email_link(
    session: Session, workspace: Workspace, customer_id: str, *, now: dt.datetime
) -> bool:
    """Email the customer their portal link; False when we have no address for them or
    they asked too often this hour."""
    customer = session.execute(
        scoped(MirrorCustomer, workspace.id).where(
            MirrorCustomer.stripe_id == customer_id, ~MirrorCustomer.is_deleted
        )
    ).scalar_one_or_none()
    if customer is None or not customer.email:
        return False
    recent = session.execute(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.workspace_id == workspace.id,
            OutboxMessage.customer_stripe_id == customer_id,
            OutboxMessage.template == TEMPLATE,
            OutboxMessage.created_at >= now - dt.timedelta(hours=1),
        )
    ).scalar_one()
    if recent >= EMAILS_PER_HOUR:
        return False
    _, token = links.issue(session, workspace.id, customer_id, now=now)
    send_to_customer(
        session,
        workspace,
        template=TEMPLATE,
        to=customer.email,
        context={
            "brand": brand(workspace),
            "button_url": links.url(session, workspace.id, token),
            "link_days": policy.LINK_TTL.days,
        },
        customer_id=customer_id,
    )
    return True


def request_by_email(
    session: Session, workspace: Workspace, email: str, *, now: dt.datetime
) -> int:
    """Email each customer of ``workspace`` with this address their link; how many were
    sent (the caller never tells the person asking)."""
    address = email.strip().lower()
    if "@" not in address or len(address) > 254:
        return 0
    customers = (
        session.execute(
            scoped(MirrorCustomer, workspace.id)
            .where(func.lower(MirrorCustomer.email) == address, ~MirrorCustomer.is_deleted)
            .order_by(MirrorCustomer.id.desc())
            .limit(CUSTOMERS_PER_ADDRESS)
        )
        .scalars()
        .all()
    )
    return sum(email_link(session, workspace, c.stripe_id, now=now) for c in customers)

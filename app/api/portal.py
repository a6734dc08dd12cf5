"""Opening the hosted portal from a merchant's page or server (DESIGN §8): the signed
request (``customer\\ntimestamp``) gets the customer's 90-day portal link, the same one
while it is valid. The customer's Stripe objects are mirrored first, here rather than
on the customer's page view, so the page itself needs no Stripe call."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..portal import links, sync
from ..stripe import connection as stripe_connection
from . import embed_secrets
from .wall import NotFound


def start(
    session: Session,
    workspace: Workspace,
    *,
    customer: str,
    timestamp: object,
    signature: object,
    now: dt.datetime,
) -> str:
    """The portal URL for ``customer``. Raises the signature's 401s and :class:`NotFound`."""
    embed_secrets.authenticate(
        workspace,
        customer=customer,
        timestamp=timestamp,
        signature=signature,
        now=int(now.timestamp()),
    )
    connection = stripe_connection.connected(session, workspace.id)
    if connection is None:
        raise NotFound("this workspace is not connected to Stripe")
    if not sync.refresh_customer(session, connection, workspace.id, customer, now=now):
        raise NotFound("unknown customer")
    _, token = links.issue(session, workspace.id, customer, now=now)
    return links.url(session, workspace.id, token)

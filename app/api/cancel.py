"""Starting a cancel flow from a merchant's page or server (DESIGN §8): the signed
request becomes a one-shot link to ``/cancel/<token>``. The embed endpoint answers it
as JSON; the hosted redirect (``POST /cancel/start``) sends the customer there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..accounts.hosts import hosted_base_url
from ..accounts.models import Workspace
from ..retain import flows, policy, sessions
from ..stripe import connection as stripe_connection
from . import embed_secrets


class BadReturnUrl(ValueError):
    """A ``return_url`` outside the workspace's own origins (400)."""


@dataclass(frozen=True)
class Started:
    url: str
    session_id: int


def allowed_origins(session: Session, workspace: Workspace) -> list[str]:
    origins = list(flows.settings_of(session, workspace.id).return_origins or [])
    if workspace.website_url:
        origins.append(workspace.website_url)
    return origins


def session_url(session: Session, workspace_id: int, token: str) -> str:
    return f"{hosted_base_url(session, workspace_id)}/cancel/{token}"


def start(
    session: Session,
    workspace: Workspace,
    *,
    customer: str,
    subscription: str,
    timestamp: object,
    signature: object,
    return_url: str | None,
    now: dt.datetime,
) -> Started:
    """Authenticate the request, then open (or, for a replay, reopen) the session.
    Raises the signature's 401s, :class:`sessions.NotFound` (404),
    :class:`sessions.AlreadyDecided` (410) and :class:`BadReturnUrl` (400)."""
    signed = embed_secrets.authenticate(
        workspace,
        customer=customer,
        timestamp=timestamp,
        signature=signature,
        now=int(now.timestamp()),
        subscription=subscription,
    )
    if return_url is not None and not policy.return_url_allowed(
        return_url, allowed_origins(session, workspace)
    ):
        raise BadReturnUrl(
            "return_url must be on your own site: add its origin under Cancel flows → Settings"
        )
    connection = stripe_connection.connected(session, workspace.id)
    if connection is None:
        raise sessions.NotFound("this workspace is not connected to Stripe")
    opened = sessions.open_session(
        session,
        connection,
        customer_id=customer,
        subscription_id=subscription,
        signature=signature if signed and isinstance(signature, str) else None,
        return_url=return_url,
        now=now,
    )
    return Started(session_url(session, workspace.id, opened.token), opened.cancel_session.id)

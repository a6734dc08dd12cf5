"""From the domain-event stream to deliveries: a consumer turns each committed event
into one delivery per enabled endpoint that asked for its type, and one per Slack or
Discord channel that posts it; the worker delivers them (:mod:`.outbound`).

Idempotent: a second hand-over of the same event (another consumer failed, the lease
ran out) finds its deliveries made and makes none (a unique key per event and target
holds even against two workers at once).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..events.models import DomainEvent
from ..models import utcnow
from ..stripe.models import MirrorCustomer, StripeConnection
from . import catalogue, channels, messages
from .deliveries import hand_over_new
from .models import ACTIVE, PENDING, Delivery, NotificationChannel, WebhookEndpoint

#: Every domain event an endpoint or a channel may want.
WANTED = sorted(set(catalogue.TYPES) | {n for _, n in messages.POSTS.values() if n})


@dataclass(frozen=True)
class Context:
    base_url: str
    lease: dt.timedelta


def context() -> Context:
    settings = current_app.config["BACKSTOP"]
    return Context(settings.base_url, dt.timedelta(seconds=settings.step_lease_seconds))


def consume(session: Session, event: DomainEvent) -> None:
    """The consumer ``create_app`` registers for :data:`WANTED`."""
    fan_out(session, event, context(), now=utcnow())


def fan_out(
    session: Session, event: DomainEvent, ctx: Context, *, now: dt.datetime
) -> list[Delivery]:
    """Make (and hand over) the deliveries of one event; returns the new ones."""
    done = {
        (row.endpoint_id, row.channel_id)
        for row in session.execute(
            select(Delivery.endpoint_id, Delivery.channel_id).where(Delivery.event_id == event.id)
        )
    }
    made: list[Delivery] = []
    if event.name in catalogue.SENT:
        made += _for_endpoints(session, event, done, now=now)
    made += _for_channels(session, event, done, ctx, now=now)
    if made:
        hand_over_new(session, made, now=now, lease=ctx.lease)  # one INSERT each, claimed
    return made


def _for_endpoints(
    session: Session, event: DomainEvent, done: set[tuple[Any, Any]], *, now: dt.datetime
) -> list[Delivery]:
    wanting = [
        endpoint
        for endpoint in session.execute(
            select(WebhookEndpoint).where(
                WebhookEndpoint.workspace_id == event.workspace_id,
                WebhookEndpoint.is_enabled.is_(True),
            )
        ).scalars()
        if (endpoint.id, None) not in done
        and (catalogue.ALL in endpoint.event_types or event.name in endpoint.event_types)
    ]
    if not wanting:
        return []
    workspace = session.get(Workspace, event.workspace_id)
    livemode = session.execute(
        select(StripeConnection.livemode).where(StripeConnection.workspace_id == event.workspace_id)
    ).scalar_one_or_none()
    payload = catalogue.envelope(
        event_id_=catalogue.event_id(event.id),
        event_type=event.name,
        created=event.occurred_at,
        workspace=workspace.slug if workspace else "",
        livemode=bool(livemode),
        data=event.data,
    )
    return [
        Delivery(
            workspace_id=event.workspace_id,
            endpoint_id=endpoint.id,
            event_id=event.id,
            event_type=event.name,
            payload=payload,
            status=PENDING,
            due_at=now,
        )
        for endpoint in wanting
    ]


def _for_channels(
    session: Session,
    event: DomainEvent,
    done: set[tuple[Any, Any]],
    ctx: Context,
    *,
    now: dt.datetime,
) -> list[Delivery]:
    made = []
    found = session.execute(
        select(NotificationChannel).where(
            NotificationChannel.workspace_id == event.workspace_id,
            NotificationChannel.state == ACTIVE,
        )
    ).scalars()
    customer: str | None = None
    for channel in found:
        if (None, channel.id) in done:
            continue
        post = messages.post_for(
            event.name, event.data, channel.posts, channels.threshold_of(channel)
        )
        if post is None:
            continue
        if customer is None:
            customer = customer_words(session, event.workspace_id, event.data.get("customer"))
        note = messages.note_for(post, event.data, customer=customer, base_url=ctx.base_url)
        made.append(
            Delivery(
                workspace_id=event.workspace_id,
                channel_id=channel.id,
                event_id=event.id,
                event_type=event.name,
                payload=messages.render(channel.kind, note),
                status=PENDING,
                due_at=now,
            )
        )
    return made


def customer_words(session: Session, workspace_id: int, customer_id: Any) -> str:
    """The customer as a message names them: their name, else their email, else "A
    customer" (a Stripe id means nothing in a channel)."""
    if not customer_id:
        return "A customer"
    row = session.execute(
        select(MirrorCustomer.name, MirrorCustomer.email).where(
            MirrorCustomer.workspace_id == workspace_id,
            MirrorCustomer.stripe_id == str(customer_id),
        )
    ).first()
    if row is None:
        return "A customer"
    return row.name or row.email or "A customer"

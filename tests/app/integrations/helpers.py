"""What the integration tests share: a clock the delivery task reads, endpoints and
channels pointed at a local receiver, and events emitted the way the loops emit them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.events import services as events
from app.extensions import db
from app.integrations import channels, endpoints
from app.integrations.endpoints import Rules
from app.integrations.models import Delivery, DeliveryAttempt
from workers import integration_tasks

LOCAL = Rules(allow_loopback=True)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: Any) -> dt.datetime:
        self.now += dt.timedelta(**kw)
        return self.now


def use_clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(integration_tasks, "_now", clock)
    return clock


def endpoint(ws, url: str, types: list[str] | None = None):
    return endpoints.create(db.session, ws.id, url=url, event_types=types or ["*"],
                            description="", rules=LOCAL)  # fmt: skip


def channel(ws, url: str, kind: str = "slack", posts: list[str] | None = None, threshold=None):
    return channels.create(
        db.session,
        ws.id,
        kind=kind,
        url=url,
        posts=posts or ["recovered"],
        threshold=threshold,
        rules=LOCAL,
    )


RECOVERED = {
    "campaign_id": 7,
    "invoice": "in_1",
    "customer": "cus_1",
    "subscription": "sub_1",
    "amount_minor": 4900,
    "currency": "usd",
    "decline_class": "scheduled",
    "decline_code": "insufficient_funds",
    "is_holdout": False,
    "reason": "the invoice was paid",
    "attribution": "retry",
    "recovered_minor": 4900,
}


def emit(ws, name: str = "recovery.campaign.recovered", data: dict | None = None, **kw: Any):
    event = events.emit(db.session, ws.id, name, subject="campaign:7",
                        data=RECOVERED if data is None else data, **kw)  # fmt: skip
    db.session.commit()
    return event


def deliveries() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.execute(select(Delivery).order_by(Delivery.id)).scalars())


def attempts(delivery: Delivery) -> list[DeliveryAttempt]:
    query = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
    return list(db.session.execute(query.order_by(DeliveryAttempt.id)).scalars())

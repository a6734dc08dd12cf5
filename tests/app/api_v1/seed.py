"""A workspace with API keys and a little of everything the API reads (flushed, never
committed: the test decides)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from app.accounts import api_keys
from app.accounts.models import Workspace
from app.events.models import DONE, DomainEvent
from app.extensions import db
from app.privacy.models import WorkspaceExport
from app.recovery.models import Campaign
from app.retain.models import CancelSession
from app.stripe import mirror

from .. import factories as f

_n = itertools.count(1)
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@dataclass
class Shop:
    workspace: Workspace
    write_key: str
    read_key: str
    ids: dict[str, str] = field(default_factory=dict)

    def auth(self, *, write: bool = True) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.write_key if write else self.read_key}"}


def keys(ws: Workspace) -> tuple[str, str]:
    _, write = api_keys.create(
        db.session, ws.id, name="Server", scope="read_write", created_by_id=None
    )
    _, read = api_keys.create(db.session, ws.id, name="Assistant", scope="read", created_by_id=None)
    return write, read


def campaign(ws: Workspace, customer: str, *, opened: dt.datetime = NOW, **kw: Any) -> Campaign:
    n = next(_n)
    row = Campaign(
        **{
            "workspace_id": ws.id,
            "invoice_stripe_id": f"in_api{n}",
            "customer_stripe_id": customer,
            "subscription_stripe_id": f"sub_api{n}",
            "amount_minor": 2900,
            "currency": "usd",
            "decline_code": "insufficient_funds",
            "decline_class": "scheduled",
            "opened_at": opened,
            "last_failure_at": opened,
            "window_ends_at": opened + dt.timedelta(days=30),
            **kw,
        }
    )
    db.session.add(row)
    db.session.flush()
    return row


def cancel_session(ws: Workspace, customer: str, **kw: Any) -> CancelSession:
    n = next(_n)
    row = CancelSession(
        **{
            "workspace_id": ws.id,
            "token_hash": f"{n:064d}",
            "customer_stripe_id": customer,
            "subscription_stripe_id": f"sub_cs{n}",
            "plan_name": "Studio",
            "amount_minor": 2900,
            "mrr_minor": 2900,
            "created_at": NOW,
            "expires_at": NOW + dt.timedelta(hours=24),
            **kw,
        }
    )
    db.session.add(row)
    db.session.flush()
    return row


def event(ws: Workspace, name: str, subject: str, **data: Any) -> DomainEvent:
    row = DomainEvent(
        workspace_id=ws.id,
        name=name,
        subject=subject,
        data=data,
        occurred_at=NOW,
        created_at=NOW,
        status=DONE,
        due_at=NOW,
    )
    db.session.add(row)
    db.session.flush()
    return row


def shop(name: str, customer: str) -> Shop:
    """A workspace with a customer who failed a payment (twice), tried to cancel, and
    left; with the events of it."""
    ws = f.workspace(name=name)
    write, read = keys(ws)
    mirror.upsert(
        db.session,
        ws.id,
        {"id": customer, "object": "customer", "email": f"{customer}@example.com", "name": name},
        1,
    )
    lost = campaign(ws, customer, state="lost", closed_at=NOW, opened=NOW - dt.timedelta(days=40))
    open_ = campaign(ws, customer)
    saved = cancel_session(ws, customer, outcome="saved", offer={"type": "pause", "months": 1})
    winback = f.winback_campaign(ws, customer)
    failed = event(ws, "recovery.campaign.started", f"campaign:{open_.id}", amount_minor=2900)
    export = WorkspaceExport(
        workspace_id=ws.id,
        requested_via="api",
        status="done",
        content_zip=b"PK\x05\x06" + bytes(18),
    )
    db.session.add(export)
    db.session.flush()
    return Shop(
        ws,
        write,
        read,
        {
            "campaign_id": f"cmp_{open_.id}",
            "lost_campaign_id": f"cmp_{lost.id}",
            "session_id": f"cs_{saved.id}",
            "winback_id": f"wbc_{winback.id}",
            "event_id": f"ev_{failed.id}",
            "customer_id": customer,
            "export_id": f"exp_{export.id}",
        },
    )

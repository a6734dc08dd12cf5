"""The production shape on one machine: the Stripe sandbox, gunicorn (2 workers) and a
Celery worker process, configured only by environment variables, sharing a database
migrated with ``flask db upgrade`` and a broker.

Embedded lane: a temp SQLite database and kombu's SQLAlchemy transport on a temp SQLite
file. Services lane: a fresh PostgreSQL database and the RabbitMQ broker (see stack.py).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from sqlalchemy import func, select

from .stack import make_client, post, stripe_call, stripe_post, wait_until


def test_a_connect_event_goes_through_gunicorn_and_a_worker(
    stack, db_view, sandbox_url: str
) -> None:
    from app.crypto import encrypt
    from app.stripe.models import MirrorCustomer, StripeConnection, StripeEvent
    from app.stripe.signatures import sign

    from ..app import factories as f

    db = db_view
    key = stack.platform_key
    account = stripe_post(
        sandbox_url, key, "/v1/accounts", {"type": "standard", "email": "owner@example.com"}
    )["id"]
    ws = f.workspace(f.user("owner@example.com"), "Multi Process Co")
    db.session.add(
        StripeConnection(
            workspace_id=ws.id,
            mode="oauth",
            stripe_account_id=account,
            livemode=False,
            secret_enc=encrypt("sk_test_" + secrets.token_hex(8)),
            scope="read_write",
            status="connected",
            import_status="done",
            import_progress={},
        )
    )
    db.session.commit()
    workspace_id = ws.id

    merchant = make_client(sandbox_url, key, stripe_account=account)
    customer = merchant.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada Lovelace"}
    )

    def processed_event() -> StripeEvent | None:
        for proc in stack.procs:
            assert proc.alive(), f"{proc.name} exited:\n{proc.output()}"
        db.session.remove()  # a fresh session: see what the other processes committed
        event = db.session.execute(
            select(StripeEvent).where(
                StripeEvent.type == "customer.created", StripeEvent.account == account
            )
        ).scalar_one_or_none()
        return event if event is not None and event.status == "processed" else None

    def diagnose() -> str:
        return "\n".join(f"--- {p.name}\n{p.output()}" for p in stack.procs)

    event = wait_until(
        "the customer.created event to be stored and processed", processed_event, diagnose=diagnose
    )
    assert event.workspace_id == workspace_id
    assert event.payload["data"]["object"]["id"] == customer.id
    assert event.attempts == 1 and event.processed_at is not None
    mirrored = db.session.execute(
        select(MirrorCustomer).where(MirrorCustomer.stripe_id == customer.id)
    ).scalar_one()
    assert mirrored.workspace_id == workspace_id
    assert (mirrored.email, mirrored.name) == ("ada@example.com", "Ada Lovelace")

    def snapshot() -> tuple[Any, ...]:
        db.session.remove()
        row = db.session.get(StripeEvent, event.id)
        mirror_row = db.session.get(MirrorCustomer, mirrored.id)
        return (
            db.session.execute(select(func.count()).select_from(StripeEvent)).scalar_one(),
            db.session.execute(select(func.count()).select_from(MirrorCustomer)).scalar_one(),
            row.status,
            row.attempts,
            row.processed_at,
            row.payload,
            mirror_row.data,
            mirror_row.source_created,
            mirror_row.updated_at,
        )

    before = snapshot()
    # Stripe delivers the same event again (a retry after a timeout, say).
    body = json.dumps(event.payload).encode()
    status, answer = post(
        stack.web_url + "/webhooks/stripe",
        body,
        {
            "Content-Type": "application/json",
            "Stripe-Signature": sign(body, stack.webhook_secret, int(time.time())),
        },
    )
    assert (status, answer) == (200, {"received": True, "duplicate": True})
    # A later event through the same pipeline is a barrier: once it is processed, any
    # work the duplicate might have queued before it has had its turn too.
    later = merchant.v1.customers.create(params={"email": "grace@example.com"})
    wait_until(
        "a later event to be processed",
        lambda: (
            db.session.remove()
            or (
                db.session.execute(
                    select(MirrorCustomer).where(MirrorCustomer.stripe_id == later.id)
                ).scalar_one_or_none()
            )
        ),
        diagnose=diagnose,
    )
    after = snapshot()
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1  # only the later one
    assert after[2:] == before[2:]

    # Stripe's side: the original delivery was accepted on the first attempt (recorded
    # once the sandbox's deliverer settles, which can be just after our 200).
    stripe_call(sandbox_url, key, "/v1/test_helpers/sandbox/webhooks/flush", b"")
    attempts = stripe_call(sandbox_url, key, "/v1/test_helpers/sandbox/webhook_attempts")
    ours = [a for a in attempts["data"] if a["event"] == event.stripe_event_id]
    assert [(a["attempt"], a["status"]) for a in ours] == [(1, 200)]

"""Factories for app tests: they flush, never commit (the test decides)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from app.accounts import services as accounts
from app.accounts.models import Membership, User, Workspace
from app.crypto import encrypt
from app.extensions import db
from app.stripe.models import StripeConnection
from app.stripe.signatures import sign

PASSWORD = "correct horse battery"
_n = itertools.count(1)


def user(email: str | None = None, **kw: Any) -> User:
    return accounts.create_user(db.session, email or f"user{next(_n)}@example.com", PASSWORD, **kw)


def workspace(owner: User | None = None, name: str | None = None) -> Workspace:
    return accounts.create_workspace(db.session, owner or user(), name or f"Shop {next(_n)}")


def member(ws: Workspace, role: str = "viewer", email: str | None = None) -> User:
    u = user(email)
    db.session.add(Membership(workspace_id=ws.id, user_id=u.id, role=role))
    db.session.flush()
    return u


def connection(
    ws: Workspace,
    *,
    account: str | None = None,
    mode: str = "oauth",
    webhook_secret: str | None = None,
    status: str = "connected",
) -> StripeConnection:
    conn = StripeConnection(
        workspace_id=ws.id,
        mode=mode,
        stripe_account_id=account or f"acct_test{next(_n)}",
        livemode=False,
        secret_enc=encrypt("sk_test_unused"),
        webhook_secret_enc=encrypt(webhook_secret) if webhook_secret else None,
        status=status,
        import_status="done",
        import_progress={},
    )
    db.session.add(conn)
    db.session.flush()
    return conn


def event(
    event_type: str = "customer.created",
    *,
    account: str | None = None,
    obj: dict[str, Any] | None = None,
    created: int | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": event_id or f"evt_test{next(_n)}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created or int(time.time()),
        "data": {
            "object": obj
            or {
                "id": f"cus_{next(_n)}",
                "object": "customer",
                "email": "a@example.com",
                "name": "A",
            }
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None},
        "type": event_type,
    }
    if account:
        body["account"] = account
    return body


def signed(body: dict[str, Any] | bytes, secret: str, at: int | None = None) -> tuple[bytes, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {
        "Stripe-Signature": sign(raw, secret, at or int(time.time())),
        "Content-Type": "application/json",
    }


def login(web, u: User) -> int:
    """Sign ``u`` in on ``web`` as the log-in form would: a committed ``user_session``
    row named by the cookie. Its id."""
    from app.accounts import user_sessions
    from app.accounts.access import SESSION_KEY
    from app.models import utcnow

    record = user_sessions.start(db.session, u, ip="127.0.0.1", user_agent="tests", now=utcnow())
    db.session.commit()  # the client's requests run in sessions of their own
    with web.session_transaction() as s:
        s["_user_id"] = str(u.id)
        s["_fresh"] = True
        s[SESSION_KEY] = record.id
    return record.id


def winback_campaign(ws: Workspace, customer: str = "cus_wb", **kw: Any) -> Any:
    """A win-back campaign row (flushed), ended a week ago unless told otherwise."""
    import datetime as dt

    from app.winback.models import WinbackCampaign

    n = next(_n)
    ended = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    row = WinbackCampaign(
        **{
            "workspace_id": ws.id,
            "customer_stripe_id": customer,
            "subscription_stripe_id": f"sub_wb{n}",
            "email": f"{customer}@example.com",
            "customer_name": "Casey Customer",
            "kind": "voluntary",
            "reason": "too_expensive",
            "plan_name": "Pro",
            "amount_minor": 4900,
            "currency": "usd",
            "mrr_minor": 4900,
            "ended_at": ended,
            "state": "active",
            **kw,
        }
    )
    db.session.add(row)
    db.session.flush()
    return row


def winback_step(campaign: Any, number: int = 1, **kw: Any) -> Any:
    """A touch (or, with ``kind="close"``, the close) of a win-back campaign (flushed)."""
    import datetime as dt

    from app.winback.models import WinbackStep

    row = WinbackStep(
        **{
            "workspace_id": campaign.workspace_id,
            "campaign_id": campaign.id,
            "kind": "email",
            "number": number,
            "due_at": campaign.ended_at + dt.timedelta(days=14 * number),
            "reason": f"touch {number}: 14 days after, at 10:00 the customer's time",
            "status": "pending",
            **kw,
        }
    )
    db.session.add(row)
    db.session.flush()
    return row


def checkout_recovery_campaign(ws: Workspace, email: str = "cart@example.com", **kw: Any) -> Any:
    """A checkout-recovery campaign row (flushed), its checkout expired a day ago."""
    import datetime as dt

    from app.checkout_recovery.models import CheckoutRecoveryCampaign

    n = next(_n)
    row = CheckoutRecoveryCampaign(
        **{
            "workspace_id": ws.id,
            "session_stripe_id": f"cs_test_{n}",
            "customer_stripe_id": None,
            "email": email,
            "customer_name": "Casey Cart",
            "consent": "stripe",
            "price_ids": ["price_pro"],
            "plan_name": "Pro",
            "amount_minor": 4900,
            "currency": "usd",
            "recovery_url": f"https://checkout.example/c/recover/{n}",
            "expired_at": dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            "state": "active",
            **kw,
        }
    )
    db.session.add(row)
    db.session.flush()
    return row


def dispute(ws: Workspace, stripe_id: str | None = None, **kw: Any) -> Any:
    """A dispute mirror row (no Stripe behind it), needing a response in a week."""
    import datetime as dt

    from app.disputes.models import Dispute

    opened = kw.pop("opened_at", dt.datetime.now(dt.UTC))
    row = Dispute(
        workspace_id=ws.id,
        stripe_id=stripe_id or f"dp_test{next(_n)}",
        charge_stripe_id=f"ch_test{next(_n)}",
        customer_stripe_id=kw.pop("customer", "cus_dp"),
        status=kw.pop("status", "needs_response"),
        reason=kw.pop("reason", "fraudulent"),
        network=kw.pop("network", "visa"),
        amount_minor=kw.pop("amount_minor", 2900),
        currency="usd",
        charged_at=opened - dt.timedelta(days=2),
        opened_at=opened,
        due_by=opened + dt.timedelta(days=7),
        likely_cause=kw.pop("likely_cause", "friendly_fraud"),
        recommended_action=kw.pop("recommended_action", "fight"),
        signals=kw.pop("signals", {"usage": "used", "timing": "renewal", "why": "active"}),
        evidence=kw.pop(
            "evidence", {"customer_name": "Ada Lovelace", "uncategorized_text": "Records."}
        ),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row

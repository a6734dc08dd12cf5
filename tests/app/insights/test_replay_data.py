"""The failures a what-if replay loads from the database: this workspace's campaigns of
the last 90 days with their attempts (first decline, retries, payment), its imported
failed renewals (no decline code), an invoice in both counted once, the newest N only."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from app.extensions import db
from app.insights import replay_data
from app.insights.replay import IMPORTED, LIVE, LOST, OPEN, RECOVERED, PastFailure
from app.recovery.models import Campaign, ChargeAttempt
from app.stripe import mirror

from .. import factories as f

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
_n = itertools.count(1)


def a_campaign(ws, opened: dt.datetime, **kw) -> Campaign:
    n = next(_n)
    row = Campaign(
        **{
            "workspace_id": ws.id,
            "invoice_stripe_id": f"in_live{n}",
            "customer_stripe_id": "cus_1",
            "amount_minor": 2900,
            "currency": "usd",
            "decline_code": "insufficient_funds",
            "decline_class": "scheduled",
            "customer_tz": "Europe/Paris",
            "card_brand": "visa",
            "opened_at": opened,
            "last_failure_at": opened,
            "window_ends_at": opened + 30 * DAY,
            **kw,
        }
    )
    db.session.add(row)
    db.session.flush()
    return row


def an_attempt(row: Campaign, at: dt.datetime, *, succeeded: bool = False, **kw) -> None:
    db.session.add(
        ChargeAttempt(
            workspace_id=row.workspace_id,
            campaign_id=row.id,
            invoice_stripe_id=row.invoice_stripe_id,
            charge_stripe_id=f"ch_{next(_n)}",
            at=at,
            source=kw.pop("source", "stripe"),
            succeeded=succeeded,
            **kw,
        )
    )
    db.session.flush()


def an_invoice(ws, invoice_id: str, created: dt.datetime, **kw) -> None:
    paid_at = kw.pop("paid_at", None)
    obj = {
        "id": invoice_id,
        "object": "invoice",
        "customer": kw.pop("customer", "cus_old"),
        "subscription": "sub_old",
        "billing_reason": kw.pop("billing_reason", "subscription_cycle"),
        "status": kw.pop("status", "paid"),
        "amount_due": 2900,
        "amount_paid": 2900 if paid_at else 0,
        "currency": "usd",
        "created": int(created.timestamp()),
        "attempt_count": kw.pop("attempts", 1),
        "status_transitions": {
            "finalized_at": int(created.timestamp()),
            "paid_at": int(paid_at.timestamp()) if paid_at else None,
        },
        **kw,
    }
    mirror.upsert(db.session, ws.id, obj, int(created.timestamp()))


@pytest.fixture
def ws(ctx):
    shop = f.workspace(name="Replay Co")
    conn = f.connection(shop)
    conn.connected_at = NOW - 40 * DAY
    db.session.flush()
    return shop


def load(ws, **kw) -> replay_data.History:
    return replay_data.load(db.session, ws.id, now=NOW, import_days=90, **kw)


def test_live_campaigns_come_with_their_first_decline_and_their_retries(ws) -> None:
    opened = NOW - 10 * DAY
    row = a_campaign(
        ws,
        opened,
        decline_code="do_not_honor",  # the latest decline; the first was insufficient funds
        state="recovered",
        attribution="retry",
        closed_at=opened + 3 * DAY,
    )
    an_attempt(row, opened, decline_code="insufficient_funds", card_brand="mastercard")
    an_attempt(row, opened + DAY, decline_code="do_not_honor")
    an_attempt(row, opened + 3 * DAY, succeeded=True, source="backstop")
    a_campaign(ws, NOW - 91 * DAY)  # older than 90 days
    other = f.workspace(name="Someone else")
    a_campaign(other, NOW - DAY)
    mirror.upsert(
        db.session,
        ws.id,
        {
            "id": "in_paid_before",
            "object": "invoice",
            "customer": "cus_1",
            "status": "paid",
            "amount_paid": 2900,
            "currency": "usd",
            "created": 1,
            "status_transitions": {"paid_at": int((opened - 30 * DAY).timestamp())},
        },
        1,
    )

    history = load(ws)
    assert [x.invoice for x in history.failures] == [row.invoice_stripe_id]
    past = history.failures[0]
    assert past.source == LIVE and past.code_known
    assert past.failed_at == opened
    assert past.decline_code == "insufficient_funds" and past.card_brand == "mastercard"
    assert past.retries_at == (opened + DAY, opened + 3 * DAY)
    assert past.outcome == RECOVERED and past.paid_by == "retry"
    assert past.paid_at == opened + 3 * DAY
    assert past.tz == "Europe/Paris"
    assert past.payday_history == (opened - 30 * DAY,)
    assert not history.truncated and history.live == 1 and history.imported == 0


def test_a_campaign_without_recorded_attempts_uses_its_own_codes(ws) -> None:
    a_campaign(ws, NOW - DAY, decline_code=None, failure_code="expired_card", card_brand="amex")
    past = load(ws).failures[0]
    assert (past.decline_code, past.failure_code, past.card_brand) == (None, "expired_card", "amex")
    assert past.retries_at == () and past.outcome == "in_flight"


def test_the_imported_history_gives_counts_and_outcomes_but_no_codes(ws) -> None:
    start = NOW - 120 * DAY  # 80 days before connecting
    an_invoice(ws, "in_recovered", start, attempts=3, paid_at=start + 5 * DAY)
    an_invoice(ws, "in_paid_late", start + DAY, attempts=2, paid_at=start + 40 * DAY)
    an_invoice(ws, "in_uncollectible", start + 2 * DAY, status="uncollectible", attempts=4)
    an_invoice(ws, "in_open", NOW - 45 * DAY, status="open", attempts=1)
    an_invoice(ws, "in_first_try", start + 3 * DAY, attempts=1, paid_at=start + 3 * DAY)
    an_invoice(ws, "in_first", start, billing_reason="subscription_create", attempts=2)
    an_invoice(ws, "in_too_old", NOW - 140 * DAY, attempts=2, paid_at=NOW - 139 * DAY)
    an_invoice(ws, "in_after", NOW - 10 * DAY, attempts=2, paid_at=NOW - 9 * DAY)

    history = load(ws)
    found = {x.invoice: x for x in history.failures}
    assert set(found) == {"in_recovered", "in_paid_late", "in_uncollectible", "in_open"}
    assert all(x.source == IMPORTED and not x.code_known for x in found.values())
    assert all(x.decline_code is None and x.retries_at == () for x in found.values())
    assert found["in_recovered"].outcome == RECOVERED
    assert found["in_recovered"].actual_retries == 2
    assert found["in_recovered"].paid_at == start + 5 * DAY
    assert found["in_paid_late"].outcome == LOST  # paid after its 30 days, as for the baseline
    assert found["in_uncollectible"].outcome == LOST
    assert found["in_uncollectible"].actual_retries == 3
    # Still open at Stripe, but its 30 days are over: not recovered, as for the baseline.
    assert found["in_open"].outcome == LOST and found["in_open"].actual_retries == 0
    assert history.imported == 4 and history.connected_at == NOW - 40 * DAY
    times = [x.failed_at for x in history.failures]
    assert times == sorted(times, reverse=True)


def test_an_imported_invoice_with_a_campaign_is_the_campaign(ws) -> None:
    failed = NOW - 50 * DAY
    a_campaign(ws, failed, invoice_stripe_id="in_both")
    an_invoice(ws, "in_both", failed, status="open", attempts=1)
    history = load(ws)
    assert [(x.invoice, x.source) for x in history.failures] == [("in_both", LIVE)]


def test_only_the_newest_are_loaded_and_the_page_is_told(ws) -> None:
    rows = [a_campaign(ws, NOW - n * DAY) for n in range(1, 5)]
    an_invoice(ws, "in_imported", NOW - 60 * DAY, status="open", attempts=2)
    history = load(ws, limit=3)
    assert history.truncated
    assert [x.invoice for x in history.failures] == [r.invoice_stripe_id for r in rows[:3]]
    assert not load(ws, limit=5).truncated


def test_a_workspace_never_connected_has_no_imported_history(ctx) -> None:
    shop = f.workspace(name="Unconnected")
    a_campaign(shop, NOW - DAY)
    history = load(shop)
    assert history.connected_at is None and history.live == 1 and history.imported == 0


def test_an_imported_failure_still_inside_its_30_days_is_open() -> None:
    created = NOW - 5 * DAY
    data = {
        "id": "in_recent",
        "object": "invoice",
        "subscription": "sub_1",
        "billing_reason": "subscription_cycle",
        "status": "open",
        "amount_due": 100,
        "currency": "eur",
        "created": int(created.timestamp()),
        "attempt_count": 2,
    }
    past = replay_data.imported_failure(data, now=NOW)
    assert isinstance(past, PastFailure)
    assert past.outcome == OPEN and past.failed_at == created and past.actual_retries == 1
    assert replay_data.imported_failure({**data, "attempt_count": 0}, now=NOW) is None

"""The baseline before Backstop: which imported invoices are renewals whose first payment
failed, which of those were paid within 30 days without Backstop, per currency; only
failures whose window closed before connecting; computed and stored once the import is
done."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.insights import baseline
from app.insights.models import InsightBaseline
from app.stripe import mirror, processing

from .. import factories as f

DAY = 86400
CONNECTED = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
T0 = int(CONNECTED.timestamp())


def invoice(
    n: int = 1,
    *,
    created: int = T0 - 60 * DAY,
    status: str = "paid",
    attempts: int = 2,
    paid_after: int | None = 5 * DAY,
    reason: str = "subscription_cycle",
    amount: int = 2900,
    currency: str = "usd",
    **extra,
) -> dict:
    paid_at = created + paid_after if status == "paid" and paid_after is not None else None
    return {
        "id": f"in_{n}",
        "object": "invoice",
        "customer": f"cus_{n}",
        "subscription": f"sub_{n}",
        "billing_reason": reason,
        "status": status,
        "attempt_count": attempts,
        "attempted": attempts > 0,
        "amount_due": amount,
        "amount_paid": amount if status == "paid" else 0,
        "currency": currency,
        "created": created,
        "status_transitions": {"finalized_at": created, "paid_at": paid_at},
        **extra,
    }


# -- the rule ---------------------------------------------------------------------------------


def test_a_renewal_paid_on_its_first_attempt_did_not_fail() -> None:
    assert baseline.failed_renewal(invoice(attempts=1)) is None
    assert baseline.failed_renewal(invoice(attempts=0, status="draft")) is None


def test_paid_after_a_failed_attempt_within_30_days_was_recovered_alone() -> None:
    found = baseline.failed_renewal(invoice(attempts=3, paid_after=29 * DAY))
    assert found is not None and found.is_recovered and found.recovered_minor == 2900
    late = baseline.failed_renewal(invoice(attempts=3, paid_after=31 * DAY))
    assert late is not None and not late.is_recovered  # failed, paid too late to count


def test_paid_out_of_band_after_one_failed_attempt_failed_first() -> None:
    found = baseline.failed_renewal(invoice(attempts=1, paid_out_of_band=True))
    assert found is not None and found.is_recovered
    assert baseline.failed_renewal(invoice(attempts=0, paid_out_of_band=True)) is None


def test_attempted_and_unpaid_invoices_failed_and_were_not_recovered() -> None:
    for status in ("open", "uncollectible", "void"):
        found = baseline.failed_renewal(invoice(status=status, attempts=1))
        assert found is not None and not found.is_recovered
        assert baseline.failed_renewal(invoice(status=status, attempts=0)) is None


def test_only_renewals_count() -> None:
    for reason in ("subscription_create", "manual", "subscription", None):
        assert baseline.failed_renewal(invoice(reason=reason)) is None
    assert baseline.failed_renewal(invoice(reason="subscription_update")) is not None
    assert baseline.failed_renewal(invoice(subscription=None)) is None
    assert baseline.failed_renewal(invoice(amount=0)) is None


def test_a_paid_invoice_without_paid_at_is_not_counted_as_recovered() -> None:
    found = baseline.failed_renewal(invoice(paid_after=None))
    assert found is not None and not found.is_recovered


def test_tally_per_currency_never_adds_currencies() -> None:
    rows = baseline.tally(
        [
            invoice(1),
            invoice(2, status="open", attempts=2),
            invoice(3, currency="eur", amount=1000),
            invoice(4, attempts=1),  # paid at once: not a failure
        ],
        since=T0 - 90 * DAY,
        until=T0 - 30 * DAY,
    )
    assert set(rows) == {"usd", "eur"}
    assert (rows["usd"].failed_count, rows["usd"].failed_minor) == (2, 5800)
    assert (rows["usd"].recovered_count, rows["usd"].recovered_minor) == (1, 2900)
    assert rows["usd"].rate == 0.5 and rows["eur"].rate == 1.0


INVOICES = st.lists(
    st.builds(
        invoice,
        st.integers(1, 10**6),
        created=st.integers(T0 - 100 * DAY, T0 + 20 * DAY),
        status=st.sampled_from(["paid", "open", "uncollectible", "void", "draft"]),
        attempts=st.integers(0, 5),
        paid_after=st.one_of(st.none(), st.integers(0, 60 * DAY)),
        reason=st.sampled_from(["subscription_cycle", "subscription_update", "manual"]),
        amount=st.integers(0, 10**6),
        currency=st.sampled_from(["usd", "eur", "jpy"]),
    ),
    max_size=30,
)


@given(INVOICES)
def test_the_rate_is_a_share_and_only_closed_pre_connect_failures_count(invoices) -> None:
    since, until = T0 - 90 * DAY, T0 - 30 * DAY
    rows = baseline.tally(invoices, since=since, until=until)
    counted = [i for i in invoices if since <= i["created"] < until]
    assert rows == baseline.tally(counted, since=since, until=until)  # nothing after `until`
    assert all(i["created"] < T0 for i in counted)
    for row in rows.values():
        assert row.rate is not None and 0 <= row.rate <= 1
        assert 0 <= row.recovered_minor <= row.failed_minor
    assert sum(r.failed_count for r in rows.values()) <= len(counted)


# -- the service ------------------------------------------------------------------------------


def test_the_import_done_stores_the_baseline_per_currency(ctx) -> None:
    ws = f.workspace(name="Baseline")
    other = f.workspace(name="Other")
    conn = f.connection(ws)
    conn.connected_at = CONNECTED
    feed = [
        invoice(1),  # recovered alone
        invoice(2, status="uncollectible", attempts=4),  # lost
        invoice(3, paid_after=40 * DAY, attempts=5),  # paid too late
        invoice(4, currency="eur", amount=1000, status="open", attempts=2),
        invoice(5, attempts=1),  # paid at once
        invoice(6, created=T0 - 10 * DAY),  # its window had not closed at connecting
        invoice(7, created=T0 + DAY),  # after connecting
        invoice(8, created=T0 - 95 * DAY),  # before the imported days
    ]
    for obj in feed:
        mirror.upsert(db.session, ws.id, obj, T0)
    mirror.upsert(db.session, other.id, invoice(9, amount=999999), T0)
    assert baseline.imported in processing._HANDLERS[processing.IMPORTED]  # subscribed
    baseline.imported(db.session, conn, {})
    rows = {r.currency: r for r in baseline.of_workspace(db.session, ws.id)}
    assert set(rows) == {"usd", "eur"}
    usd = rows["usd"]
    assert (usd.failed_count, usd.failed_minor) == (3, 8700)
    assert (usd.recovered_count, usd.recovered_minor) == (1, 2900)
    assert (rows["eur"].failed_count, rows["eur"].recovered_count) == (1, 0)
    assert usd.window_start_at == CONNECTED - dt.timedelta(days=90)
    assert usd.window_end_at == CONNECTED - dt.timedelta(days=30)
    assert baseline.of_workspace(db.session, other.id) == []
    baseline.imported(db.session, conn, {})  # again: replaced, not doubled
    assert db.session.query(InsightBaseline).filter_by(workspace_id=ws.id).count() == 2


def test_a_history_without_failed_renewals_is_recorded_as_such(ctx) -> None:
    ws = f.workspace(name="Clean")
    conn = f.connection(ws)
    conn.connected_at = CONNECTED
    mirror.upsert(db.session, ws.id, invoice(1, attempts=1), T0)
    baseline.imported(db.session, conn, {})
    [row] = baseline.of_workspace(db.session, ws.id)
    assert row.currency == "" and row.failed_count == 0

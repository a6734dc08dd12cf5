"""CSV exports: built in id order in batches with the progress recorded after each,
the merchant's columns with money in major units and times in UTC, hostile text kept
from running as a formula, the row cap, the lease that makes a dead build startable
again, and the range rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets

import pytest
from sqlalchemy import select

from app.errors import Conflict, Refusal
from app.extensions import db
from app.insights import exports
from app.insights.models import InsightExport
from app.recovery.models import Campaign
from app.retain.models import CancelSession

from .. import factories as f

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def a_campaign(ws, n: int, **kw) -> Campaign:
    opened = kw.pop("opened_at", NOW - dt.timedelta(days=3))
    row = Campaign(
        **{
            "workspace_id": ws.id,
            "invoice_stripe_id": f"in_{n}",
            "customer_stripe_id": f"cus_{n}",
            "amount_minor": 4900,
            "currency": "usd",
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


def a_session(ws, **kw) -> CancelSession:
    row = CancelSession(
        **{
            "workspace_id": ws.id,
            "token_hash": secrets.token_hex(16),
            "customer_stripe_id": "cus_c",
            "subscription_stripe_id": "sub_c",
            "expires_at": NOW + dt.timedelta(days=1),
            "created_at": NOW - dt.timedelta(days=2),
            **kw,
        }
    )
    db.session.add(row)
    db.session.flush()
    return row


def an_export(ws, kind: str = "recovery", days: int = 90) -> InsightExport:
    row = exports.start(
        db.session, ws.id, kind, NOW.date() - dt.timedelta(days=days - 1), NOW.date(),
        requested_by_id=None, now=NOW,
    )  # fmt: skip
    db.session.flush()
    return row


def build(row: InsightExport, **kw) -> tuple[str | None, list[tuple[int, int | None]]]:
    """Build in this session, noting the progress at every checkpoint."""
    seen: list[tuple[int, int | None]] = []

    def checkpoint() -> None:
        db.session.flush()
        fresh = db.session.get(InsightExport, row.id)
        seen.append((fresh.rows_written, fresh.total_rows))

    db.session.info.pop("backstop.pending_tasks", None)  # built here, not by the task
    outcome = exports.build(db.session, row.id, now=lambda: NOW, checkpoint=checkpoint, **kw)
    return outcome, seen


def rows_of(row: InsightExport) -> list[list[str]]:
    return list(csv.reader(io.StringIO(exports.csv_bytes(row).decode("utf-8"))))


def test_builds_in_id_order_in_batches_recording_progress(ctx) -> None:
    ws = f.workspace()
    made = [a_campaign(ws, n) for n in range(7)]
    a_campaign(ws, 99, opened_at=NOW - dt.timedelta(days=200))  # before the range
    a_campaign(f.workspace(), 100)  # another workspace's
    row = an_export(ws)
    outcome, seen = build(row, batch=3)
    assert outcome == "done"
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7), (7, 7)]
    assert row.status == "done" and row.rows_written == 7 and row.finished_at == NOW
    assert row.lease_until is None and row.note is None
    table = rows_of(row)
    assert table[0][:4] == ["Campaign ID", "Payment failed at (UTC)", "Customer ID", "Invoice ID"]
    assert [int(r[0]) for r in table[1:]] == [c.id for c in made]


def test_columns_in_the_merchants_words_money_in_major_units_times_in_utc(ctx) -> None:
    ws = f.workspace()
    a_campaign(ws, 1, amount_minor=123456, currency="usd", state="recovered",
               attribution="card_update", recovered_minor=123456,
               closed_at=dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC))  # fmt: skip
    a_campaign(ws, 2, amount_minor=5000, currency="jpy")
    row = an_export(ws)
    build(row)
    header, usd, jpy = rows_of(row)
    record = dict(zip(header, usd, strict=True))
    assert record["Amount"] == "1234.56" and record["Currency"] == "USD"
    assert record["Status"] == "Recovered" and record["Recovered by"] == "Card update"
    assert record["Decline type"] == "Retried on a cadence"
    assert record["Closed at (UTC)"] == "2026-11-18T09:30:00Z"
    assert record["Payment failed at (UTC)"] == "2026-11-17T12:00:00Z"
    assert dict(zip(header, jpy, strict=True))["Amount"] == "5000"


def test_hostile_text_is_quoted_and_never_a_formula(ctx) -> None:
    ws = f.workspace()
    a_session(ws, customer_name='=HYPERLINK("http://evil","x")', reason_text='a, "b"\nc',
              feedback="+1 great", mrr_minor=4900, outcome="saved")  # fmt: skip
    a_session(ws, is_simulation=True)  # the merchant's walk-through: not a customer
    row = an_export(ws, "cancel")
    build(row)
    header, *body = rows_of(row)
    assert len(body) == 1
    record = dict(zip(header, body[0], strict=True))
    assert record["Customer name"] == '\'=HYPERLINK("http://evil","x")'
    assert record["Customer's words"] == 'a, "b"\nc'  # CSV quoting kept it one cell
    assert record["Feedback"] == "'+1 great"
    assert record["Monthly value"] == "49.00" and record["Outcome"] == "Saved"


def test_win_back_campaigns_export_with_what_was_regained(ctx) -> None:
    ws = f.workspace()
    f.winback_campaign(ws, "cus_w", state="won", won_via="link", regained_mrr_minor=3900,
                       regained_currency="eur", new_subscription_stripe_id="sub_new",
                       ended_at=NOW - dt.timedelta(days=3))  # fmt: skip
    row = an_export(ws, "winback")
    build(row)
    header, won = rows_of(row)
    record = dict(zip(header, won, strict=True))
    assert record["Status"] == "Won back" and record["Why they left"] == "Too expensive"
    assert record["Monthly value lost"] == "49.00" and record["Currency"] == "USD"
    assert record["Monthly value regained"] == "39.00" and record["Regained currency"] == "EUR"


def test_the_cap_cuts_the_file_and_says_so(ctx) -> None:
    ws = f.workspace()
    for n in range(5):
        a_campaign(ws, n)
    row = an_export(ws)
    build(row, cap=3, batch=2)
    assert row.status == "done" and row.rows_written == 3 and row.total_rows == 5
    assert len(rows_of(row)) == 4
    assert "Only the first 3 of 5 rows" in row.note


def test_a_build_takes_its_export_once_and_a_dead_ones_lease_frees_it(ctx) -> None:
    ws = f.workspace()
    a_campaign(ws, 1)
    row = an_export(ws)
    assert exports.take(db.session, row.id, now=NOW)
    assert not exports.take(db.session, row.id, now=NOW + dt.timedelta(minutes=1))
    db.session.refresh(row)
    assert row.status == "running" and not exports.is_stale(row, NOW + dt.timedelta(minutes=1))
    later = NOW + exports.LEASE + dt.timedelta(seconds=1)
    assert exports.is_stale(row, later)
    with pytest.raises(Conflict):
        exports.restart(db.session, row, now=NOW + dt.timedelta(minutes=1))
    exports.restart(db.session, row, now=later)
    assert row.status == "queued" and row.lease_until == later + exports.LEASE
    # A message redelivered after its worker died may take it back too.
    row.status, row.lease_until = "running", NOW
    db.session.flush()
    assert exports.take(db.session, row.id, now=later)


def test_a_queued_export_no_worker_took_is_stale_after_a_lease(ctx) -> None:
    row = an_export(f.workspace())
    assert not exports.is_stale(row, NOW)
    assert exports.is_stale(row, NOW + exports.LEASE)


def test_a_build_superseded_by_a_restart_stops(ctx) -> None:
    ws = f.workspace()
    for n in range(4):
        a_campaign(ws, n)
    row = an_export(ws)
    calls = []

    def checkpoint() -> None:
        calls.append(1)
        if len(calls) == 1:  # while it runs, the page starts it again
            db.session.execute(
                InsightExport.__table__.update()
                .where(InsightExport.id == row.id)
                .values(attempts=InsightExport.attempts + 1)
            )

    db.session.info.pop("backstop.pending_tasks", None)
    out = exports.build(db.session, row.id, now=lambda: NOW, checkpoint=checkpoint, batch=2)
    assert out is None and row.content_gz is None


@pytest.mark.parametrize(
    ("kind", "first", "last", "error"),
    [
        ("recovery", "2026-11-20", "2026-11-01", "on or before"),
        ("payouts", "2026-11-01", "2026-11-20", "Choose what to export"),
        ("recovery", "2024-01-01", "2026-11-20", "two years"),
        ("recovery", "yesterday", "2026-11-20", "start date must be a date"),
    ],
)
def test_bad_requests_are_refused(kind: str, first: str, last: str, error: str) -> None:
    with pytest.raises(Refusal, match=error):
        exports.parse_request(kind, first, last)


def test_two_years_to_the_day_is_allowed() -> None:
    assert exports.parse_request("cancel", "2024-11-21", "2026-11-20")[0] == "cancel"


def test_the_task_builds_it_after_the_commit(ctx) -> None:
    ws = f.workspace()
    a_campaign(ws, 1)
    row = an_export(ws)
    db.session.commit()  # eager: the task runs now, in its own session
    db.session.expire_all()
    done = db.session.execute(select(InsightExport)).scalar_one()
    assert done.id == row.id and done.status == "done" and done.rows_written == 1
    assert len(rows_of(done)) == 2


def test_the_task_records_a_failure(ctx, monkeypatch) -> None:
    from workers.insights_tasks import build_export

    row = an_export(f.workspace())
    db.session.info.pop("backstop.pending_tasks", None)
    db.session.commit()

    def broken(*a, **kw):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "count", broken)
    with pytest.raises(RuntimeError):
        build_export.apply(args=[row.id], throw=True)
    db.session.expire_all()
    failed = db.session.get(InsightExport, row.id)
    assert failed.status == "failed" and "disk on fire" in failed.error
    assert failed.lease_until is None

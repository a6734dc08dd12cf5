"""CSV exports of a workspace's recovery campaigns, cancel sessions and win-back
campaigns over a range of its days, built by a worker in batches.

The build reads the rows in id order, :data:`BATCH` at a time (keyset pagination: never
all rows at once), writes them through a gzip stream, and records its progress after
every batch. A build renews the export's lease each batch; a ``running`` export whose
lease ran out lost its worker and may be started again from the page (it starts over:
the file is only kept once complete). Services flush; the caller commits, except
:func:`build`, which commits through ``checkpoint`` so the page sees the progress.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, defer

from ..accounts.models import Workspace
from ..errors import Conflict, Refusal
from ..money import decimal_text
from ..queue import enqueue
from ..recovery.labels import LABELS
from ..recovery.models import Campaign
from ..retain.models import CancelSession
from ..times import zone
from ..winback.models import WinbackCampaign
from ..winback.policy import REASON_LABELS
from .models import InsightExport

log = logging.getLogger("backstop.insights")

BUILD_TASK = "insights.build_export"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
DEFAULT_DAYS = 90
MAX_DAYS = 731  # two years, a leap day included
BATCH = 1000
#: Rows past this are left out (with a note): a bigger file is a range too wide to open.
MAX_ROWS = 200_000
LEASE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Kind:
    label: str
    model: Any
    day_column: Any
    """The time that puts a row in the range (its start)."""
    header: tuple[str, ...]
    row: Callable[[Any], list[str]]
    extra: tuple[Any, ...] = ()
    """Conditions beyond the workspace and the range."""


def _time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def text(value: Any) -> str:
    """A cell of free text (a customer's words, a name) that a spreadsheet must not take
    for a formula: a leading ``= + - @`` (or tab, carriage return) gets a quote."""
    out = "" if value is None else str(value)
    return "'" + out if out[:1] in ("=", "+", "-", "@", "\t", "\r") else out


def _money(minor: int | None, currency: str | None) -> str:
    return decimal_text(int(minor or 0), currency) if currency else ""


def _recovery_row(c: Campaign) -> list[str]:
    return [
        str(c.id), _time(c.opened_at), text(c.customer_stripe_id), text(c.invoice_stripe_id),
        text(c.subscription_stripe_id), _money(c.amount_minor, c.currency), c.currency.upper(),
        LABELS["state"].get(c.state, c.state),
        LABELS["class"].get(c.decline_class, c.decline_class),
        text(c.decline_code), LABELS["attribution"].get(c.attribution or "", text(c.attribution)),
        _money(c.recovered_minor, c.currency), _money(c.refunded_minor, c.currency),
        _time(c.closed_at), text(c.close_reason), str(c.auto_retries),
    ]  # fmt: skip


def _cancel_row(s: CancelSession) -> list[str]:
    offer = (s.offer or {}).get("label") if isinstance(s.offer, dict) else None
    return [
        str(s.id), _time(s.created_at), text(s.customer_stripe_id), text(s.customer_name),
        text(s.subscription_stripe_id), text(s.plan_name), _money(s.mrr_minor, s.currency),
        s.currency.upper(), text(s.reason_label or s.reason_key), text(s.reason_text),
        text(s.feedback), text(offer or s.offer_step), (s.outcome or "undecided").capitalize(),
        _time(s.outcome_at), _time(s.ends_at),
    ]  # fmt: skip


_WINBACK_STATES = {"active": "In progress", "won": "Won back", "returned": "Came back on their own",
                   "stopped": "Stopped", "ended": "Ended without coming back"}  # fmt: skip


def _winback_row(w: WinbackCampaign) -> list[str]:
    regained = w.regained_currency or w.currency
    return [
        str(w.id), _time(w.ended_at), text(w.customer_stripe_id), text(w.customer_name),
        text(w.email), text(w.subscription_stripe_id), text(w.plan_name),
        "Chose to leave" if w.kind == "voluntary" else "Payment failed",
        REASON_LABELS.get(w.reason, text(w.reason)), _money(w.mrr_minor, w.currency),
        w.currency.upper(), _WINBACK_STATES.get(w.state, w.state), text(w.won_via),
        text(w.new_subscription_stripe_id),
        _money(w.regained_mrr_minor, regained) if w.regained_mrr_minor else "",
        regained.upper() if w.regained_mrr_minor else "", _time(w.closed_at),
    ]  # fmt: skip


KINDS = {
    "recovery": Kind(
        "Recovery campaigns", Campaign, Campaign.opened_at,
        ("Campaign ID", "Payment failed at (UTC)", "Customer ID", "Invoice ID",
         "Subscription ID", "Amount", "Currency", "Status", "Decline type", "Decline code",
         "Recovered by", "Amount recovered", "Refunded since", "Closed at (UTC)", "Why it closed",
         "Automatic retries"),
        _recovery_row,
    ),
    "cancel": Kind(
        "Cancel sessions", CancelSession, CancelSession.created_at,
        ("Session ID", "Started at (UTC)", "Customer ID", "Customer name", "Subscription ID",
         "Plan", "Monthly value", "Currency", "Reason", "Customer's words", "Feedback",
         "Offer accepted", "Outcome", "Decided at (UTC)", "Subscription ends at (UTC)"),
        _cancel_row,
        (CancelSession.is_simulation.is_(False),),
    ),
    "winback": Kind(
        "Win-back campaigns", WinbackCampaign, WinbackCampaign.ended_at,
        ("Campaign ID", "Subscription ended at (UTC)", "Customer ID", "Customer name", "Email",
         "Ended subscription ID", "Plan", "How it ended", "Why they left", "Monthly value lost",
         "Currency", "Status", "Won back via", "New subscription ID", "Monthly value regained",
         "Regained currency", "Closed at (UTC)"),
        _winback_row,
    ),
}  # fmt: skip


# -- asking for one --------------------------------------------------------------------------


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today


def parse_request(kind: str, first: str, last: str) -> tuple[str, dt.date, dt.date]:
    """The kind and range a form asked for, or a :class:`Refusal` saying what is wrong."""
    errors = []
    if kind not in KINDS:
        errors.append("Choose what to export: recovery campaigns, cancel sessions or win-back.")
    days: list[dt.date] = []
    for name, value in (("start", first), ("end", last)):
        try:
            days.append(dt.date.fromisoformat((value or "").strip()))
        except ValueError:
            errors.append(f"The {name} date must be a date such as 2026-01-31.")
    if len(days) == 2:
        if days[0] > days[1]:
            errors.append("The start date must be on or before the end date.")
        elif (days[1] - days[0]).days + 1 > MAX_DAYS:
            errors.append("Choose at most two years at a time.")
    if errors:
        raise Refusal(*errors)
    return kind, days[0], days[1]


def start(
    session: Session,
    workspace_id: int,
    kind: str,
    first: dt.date,
    last: dt.date,
    *,
    requested_by_id: int | None,
    now: dt.datetime,
) -> InsightExport:
    """Record an export and send its build after the commit; a worker should take it
    within a lease (else the page offers to start it again)."""
    row = InsightExport(
        lease_until=now + LEASE,
        workspace_id=workspace_id,
        kind=kind,
        first_day=first,
        last_day=last,
        requested_by_id=requested_by_id,
        status=QUEUED,
    )
    session.add(row)
    session.flush()
    enqueue(session, BUILD_TASK, row.id)
    log.info("insights.export.queued workspace=%s export=%s kind=%s", workspace_id, row.id, kind)
    return row


def is_stale(row: InsightExport, now: dt.datetime) -> bool:
    """Queued with no worker taking it, or running with no progress, for a whole lease
    (the message was lost, or the worker died)."""
    return row.status in (QUEUED, RUNNING) and (row.lease_until is None or row.lease_until <= now)


def restart(session: Session, row: InsightExport, *, now: dt.datetime) -> InsightExport:
    """Send a failed or stalled export's build again (it starts over; a worker still
    writing it after all loses its lease and finds the row taken at its next batch)."""
    if row.status != FAILED and not is_stale(row, now):
        raise Conflict("This export is still being built.")
    row.status, row.error, row.note, row.rows_written = QUEUED, None, None, 0
    row.lease_until, row.finished_at = now + LEASE, None
    session.flush()
    enqueue(session, BUILD_TASK, row.id)
    return row


def of_workspace(session: Session, workspace_id: int, export_id: int) -> InsightExport | None:
    return session.execute(
        select(InsightExport).where(
            InsightExport.workspace_id == workspace_id, InsightExport.id == export_id
        )
    ).scalar_one_or_none()


def recent(session: Session, workspace_id: int, limit: int = 20) -> list[InsightExport]:
    """The workspace's latest exports (the file's bytes are not loaded)."""
    return list(
        session.execute(
            select(InsightExport)
            .options(defer(InsightExport.content_gz))
            .where(InsightExport.workspace_id == workspace_id)
            .order_by(InsightExport.id.desc())
            .limit(limit)
        ).scalars()
    )


def filename(row: InsightExport) -> str:
    return f"{row.kind}-{row.first_day.isoformat()}-to-{row.last_day.isoformat()}.csv"


def percent(row: InsightExport) -> int:
    if row.status == DONE:
        return 100
    if not row.total_rows:
        return 0
    return min(99, row.rows_written * 100 // min(row.total_rows, MAX_ROWS))


# -- building it -----------------------------------------------------------------------------


def take(session: Session, export_id: int, *, now: dt.datetime) -> bool:
    """The build takes its export: queued, or running past its lease (a worker died)."""
    claimable = (InsightExport.status == QUEUED) | (
        (InsightExport.status == RUNNING) & (InsightExport.lease_until <= now)
    )  # the second: a message redelivered after its worker died
    result = session.execute(
        update(InsightExport)
        .where(InsightExport.id == export_id, claimable)
        .values(status=RUNNING, lease_until=now + LEASE, attempts=InsightExport.attempts + 1)
    )
    return result.rowcount == 1


def _bounds(session: Session, row: InsightExport) -> tuple[dt.datetime, dt.datetime]:
    tz = zone(session.get(Workspace, row.workspace_id).timezone)
    start_at = dt.datetime.combine(row.first_day, dt.time(), tz).astimezone(dt.UTC)
    end_at = dt.datetime.combine(row.last_day + dt.timedelta(days=1), dt.time(), tz)
    return start_at, end_at.astimezone(dt.UTC)


def _batches(session: Session, row: InsightExport, cap: int, batch: int) -> Iterator[list[Any]]:
    kind = KINDS[row.kind]
    model = kind.model
    start_at, end_at = _bounds(session, row)
    where = (
        (model.workspace_id == row.workspace_id)
        & (kind.day_column >= start_at)
        & (kind.day_column < end_at)
    )
    for extra in kind.extra:
        where = where & extra
    after, left = 0, cap
    while left > 0:
        rows = (
            session.execute(
                select(model)
                .where(where, model.id > after)
                .order_by(model.id)
                .limit(min(batch, left))
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield list(rows)
        after, left = rows[-1].id, left - len(rows)


def count(session: Session, row: InsightExport) -> int:
    kind = KINDS[row.kind]
    start_at, end_at = _bounds(session, row)
    query = select(func.count()).where(
        kind.model.workspace_id == row.workspace_id,
        kind.day_column >= start_at,
        kind.day_column < end_at,
        *kind.extra,
    )
    return int(session.execute(query).scalar_one())


def build(
    session: Session,
    export_id: int,
    *,
    now: Callable[[], dt.datetime],
    checkpoint: Callable[[], None],
    cap: int = MAX_ROWS,
    batch: int = BATCH,
) -> str | None:
    """Take the export and write its CSV, calling ``checkpoint()`` (the task's commit)
    after every batch with the progress and a renewed lease. None when another build
    holds it (a redelivered message)."""
    if not take(session, export_id, now=now()):
        session.rollback()
        return None
    row = session.get(InsightExport, export_id)
    assert row is not None
    mine = row.attempts
    row.total_rows = count(session, row)
    row.rows_written = 0
    checkpoint()
    kind = KINDS[row.kind]
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        out = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        writer = csv.writer(out)
        writer.writerow(kind.header)
        written = 0
        for rows in _batches(session, row, cap, batch):
            writer.writerows(kind.row(r) for r in rows)
            written += len(rows)
            out.flush()
            held = session.execute(
                select(InsightExport.status, InsightExport.attempts).where(
                    InsightExport.id == export_id
                )
            ).one()
            if tuple(held) != (RUNNING, mine):
                log.info("insights.export.superseded export=%s", export_id)
                return None  # restarted from the page after our lease ran out
            row = session.get(InsightExport, export_id)
            row.rows_written = written
            row.lease_until = now() + LEASE
            checkpoint()
        out.flush()
        out.detach()
    row = session.get(InsightExport, export_id)
    row.content_gz = buffer.getvalue()
    row.rows_written = written
    if (row.total_rows or 0) > cap:
        row.note = (
            f"Only the first {cap:,} of {row.total_rows:,} rows are in the file: "
            "choose a shorter range for the rest."
        )
    row.status, row.lease_until, row.finished_at = DONE, None, now()
    checkpoint()
    log.info(
        "insights.export.done workspace=%s export=%s rows=%s", row.workspace_id, row.id, written
    )
    return DONE


def fail(session: Session, export_id: int, detail: str, *, now: dt.datetime) -> None:
    row = session.get(InsightExport, export_id)
    if row is not None:
        row.status, row.error, row.lease_until, row.finished_at = FAILED, detail[:1000], None, now
        session.flush()


def csv_bytes(row: InsightExport) -> bytes:
    return gzip.decompress(row.content_gz or b"")

"""The merchant's recovery rate before Backstop, from the invoices imported on connecting.

Of the renewal invoices whose first payment failed, the share paid within 30 days is
what Stripe's own retries and the customers achieved alone: the dashboard applies that
rate to the renewals that failed under Backstop (the counterfactual). Which invoices
count is a pure rule (:func:`failed_renewal`, :func:`tally`); it is computed once the
import is done (:func:`imported`) and kept in ``insight_baseline``.

Only failures whose whole window closed before the connection count: a renewal that
failed a week before connecting had three weeks left, in which Backstop was at work.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import utcnow
from ..stripe.models import MirrorInvoice, StripeConnection
from .models import InsightBaseline

log = logging.getLogger("backstop.insights")

#: Stripe's billing reasons of a subscription's renewal (not its first invoice).
RENEWALS = frozenset({"subscription_cycle", "subscription_update"})
#: Paid this long after the failure or sooner: recovered without Backstop.
WINDOW_DAYS = 30
DAY = 86400


@dataclass(frozen=True)
class FailedRenewal:
    currency: str
    amount_minor: int
    created: int
    is_recovered: bool
    recovered_minor: int


@dataclass
class Tally:
    """Failed renewals and those recovered alone, in one currency."""

    failed_count: int = 0
    failed_minor: int = 0
    recovered_count: int = 0
    recovered_minor: int = 0

    @property
    def rate(self) -> float | None:
        return self.recovered_count / self.failed_count if self.failed_count else None


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def failed_renewal(
    invoice: Mapping[str, Any], window_days: int = WINDOW_DAYS
) -> FailedRenewal | None:
    """The invoice as a renewal whose first payment failed, or None if it is not one.

    ``attempt_count`` counts Stripe's payment attempts: a paid invoice took more than
    one, or was paid out of band after at least one; an open, uncollectible or void
    invoice was attempted and not paid. A draft was never attempted."""
    if invoice.get("billing_reason") not in RENEWALS or not invoice.get("subscription"):
        return None
    amount = _int(invoice.get("amount_due"))
    created = _int(invoice.get("created"))
    currency = str(invoice.get("currency") or "").lower()[:3]
    if amount <= 0 or not created or not currency:
        return None
    attempts = _int(invoice.get("attempt_count"))
    status = invoice.get("status")
    if status == "paid":
        failed = attempts > 1 or (attempts >= 1 and bool(invoice.get("paid_out_of_band")))
    elif status in ("open", "uncollectible", "void"):
        failed = attempts >= 1
    else:
        return None
    if not failed:
        return None
    transitions = invoice.get("status_transitions") or {}
    failed_at = _int(transitions.get("finalized_at")) or created
    paid_at = _int(transitions.get("paid_at"))
    # A paid invoice with no paid_at cannot be placed in the window: not counted as
    # recovered alone (Stripe always sets it; this errs against Backstop, not for it).
    recovered = status == "paid" and bool(paid_at) and paid_at - failed_at <= window_days * DAY
    paid = _int(invoice.get("amount_paid")) or amount
    return FailedRenewal(currency, amount, created, recovered, paid if recovered else 0)


def tally(
    invoices: Iterable[Mapping[str, Any]],
    *,
    since: int,
    until: int,
    window_days: int = WINDOW_DAYS,
) -> dict[str, Tally]:
    """Per currency, the renewals created in ``[since, until)`` (epochs) whose first
    payment failed, and those paid within ``window_days`` of it."""
    out: dict[str, Tally] = {}
    for invoice in invoices:
        found = failed_renewal(invoice, window_days)
        if found is None or not since <= found.created < until:
            continue
        row = out.setdefault(found.currency, Tally())
        row.failed_count += 1
        row.failed_minor += found.amount_minor
        if found.is_recovered:
            row.recovered_count += 1
            row.recovered_minor += found.recovered_minor
    return out


def window_of(
    connected_at: dt.datetime, *, import_days: int, window_days: int = WINDOW_DAYS
) -> tuple[dt.datetime, dt.datetime]:
    """The failures the baseline counts: from the import's first day to ``window_days``
    before connecting (their window closed before Backstop started)."""
    return (
        connected_at - dt.timedelta(days=import_days),
        connected_at - dt.timedelta(days=window_days),
    )


def recompute(
    session: Session, connection: StripeConnection, *, now: dt.datetime, import_days: int
) -> list[InsightBaseline]:
    """Replace the workspace's baseline with one computed from its mirrored invoices.
    Flushes."""
    start, end = window_of(connection.connected_at, import_days=import_days)
    since, until = int(start.timestamp()), int(end.timestamp())
    data = session.execute(
        select(MirrorInvoice.data).where(
            MirrorInvoice.workspace_id == connection.workspace_id,
            MirrorInvoice.subscription_stripe_id.is_not(None),
            MirrorInvoice.stripe_created >= since,
            MirrorInvoice.stripe_created < until,
        )
    ).scalars()
    per = tally(data, since=since, until=until) or {"": Tally()}
    session.execute(
        delete(InsightBaseline).where(InsightBaseline.workspace_id == connection.workspace_id)
    )
    rows = [
        InsightBaseline(
            workspace_id=connection.workspace_id,
            currency=currency,
            failed_count=t.failed_count,
            failed_minor=t.failed_minor,
            recovered_count=t.recovered_count,
            recovered_minor=t.recovered_minor,
            window_start_at=start,
            window_end_at=end,
            computed_at=now,
        )
        for currency, t in sorted(per.items())
    ]
    session.add_all(rows)
    session.flush()
    log.info(
        "insights.baseline.computed workspace=%s currencies=%s failed=%s",
        connection.workspace_id,
        ",".join(sorted(per)) or "-",
        sum(t.failed_count for t in per.values()),
    )
    return rows


def of_workspace(session: Session, workspace_id: int) -> list[InsightBaseline]:
    """The stored baseline rows (none until an import has completed)."""
    return list(
        session.execute(
            select(InsightBaseline)
            .where(InsightBaseline.workspace_id == workspace_id)
            .order_by(InsightBaseline.currency)
        ).scalars()
    )


def imported(session: Session, connection: StripeConnection, payload: dict[str, Any]) -> None:
    """``backstop.imported``: the history is in the mirror; compute the baseline."""
    recompute(
        session,
        connection,
        now=utcnow(),
        import_days=current_app.config["BACKSTOP"].import_days,
    )

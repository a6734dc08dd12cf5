"""The failures a what-if replay runs over, for one workspace: the campaigns opened in
the last 90 days (with every attempt on their invoice) and the failed renewals of the
history imported on connecting. Bounded: the newest :data:`MAX_FAILURES` only.

Reads, never writes. Every query is scoped to the workspace and starts from an index
that begins with ``workspace_id``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..recovery.models import Campaign, ChargeAttempt
from ..stripe.models import MirrorInvoice, StripeConnection
from ..times import aware
from .baseline import DAY, failed_renewal
from .replay import IMPORTED, LIVE, LOST, OPEN, RECOVERED, PastFailure

MAX_FAILURES = 5000
LIVE_DAYS = 90
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class History:
    failures: list[PastFailure]
    """Newest first, at most ``limit``."""
    truncated: bool
    connected_at: dt.datetime | None
    """When Stripe was connected (None: never): the import covers the days before."""
    import_days: int

    @property
    def live(self) -> int:
        return sum(1 for f in self.failures if f.source == LIVE)

    @property
    def imported(self) -> int:
        return sum(1 for f in self.failures if f.source == IMPORTED)


def load(
    session: Session,
    workspace_id: int,
    *,
    now: dt.datetime,
    import_days: int,
    limit: int | None = None,
) -> History:
    """The workspace's failures to replay: live ones of the last :data:`LIVE_DAYS` days
    and imported ones, the newest ``limit`` (:data:`MAX_FAILURES`) of them together."""
    limit = MAX_FAILURES if limit is None else limit
    live = _live(session, workspace_id, since=now - dt.timedelta(days=LIVE_DAYS), limit=limit)
    connected_at = session.execute(
        select(StripeConnection.connected_at).where(StripeConnection.workspace_id == workspace_id)
    ).scalar_one_or_none()
    imported: list[PastFailure] = []
    if connected_at is not None:
        connected_at = aware(connected_at)
        imported = _imported(
            session,
            workspace_id,
            since=connected_at - dt.timedelta(days=import_days),
            until=connected_at,
            now=now,
            limit=limit,
        )
    # An invoice open when imported got a campaign: the campaign, with its decline
    # codes, stands for it.
    seen = {f.invoice for f in live}
    both = live + [f for f in imported if f.invoice not in seen]
    both.sort(key=lambda f: f.failed_at, reverse=True)
    return History(both[:limit], len(both) > limit, connected_at, import_days)


# -- live campaigns -------------------------------------------------------------------------


def _live(
    session: Session, workspace_id: int, *, since: dt.datetime, limit: int
) -> list[PastFailure]:
    campaigns = list(
        session.execute(
            select(
                Campaign.id,
                Campaign.invoice_stripe_id,
                Campaign.customer_stripe_id,
                Campaign.opened_at,
                Campaign.closed_at,
                Campaign.state,
                Campaign.attribution,
                Campaign.decline_code,
                Campaign.failure_code,
                Campaign.advice_code,
                Campaign.network_advice_code,
                Campaign.card_brand,
                Campaign.customer_tz,
            )
            .where(Campaign.workspace_id == workspace_id, Campaign.opened_at >= since)
            .order_by(Campaign.opened_at.desc(), Campaign.id.desc())
            .limit(limit + 1)
        )
    )
    attempts = _attempts(session, workspace_id, [c.id for c in campaigns])
    paydays = _paydays(session, workspace_id, {c.customer_stripe_id for c in campaigns})
    return [
        _live_failure(c, attempts.get(c.id, []), paydays.get(c.customer_stripe_id, ()))
        for c in campaigns
    ]


def _live_failure(c: Any, attempts: list[Any], paydays: Sequence[dt.datetime]) -> PastFailure:
    opened = aware(c.opened_at)
    # The campaign keeps the latest decline; the replay starts from the first one.
    first = next((a for a in attempts if not a.succeeded), None)
    codes = first if first is not None else c
    return PastFailure(
        invoice=c.invoice_stripe_id,
        failed_at=opened,
        outcome=c.state,
        source=LIVE,
        decline_code=codes.decline_code,
        failure_code=codes.failure_code,
        advice_code=codes.advice_code,
        network_advice_code=codes.network_advice_code,
        card_brand=(first.card_brand if first is not None else None) or c.card_brand,
        tz=c.customer_tz or "UTC",
        retries_at=tuple(at for a in attempts if (at := aware(a.at)) > opened),
        paid_at=aware(c.closed_at) if c.state == RECOVERED and c.closed_at else None,
        paid_by=c.attribution,
        payday_history=tuple(paydays),
    )


def _attempts(session: Session, workspace_id: int, campaign_ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    for chunk in _chunks(campaign_ids):
        rows = session.execute(
            select(
                ChargeAttempt.campaign_id,
                ChargeAttempt.at,
                ChargeAttempt.succeeded,
                ChargeAttempt.card_brand,
                ChargeAttempt.decline_code,
                ChargeAttempt.failure_code,
                ChargeAttempt.advice_code,
                ChargeAttempt.network_advice_code,
            )
            .where(ChargeAttempt.workspace_id == workspace_id, ChargeAttempt.campaign_id.in_(chunk))
            .order_by(ChargeAttempt.at, ChargeAttempt.id)
        )
        for row in rows:
            found[row.campaign_id].append(row)
    return found


def _paydays(
    session: Session, workspace_id: int, customers: set[str]
) -> dict[str, list[dt.datetime]]:
    """When each customer's invoices were paid, as ``mirror.paid_at_history`` reads it
    for the worker (the replay keeps those before each failure)."""
    found: dict[str, list[dt.datetime]] = defaultdict(list)
    for chunk in _chunks(sorted(customers)):
        rows = session.execute(
            select(MirrorInvoice.customer_stripe_id, MirrorInvoice.data).where(
                MirrorInvoice.workspace_id == workspace_id,
                MirrorInvoice.customer_stripe_id.in_(chunk),
                MirrorInvoice.status == "paid",
            )
        )
        for customer, data in rows:
            at = ((data or {}).get("status_transitions") or {}).get("paid_at")
            if at and (data or {}).get("amount_paid"):
                found[customer].append(dt.datetime.fromtimestamp(int(at), dt.UTC))
    return found


# -- the imported history -------------------------------------------------------------------


def _imported(
    session: Session,
    workspace_id: int,
    *,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
    limit: int,
) -> list[PastFailure]:
    """Renewals created in ``[since, until)`` whose first payment failed (the baseline's
    rule). Stripe's invoice list gives their attempt count and payment time, not their
    decline codes nor when each attempt was made."""
    attempts = MirrorInvoice.data["attempt_count"].as_integer()
    rows = session.execute(
        select(MirrorInvoice.data)
        .where(
            MirrorInvoice.workspace_id == workspace_id,
            MirrorInvoice.subscription_stripe_id.is_not(None),
            MirrorInvoice.stripe_created >= int(since.timestamp()),
            MirrorInvoice.stripe_created < int(until.timestamp()),
            # Paid at the first try is no failure: skip those in the database.
            or_(
                MirrorInvoice.status != "paid",
                attempts > 1,
                MirrorInvoice.data["paid_out_of_band"].as_boolean().is_(True),
            ),
        )
        .order_by(MirrorInvoice.stripe_created.desc(), MirrorInvoice.id.desc())
        .limit(limit + 1)
    ).scalars()
    return [f for data in rows if (f := imported_failure(data, now=now)) is not None]


def imported_failure(data: dict[str, Any], *, now: dt.datetime) -> PastFailure | None:
    """An imported invoice as a past failure, or None when it is not a failed renewal.
    Recovered means paid within 30 days of the failure, as for the baseline."""
    if failed_renewal(data) is None:
        return None
    transitions = data.get("status_transitions") or {}
    failed = int(transitions.get("finalized_at") or data.get("created") or 0)
    paid = int(transitions.get("paid_at") or 0)
    failed_at = dt.datetime.fromtimestamp(failed, dt.UTC)
    recovered = data.get("status") == "paid" and bool(paid) and paid - failed <= 30 * DAY
    if recovered:
        outcome = RECOVERED
    elif data.get("status") == "open" and failed_at + dt.timedelta(days=30) > now:
        outcome = OPEN
    else:
        outcome = LOST
    return PastFailure(
        invoice=str(data.get("id") or ""),
        failed_at=failed_at,
        outcome=outcome,
        source=IMPORTED,
        retries_made=max(int(data.get("attempt_count") or 0) - 1, 0),
        paid_at=dt.datetime.fromtimestamp(paid, dt.UTC) if recovered else None,
    )


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]

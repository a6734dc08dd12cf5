"""The dispute-rate monitor: disputes over settled transactions, per card network and
calendar month (UTC), against the networks' thresholds (:data:`.policy.THRESHOLDS`).

What it counts: the numerator is the disputes Stripe opened that month on the network
(``charge.dispute.created``, by the dispute's ``created``); the denominator is the charges
that succeeded that month on the network, one row per ``charge.succeeded`` event since
the workspace connected (:class:`.models.SettledCharge`, the same event twice counts
once). Charges made before Backstop was connected are not counted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.models import Membership, User, Workspace
from ..events import services as events
from ..outbox import services as outbox
from . import policy
from .models import Dispute, DisputeRateAlert, SettledCharge

log = logging.getLogger("backstop.disputes")

RATE_ALERT = "dispute.rate_alert"
TEMPLATE = "dispute_rate_alert"
NETWORK_LABELS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "other": "Other",
}


def month_of(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m")


def _network(brand: Any) -> str:
    return brand.lower() if isinstance(brand, str) and brand else "other"


def record_charge(session: Session, workspace_id: int, charge: dict[str, Any]) -> bool:
    """Count a succeeded charge once; False when it was counted already (or is not one)."""
    if not charge.get("id") or charge.get("status") != "succeeded":
        return False
    at = dt.datetime.fromtimestamp(int(charge.get("created") or 0), dt.UTC)
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    row = SettledCharge(
        workspace_id=workspace_id,
        charge_stripe_id=charge["id"],
        network=_network(card.get("brand")),
        month=month_of(at),
        amount_minor=int(charge.get("amount") or 0),
        currency=(charge.get("currency") or "usd").lower(),
        settled_at=at,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class MonthRate:
    month: str
    network: str
    disputes: int
    settled: int

    @property
    def rate(self) -> str:
        return policy.rate_text(self.disputes, self.settled)

    @property
    def crossed(self) -> tuple[policy.Threshold, ...]:
        return policy.crossed(self.network, self.disputes, self.settled)

    @property
    def label(self) -> str:
        return NETWORK_LABELS.get(self.network, self.network.title())


def _months_back(month: str, count: int) -> list[str]:
    year, mon = (int(p) for p in month.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        mon -= 1
        if mon == 0:
            year, mon = year - 1, 12
    return list(reversed(out))


def rates(session: Session, workspace_id: int, *, until: str, months: int = 6) -> list[MonthRate]:
    """Every network's rate in each of the ``months`` calendar months up to ``until``."""
    wanted = _months_back(until, months)
    settled: dict[tuple[str, str], int] = defaultdict(int)
    for month, network, count in session.execute(
        select(SettledCharge.month, SettledCharge.network, func.count())
        .where(SettledCharge.workspace_id == workspace_id, SettledCharge.month.in_(wanted))
        .group_by(SettledCharge.month, SettledCharge.network)
    ):
        settled[(month, network)] = count
    disputed: dict[tuple[str, str], int] = defaultdict(int)
    start = dt.datetime.fromisoformat(f"{wanted[0]}-01T00:00:00+00:00")
    for opened_at, network in session.execute(
        select(Dispute.opened_at, Dispute.network).where(
            Dispute.workspace_id == workspace_id, Dispute.opened_at >= start
        )
    ):
        month = month_of(opened_at)
        if month in wanted:
            disputed[(month, _network(network))] += 1
    networks = sorted({n for _, n in settled} | {n for _, n in disputed})
    return [
        MonthRate(m, n, disputed.get((m, n), 0), settled.get((m, n), 0))
        for m in wanted
        for n in networks
    ]


def check(session: Session, workspace_id: int, *, month: str) -> list[DisputeRateAlert]:
    """Alert on every threshold this month's rates crossed for the first time this month:
    an email to the workspace's owners and a ``dispute.rate_alert`` domain event."""
    sent = []
    for rate in rates(session, workspace_id, until=month, months=1):
        for threshold in rate.crossed:
            alert = DisputeRateAlert(
                workspace_id=workspace_id,
                month=month,
                network=rate.network,
                level=threshold.level,
                disputes=rate.disputes,
                settled=rate.settled,
                note=threshold.label,
            )
            try:
                with session.begin_nested():
                    session.add(alert)
                    session.flush()
            except IntegrityError:
                continue  # this month's alert for that threshold went out already
            _announce(session, workspace_id, rate, threshold)
            sent.append(alert)
    return sent


def _announce(
    session: Session, workspace_id: int, rate: MonthRate, threshold: policy.Threshold
) -> None:
    workspace = session.get(Workspace, workspace_id)
    data = {
        "month": rate.month,
        "network": rate.network,
        "level": threshold.level,
        "threshold": threshold.label,
        "disputes": rate.disputes,
        "settled": rate.settled,
        "rate": rate.rate,
    }
    events.emit(session, workspace_id, RATE_ALERT, subject=f"workspace:{workspace_id}", data=data)
    settings = current_app.config["BACKSTOP"]
    base = settings.base_url.rstrip("/")
    context = {
        **data,
        "workspace": workspace.name if workspace else "",
        "network_label": rate.label,
        "monitor_url": f"{base}/disputes/monitor",
    }
    owners = session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, Membership.role == "owner")
        .order_by(User.id)
    ).scalars()
    for email in owners:
        outbox.send(
            session,
            template=TEMPLATE,
            to=email,
            from_email=settings.mail_from,
            workspace_id=workspace_id,
            context=context,
        )
    log.info(
        "disputes.rate_alert workspace=%s month=%s network=%s level=%s",
        workspace_id,
        rate.month,
        rate.network,
        threshold.level,
    )

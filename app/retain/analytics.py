"""The cancel analytics: sessions, save rate and saved MRR per flow, per version (A/B
arm, with a verdict), per reason and per offer, from the daily counts in
:mod:`app.retain.stats` (a few rows per day, whatever the number of sessions); the
customers' own words; and who cancelled outside Backstop."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import definition as flow_definition
from . import policy, significance
from .models import (
    CancelSession,
    OutsideCancel,
    RetainFlow,
    RetainFlowVersion,
    RetainOfferStat,
    RetainStat,
)


@dataclass
class Figures:
    """Counts of ended sessions (abandoned ones count as not saved)."""

    saved: int = 0
    cancelled: int = 0
    abandoned: int = 0
    saved_mrr: dict[str, int] = field(default_factory=dict)
    checked: int = 0
    still_paying: int = 0

    @property
    def sessions(self) -> int:
        return self.saved + self.cancelled + self.abandoned

    @property
    def save_rate(self) -> float | None:
        return self.saved / self.sessions if self.sessions else None

    @property
    def interval(self) -> tuple[float, float]:
        return significance.wilson(self.saved, self.sessions)

    def add(
        self, outcome: str, sessions: int, mrr: int, currency: str, checked: int, paying: int
    ) -> None:
        setattr(self, outcome, getattr(self, outcome) + sessions)
        if outcome == "saved":
            self.saved_mrr[currency] = self.saved_mrr.get(currency, 0) + mrr
        self.checked += checked
        self.still_paying += paying


@dataclass
class Arm:
    version: RetainFlowVersion
    figures: Figures


@dataclass
class FlowResult:
    flow: RetainFlow
    figures: Figures
    arms: list[Arm]
    verdict: significance.Verdict | None


@dataclass
class OfferResult:
    flow_name: str
    version: int
    step_id: str
    description: str
    shown: int
    accepted: int

    @property
    def rate(self) -> float | None:
        return self.accepted / self.shown if self.shown else None


@dataclass
class Results:
    since: dt.date
    total: Figures
    flows: list[FlowResult]
    reasons: list[tuple[str, Figures]]
    offers: list[OfferResult]


def results(session: Session, workspace_id: int, *, since: dt.date) -> Results:
    flows = {
        f.id: f
        for f in session.execute(
            select(RetainFlow).where(RetainFlow.workspace_id == workspace_id)
        ).scalars()
    }
    versions = {
        v.id: v
        for v in session.execute(
            select(RetainFlowVersion).where(RetainFlowVersion.workspace_id == workspace_id)
        ).scalars()
    }
    rows = session.execute(
        select(
            RetainStat.flow_id,
            RetainStat.version_id,
            RetainStat.reason_key,
            RetainStat.outcome,
            RetainStat.currency,
            func.sum(RetainStat.sessions),
            func.sum(RetainStat.mrr_minor),
            func.sum(RetainStat.checked),
            func.sum(RetainStat.still_paying),
        )
        .where(RetainStat.workspace_id == workspace_id, RetainStat.day >= since)
        .group_by(
            RetainStat.flow_id,
            RetainStat.version_id,
            RetainStat.reason_key,
            RetainStat.outcome,
            RetainStat.currency,
        )
    ).all()
    total = Figures()
    by_flow: dict[int, Figures] = defaultdict(Figures)
    by_version: dict[int, Figures] = defaultdict(Figures)
    by_reason: dict[str, Figures] = defaultdict(Figures)
    for flow_id, version_id, reason_key, outcome, currency, n, mrr, checked, paying in rows:
        counts = (
            outcome,
            int(n or 0),
            int(mrr or 0),
            currency,
            int(checked or 0),
            int(paying or 0),
        )
        for bucket in (total, by_flow[flow_id], by_version[version_id], by_reason[reason_key]):
            bucket.add(*counts)
    flow_results = []
    for flow_id, figures in by_flow.items():
        flow = flows.get(flow_id)
        if flow is None:
            continue
        arms = [
            Arm(v, by_version[v.id])
            for v in sorted(versions.values(), key=lambda v: v.number)
            if v.flow_id == flow_id and (v.id in by_version or v.weight)
        ]
        flow_results.append(FlowResult(flow, figures, arms, _verdict(arms)))
    labels = _reason_labels(versions.values())
    reasons = sorted(
        ((labels.get(key, key or "No reason given"), f) for key, f in by_reason.items()),
        key=lambda item: -item[1].sessions,
    )
    return Results(
        since, total, flow_results, reasons, _offers(session, workspace_id, since, flows, versions)
    )


def _verdict(arms: list[Arm]) -> significance.Verdict | None:
    live = [a for a in arms if a.figures.sessions]
    if len(live) < 2:
        return None
    a, b = sorted(live, key=lambda arm: -(arm.figures.save_rate or 0))[:2]
    return significance.verdict(
        f"Version {a.version.number}", a.figures.saved, a.figures.sessions,
        f"Version {b.version.number}", b.figures.saved, b.figures.sessions,
    )  # fmt: skip


def _reason_labels(versions: Any) -> dict[str, str]:
    labels: dict[str, str] = {}
    for version in sorted(versions, key=lambda v: v.id):
        for step in version.definition.get("steps", []):
            for reason in step.get("reasons", []) if step.get("kind") == "survey" else []:
                labels[reason["key"]] = reason["label"]
    return labels


def _offers(
    session: Session,
    workspace_id: int,
    since: dt.date,
    flows: dict[int, RetainFlow],
    versions: dict[int, RetainFlowVersion],
) -> list[OfferResult]:
    shown = session.execute(
        select(RetainOfferStat.version_id, RetainOfferStat.step_id, func.sum(RetainOfferStat.shown))
        .where(RetainOfferStat.workspace_id == workspace_id, RetainOfferStat.day >= since)
        .group_by(RetainOfferStat.version_id, RetainOfferStat.step_id)
    ).all()
    accepted = {
        (version_id, step): int(n or 0)
        for version_id, step, n in session.execute(
            select(RetainStat.version_id, RetainStat.offer_step, func.sum(RetainStat.sessions))
            .where(
                RetainStat.workspace_id == workspace_id,
                RetainStat.day >= since,
                RetainStat.outcome == "saved",
                RetainStat.offer_step != "",
            )
            .group_by(RetainStat.version_id, RetainStat.offer_step)
        ).all()
    }
    results = []
    for version_id, step_id, n in shown:
        version = versions.get(version_id)
        if version is None:
            continue
        step = flow_definition.steps_by_id(version.definition).get(step_id) or {}
        flow = flows.get(version.flow_id)
        results.append(
            OfferResult(
                flow_name=flow.name if flow else "",
                version=version.number,
                step_id=step_id,
                description=policy.describe_offer(step.get("offer") or {}),
                shown=int(n or 0),
                accepted=accepted.get((version_id, step_id), 0),
            )
        )
    return sorted(results, key=lambda r: (-r.shown, r.flow_name, r.version))


def comments(
    session: Session, workspace_id: int, *, since: dt.date, limit: int = 50
) -> list[CancelSession]:
    """The newest sessions where the customer wrote something (their reason or feedback)."""
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    return list(
        session.execute(
            select(CancelSession)
            .where(
                CancelSession.workspace_id == workspace_id,
                CancelSession.created_at >= start,
                ~CancelSession.is_simulation,
                or_(CancelSession.reason_text.is_not(None), CancelSession.feedback.is_not(None)),
            )
            .order_by(CancelSession.created_at.desc())
            .limit(limit)
        ).scalars()
    )


def outside_cancels(
    session: Session, workspace_id: int, *, now: dt.datetime, days: int = 30
) -> list[OutsideCancel]:
    return list(
        session.execute(
            select(OutsideCancel)
            .where(
                OutsideCancel.workspace_id == workspace_id,
                OutsideCancel.recorded_at >= now - dt.timedelta(days=days),
            )
            .order_by(OutsideCancel.recorded_at.desc())
            .limit(200)
        ).scalars()
    )


CSV_COLUMNS = (
    "started_at", "customer", "subscription", "plan", "flow_id", "version_id", "reason",
    "reason_text", "feedback", "offers_shown", "offer_accepted", "outcome", "cancelled_by",
    "ends_at", "mrr_minor", "currency", "still_paying_30d",
)  # fmt: skip


def export_rows(session: Session, workspace_id: int, *, since: dt.date) -> Iterator[list[Any]]:
    """Every session since ``since``, oldest first, as CSV rows (streamed in pages)."""
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    query = (
        select(CancelSession)
        .where(
            CancelSession.workspace_id == workspace_id,
            CancelSession.created_at >= start,
            ~CancelSession.is_simulation,
        )
        .order_by(CancelSession.created_at, CancelSession.id)
        .execution_options(yield_per=500)
    )
    for cs in session.execute(query).scalars():
        paying = "" if cs.still_paying is None else ("yes" if cs.still_paying else "no")
        yield [
            cs.created_at.isoformat(), cs.customer_stripe_id, cs.subscription_stripe_id,
            cs.plan_name or "", cs.flow_id or "", cs.version_id or "", cs.reason_label or "",
            cs.reason_text or "", cs.feedback or "", " ".join(cs.offers_shown or []),
            cs.offer_step or "", cs.outcome or "open", cs.cancelled_by or "",
            cs.ends_at.isoformat() if cs.ends_at else "", cs.mrr_minor, cs.currency, paying,
        ]  # fmt: skip

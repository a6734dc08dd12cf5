"""What-if replay: the retries a draft retry policy would have planned for past failed
renewals, next to what actually happened, per decline class.

Pure: the caller passes the failures and ``now``; nothing here reads a session, the
clock or Stripe. The plan comes from the worker's own rules (``classify``,
``card_block_reason``, ``plan_retries``, ``check_attempt``), so the replay of the saved
policy over a failure it planned gives back that plan.

What it cannot tell: whether any of the draft's retries would have been paid. It only
says when the draft would have tried, and sets that beside the attempts that were made
and how each failure ended.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..recovery.cadence import PlannedRetry, plan_retries
from ..recovery.caps import Attempt, Decline, check_attempt
from ..recovery.declines import DeclineClass, card_block_reason, classify, decline_code_of
from ..recovery.policy import CAMPAIGN_WINDOW, PAYDAY, Policy, Step

LIVE, IMPORTED = "live", "imported"
RECOVERED, LOST, OPEN, ABANDONED = "recovered", "lost", "in_flight", "abandoned"
#: Attributions that mean a charge attempt paid the invoice (ours or Stripe's).
PAID_BY_RETRY = frozenset({"retry", "stripe_retry"})
#: A weekday between these local hours counts as "in working hours".
WORKING_HOURS = (dt.time(9, 0), dt.time(17, 0))
EXAMPLES_PER_CLASS = 3
HOUR = dt.timedelta(hours=1)

# Why the draft makes no retry for a failure.
WAITS_FOR_CUSTOMER = "customer_action"
NEVER_RETRIED = "no_recovery"
CARD_BLOCKED = "card_blocked"
CAPPED = "capped"


@dataclass(frozen=True)
class PastFailure:
    """One failed renewal and what happened to it. ``retries_at``: the attempts made
    after the first failure, ours and Stripe's, when their times are known;
    ``retries_made``: their number when only that is known (an imported invoice)."""

    invoice: str
    failed_at: dt.datetime
    outcome: str
    source: str = LIVE
    decline_code: str | None = None
    failure_code: str | None = None
    advice_code: str | None = None
    network_advice_code: str | None = None
    card_brand: str | None = None
    tz: str = "UTC"
    retries_at: tuple[dt.datetime, ...] = ()
    retries_made: int | None = None
    paid_at: dt.datetime | None = None
    paid_by: str | None = None
    payday_history: tuple[dt.datetime, ...] = ()

    @property
    def code_known(self) -> bool:
        """Stripe's invoice list carries no decline: imported failures have no code."""
        return self.source == LIVE

    @property
    def actual_retries(self) -> int:
        return self.retries_made if self.retries_made is not None else len(self.retries_at)


@dataclass(frozen=True)
class Replayed:
    failure: PastFailure
    cls: DeclineClass | None
    """The draft's class for the failure; None when its decline code is unknown."""
    code: str | None
    retries: tuple[PlannedRetry, ...] = ()
    on_payday: tuple[bool, ...] = ()
    no_retry: str | None = None
    """Why the draft plans no retry at all (one of the constants above), or None."""
    capped: int = 0
    """Retries the plan had that a cap refused at their time."""

    @property
    def stopped_at(self) -> dt.datetime:
        """When the draft would have stopped retrying (its last retry, else the failure)."""
        return self.retries[-1].at if self.retries else self.failure.failed_at


def replay_one(policy: Policy, failure: PastFailure) -> Replayed:
    """The retries ``policy`` would have made after ``failure``, had every one of them
    been declined: planned as the worker plans at the first failure, each then checked
    against the caps at its own time (a refused one is dropped, the rest still run)."""
    if not failure.code_known:
        return Replayed(failure, None, None)
    f = failure
    code = decline_code_of(f.decline_code, f.failure_code)
    cls = classify(
        f.decline_code,
        f.failure_code,
        f.advice_code,
        f.network_advice_code,
        overrides=policy.overrides,
    )
    if cls in (DeclineClass.CUSTOMER_ACTION, DeclineClass.NO_RECOVERY):
        return Replayed(f, cls, code, no_retry=str(cls))
    if card_block_reason(
        f.card_brand, f.decline_code, f.failure_code, f.advice_code, f.network_advice_code
    ):
        return Replayed(f, cls, code, no_retry=CARD_BLOCKED)
    plan = plan_retries(
        f.failed_at,
        cls,
        code,
        tz=f.tz,
        attempts_so_far=0,
        payday_history=[at for at in f.payday_history if at < f.failed_at],
        policy=policy,
        now=f.failed_at,
        window_ends_at=f.failed_at + CAMPAIGN_WINDOW,
    )
    steps = _steps(policy, cls, code)
    decline = Decline(f.decline_code, f.failure_code, f.advice_code, f.network_advice_code)
    made = [Attempt(f.failed_at, decline)]
    kept: list[PlannedRetry] = []
    on_payday: list[bool] = []
    for retry, step in zip(plan, steps, strict=False):
        verdict = check_attempt(
            retry.at,
            invoice_attempts=made,
            campaign_auto_retries=len(kept),
            card_history=made,
            brand=f.card_brand,
            last_decline=decline,
            invoice_status="open",
            subscription_status="active",
            policy=policy,
        )
        if not verdict:
            continue
        kept.append(retry)
        on_payday.append(step == PAYDAY)
        made.append(Attempt(retry.at, decline))
    no_retry = CAPPED if plan and not kept else None
    return Replayed(f, cls, code, tuple(kept), tuple(on_payday), no_retry, len(plan) - len(kept))


def _steps(policy: Policy, cls: DeclineClass, code: str | None) -> list[Step]:
    """The policy's steps in the order ``plan_retries`` takes them: its n-th retry is
    the n-th step (the plan starts at the first, and only ever stops early)."""
    steps: list[Step] = list(policy.cadence_for(code))
    if cls is DeclineClass.IMMEDIATE:
        return [*policy.immediate_offsets, *steps]
    return steps


# -- the summary per class ------------------------------------------------------------------


@dataclass
class ClassSummary:
    """The draft against what happened, for the failures of one class (``cls`` None:
    imported failures, whose decline code Stripe's invoice list does not give)."""

    cls: DeclineClass | None
    failures: int = 0
    draft_retries: int = 0
    draft_first_hours: list[float] = field(default_factory=list)
    draft_in_working_hours: int = 0
    draft_on_payday: int = 0
    no_retry: dict[str, int] = field(default_factory=dict)
    capped: int = 0
    actual_retries: int = 0
    actual_first_hours: list[float] = field(default_factory=list)
    actual_timed: int = 0
    actual_in_working_hours: int = 0
    recovered: int = 0
    lost: int = 0
    still_open: int = 0
    abandoned: int = 0
    paid_by: dict[str, int] = field(default_factory=dict)
    paid_by_retry_after_draft_stopped: int = 0
    codes: dict[str, int] = field(default_factory=dict)
    examples: list[Replayed] = field(default_factory=list)

    @property
    def draft_median_first_hours(self) -> float | None:
        return _median(self.draft_first_hours)

    @property
    def actual_median_first_hours(self) -> float | None:
        return _median(self.actual_first_hours)

    @property
    def draft_working_share(self) -> float | None:
        return _share(self.draft_in_working_hours, self.draft_retries)

    @property
    def draft_payday_share(self) -> float | None:
        return _share(self.draft_on_payday, self.draft_retries)

    @property
    def actual_working_share(self) -> float | None:
        return _share(self.actual_in_working_hours, self.actual_timed)

    @property
    def recovery_rate(self) -> float | None:
        """Recovered over the failures that ended recovered or lost (open ones and
        those the merchant abandoned are left out, as on the insights)."""
        return _share(self.recovered, self.recovered + self.lost)

    @property
    def top_codes(self) -> list[tuple[str, int]]:
        return sorted(self.codes.items(), key=lambda item: (-item[1], item[0]))[:3]


@dataclass
class Replay:
    classes: list[ClassSummary]
    failures: int
    truncated: bool
    """More failures than the cap were found: only the newest were replayed."""

    @property
    def replayed(self) -> ClassSummary | None:
        """The totals over the failures whose decline code is known."""
        known = [c for c in self.classes if c.cls is not None]
        return _total(known) if known else None

    @property
    def imported(self) -> ClassSummary | None:
        return next((c for c in self.classes if c.cls is None), None)


CLASS_ORDER = (
    DeclineClass.IMMEDIATE,
    DeclineClass.SCHEDULED,
    DeclineClass.CUSTOMER_ACTION,
    DeclineClass.NO_RECOVERY,
)


def replay(
    policy: Policy,
    failures: Iterable[PastFailure],
    *,
    truncated: bool = False,
    examples: int = EXAMPLES_PER_CLASS,
) -> Replay:
    """Replay ``policy`` over ``failures`` (newest first, for the examples) and sum up
    per decline class, in the order of :data:`CLASS_ORDER`, imported failures last."""
    per: dict[DeclineClass | None, ClassSummary] = {}
    count = 0
    for failure in failures:
        count += 1
        done = replay_one(policy, failure)
        row = per.setdefault(done.cls, ClassSummary(done.cls))
        _add(row, done)
        if len(row.examples) < examples and done.cls is not None:
            row.examples.append(done)
    order = [*CLASS_ORDER, None]
    return Replay([per[c] for c in order if c in per], count, truncated)


def _add(row: ClassSummary, done: Replayed) -> None:
    f = done.failure
    row.failures += 1
    if done.code:
        row.codes[done.code] = row.codes.get(done.code, 0) + 1
    row.draft_retries += len(done.retries)
    row.capped += done.capped
    if done.retries:
        row.draft_first_hours.append(_hours(done.retries[0].at - f.failed_at))
    if done.no_retry:
        row.no_retry[done.no_retry] = row.no_retry.get(done.no_retry, 0) + 1
    row.draft_in_working_hours += sum(in_working_hours(r.at, f.tz) for r in done.retries)
    row.draft_on_payday += sum(done.on_payday)
    row.actual_retries += f.actual_retries
    if f.retries_at:
        row.actual_first_hours.append(_hours(min(f.retries_at) - f.failed_at))
        row.actual_timed += len(f.retries_at)
        row.actual_in_working_hours += sum(in_working_hours(at, f.tz) for at in f.retries_at)
    if f.outcome == RECOVERED:
        row.recovered += 1
        who = f.paid_by or "unknown"
        row.paid_by[who] = row.paid_by.get(who, 0) + 1
        if (
            done.cls is not None
            and f.paid_by in PAID_BY_RETRY
            and f.paid_at is not None
            and f.paid_at > done.stopped_at
        ):
            row.paid_by_retry_after_draft_stopped += 1
    elif f.outcome == LOST:
        row.lost += 1
    elif f.outcome == ABANDONED:
        row.abandoned += 1
    else:
        row.still_open += 1


def _total(rows: Sequence[ClassSummary]) -> ClassSummary:
    total = ClassSummary(None)
    for row in rows:
        for name in (
            "failures", "draft_retries", "draft_in_working_hours", "draft_on_payday", "capped",
            "actual_retries", "actual_timed", "actual_in_working_hours", "recovered", "lost",
            "still_open", "abandoned", "paid_by_retry_after_draft_stopped",
        ):  # fmt: skip
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.draft_first_hours += row.draft_first_hours
        total.actual_first_hours += row.actual_first_hours
        for source, target in ((row.no_retry, total.no_retry), (row.paid_by, total.paid_by)):
            for key, value in source.items():
                target[key] = target.get(key, 0) + value
    return total


def in_working_hours(moment: dt.datetime, tz: str) -> bool:
    """A weekday between 9:00 and 17:00 in ``tz`` (UTC when the zone is unknown)."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    start, end = WORKING_HOURS
    return local.weekday() < 5 and start <= local.time() < end


def _hours(delta: dt.timedelta) -> float:
    return delta / HOUR


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None

"""The generic sweeper and the beat: every task module declares its beat entries; a
claimed row whose work keeps failing is retried under its lease, then given up where
staff see it."""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.recovery import planning
from app.recovery.models import Step
from workers import celery_app, sweeper

from ..app import factories as f
from ..app.dashboard.test_recovery_pages import campaign


def test_the_beat_runs_what_the_task_modules_declare(app) -> None:
    schedule = celery_app.beat_schedule(dt.timedelta(seconds=7))
    assert schedule["sweep-due-rows"]["schedule"] == dt.timedelta(seconds=7)
    assert schedule["sweep-stripe-events"]["task"] == "stripe.process_pending"
    tasks = app.extensions["celery"].tasks
    assert all(entry["task"] in tasks for entry in schedule.values()), schedule


def test_sweepable_declares_a_row_kind_once() -> None:
    before = list(sweeper.SWEPT)
    sweeper.sweepable(Step, "recovery.run_step")
    assert before == sweeper.SWEPT


@pytest.fixture
def queued_step(ctx):
    row = campaign(f.workspace())
    step = planning.add_step(db.session, row, "retry", dt.datetime.now(dt.UTC), "due now")
    step.status = "queued"
    db.session.commit()
    return step.id


class Unavailable(Exception):
    pass


def test_a_failing_run_keeps_its_lease_then_is_given_up(queued_step) -> None:
    given_up: list[str] = []

    def work(row, now):
        raise Unavailable("Stripe is down")

    def give_up(row, detail, now):
        given_up.append(detail)
        row.status, row.outcome = "done", "error"

    for attempt in range(1, sweeper.MAX_CLAIMS + 1):
        step = db.session.get(Step, queued_step)
        step.status, step.attempts = "queued", attempt
        db.session.commit()
        result = sweeper.run_claimed(
            Step, queued_step, work, give_up=give_up, what="test.step", routine=(Unavailable,)
        )
        assert result == "error"
        db.session.expire_all()
        step = db.session.get(Step, queued_step)
        if attempt < sweeper.MAX_CLAIMS:
            assert step.status == "running" and not given_up
            assert (
                step.outcome_detail
                == f"try {attempt} failed, will try again: Unavailable: Stripe is down"
            )
    assert given_up == [f"gave up after {sweeper.MAX_CLAIMS} tries: Unavailable: Stripe is down"]
    assert db.session.get(Step, queued_step).outcome == "error"


def test_a_redelivered_task_finds_its_row_taken_and_stops(queued_step) -> None:
    ran: list[int] = []
    work = lambda row, now: ran.append(row.id)  # noqa: E731
    give_up = lambda *a: None  # noqa: E731
    assert sweeper.run_claimed(Step, queued_step, work, give_up=give_up, what="t") is None
    assert ran == [queued_step]
    assert sweeper.run_claimed(Step, queued_step, work, give_up=give_up, what="t") is None
    assert ran == [queued_step]  # the second copy of the message did nothing


class Deadlock(Exception):
    """What psycopg raises for a deadlock's victim, as SQLAlchemy wraps it (``orig``)."""

    def __init__(self) -> None:
        super().__init__("deadlock detected")
        self.orig = type("DeadlockDetected", (), {"sqlstate": "40P01"})()


@pytest.mark.parametrize(("error", "released"), [(Deadlock, True), (Unavailable, False)])
def test_a_deadlock_victim_runs_again_at_the_next_sweep(queued_step, error, released) -> None:
    """Rolled back whole by PostgreSQL, it need not wait out its lease (minutes)."""

    def work(row, now):
        raise error()

    assert sweeper.is_transient_conflict(Deadlock()) and not sweeper.is_transient_conflict(
        Unavailable()
    )
    result = sweeper.run_claimed(
        Step, queued_step, work, give_up=lambda *a: None, what="t", routine=(Deadlock, Unavailable)
    )
    assert result == "error"
    db.session.expire_all()
    step = db.session.get(Step, queued_step)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert step.status == "running"
    assert (step.lease_until.replace(tzinfo=dt.UTC) <= soon) == released
    assert ("met a conflict, runs again" in step.outcome_detail) == released
    if released:
        assert sweeper.sweep_once(soon) >= 1  # handed out again at once

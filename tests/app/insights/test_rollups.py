"""The rollups equal a from-scratch count of the events, whatever the events, their
order, their days and how often each is handed over; and what each event counts."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.events.models import DomainEvent
from app.extensions import db
from app.insights import rollups
from app.insights.models import InsightApplied, InsightDaily

from .. import factories as f

NAMES = st.sampled_from([*rollups.METRICS, "dunning.email.sent", "portal.customer.updated"])
DATA = st.fixed_dictionaries(
    {},
    optional={
        "currency": st.sampled_from(["usd", "eur", "jpy"]),
        "amount_minor": st.integers(0, 10**7),
        "recovered_minor": st.integers(0, 10**7),
        "mrr_minor": st.integers(0, 10**6),
        "regained_mrr_minor": st.integers(0, 10**6),
        "decline_class": st.sampled_from(["scheduled", "customer_action", "no_recovery"]),
        "decline_code": st.sampled_from(["insufficient_funds", "expired_card", None]),
        "attribution": st.sampled_from(["retry", "card_update", "customer_paid"]),
        "reason": st.sampled_from(["too_expensive", "switched", None]),
        "kind": st.sampled_from(["voluntary", "involuntary"]),
        "refunded_minor": st.integers(0, 10**6),
        "is_holdout": st.booleans(),
        # A refund counts on the day of the recovery it takes back.
        "counted_at": st.datetimes(
            min_value=dt.datetime(2025, 12, 1),
            max_value=dt.datetime(2026, 3, 1),
            timezones=st.just(dt.UTC),
        ).map(dt.datetime.isoformat),
    },
)
MOMENTS = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 3, 1), timezones=st.just(dt.UTC)
)
EVENTS = st.lists(st.tuples(NAMES, DATA, MOMENTS, st.integers(1, 3)), max_size=25)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=EVENTS, tz=st.sampled_from(["UTC", "America/Los_Angeles", "Asia/Tokyo"]))
def test_rollups_equal_a_count_from_scratch(ctx, events, tz) -> None:
    workspace = f.workspace(name="Rollups")
    workspace.timezone = tz
    db.session.flush()
    rows = []
    for name, data, at, handovers in events:
        event = DomainEvent(
            workspace_id=workspace.id,
            name=name,
            subject="x:1",
            data=data,
            occurred_at=at,
            due_at=at,
        )
        db.session.add(event)
        db.session.flush()
        rows.append(event)
        for _ in range(handovers):  # a hand-over repeated after another consumer failed
            rollups.apply(db.session, event)
    expected = rollups.from_scratch(((n, d, at) for n, d, at, _h in events), tz)
    assert rollups.stored(db.session, workspace.id) == expected
    rollups.rebuild(db.session, workspace.id)
    assert rollups.stored(db.session, workspace.id) == expected
    for event in rows:  # after a rebuild, nothing is counted twice
        rollups.apply(db.session, event)
    assert rollups.stored(db.session, workspace.id) == expected
    db.session.rollback()


def test_what_each_event_counts() -> None:
    started = rollups.contributions(
        "recovery.campaign.started",
        {
            "decline_class": "scheduled",
            "decline_code": "insufficient_funds",
            "amount_minor": 2900,
            "currency": "USD",
        },
    )
    assert [(c.metric, c.key, c.currency, c.amount_minor) for c in started] == [
        ("failed", "scheduled", "usd", 2900),
        ("failed_code", "insufficient_funds", "usd", 2900),
    ]
    [won] = rollups.contributions(
        "winback.reactivated",
        {
            "reason": "too_expensive",
            "regained_mrr_minor": 4900,
            "currency": "usd",
            "regained_currency": "eur",
        },
    )
    assert (won.metric, won.currency, won.amount_minor) == ("won_back", "eur", 4900)
    assert rollups.contributions("dunning.email.sent", {}) == []


def test_a_refund_counts_off_the_recovery_on_its_day() -> None:
    data = {
        "attribution": "retry",
        "refunded_minor": 1200,
        "currency": "usd",
        "counted_at": "2026-02-27T23:30:00+00:00",
    }
    [refund] = rollups.contributions("recovery.campaign.refunded", data)
    assert (refund.metric, refund.key, refund.count, refund.amount_minor) == (
        "refunded",
        "retry",
        1,
        1200,
    )
    refunded_at = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
    counted = rollups.counted_at(data, refunded_at)
    assert rollups.day_of(counted, "UTC") == dt.date(2026, 2, 27)
    assert rollups.day_of(counted, "Asia/Tokyo") == dt.date(2026, 2, 28)
    assert rollups.counted_at({"counted_at": "garbage"}, refunded_at) == refunded_at
    assert rollups.contributions("recovery.campaign.refunded", {**data, "is_holdout": True}) == []


def test_days_follow_the_workspace_timezone() -> None:
    late_evening_in_la = dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.UTC)
    assert rollups.day_of(late_evening_in_la, "America/Los_Angeles") == dt.date(2026, 3, 1)
    assert rollups.day_of(late_evening_in_la, "UTC") == dt.date(2026, 3, 2)


def test_the_consumer_is_wired_to_the_event_stream(ctx) -> None:
    from app.events import services as events

    workspace = f.workspace(name="Wired")
    event = events.emit(
        db.session,
        workspace.id,
        "cancel.session.saved",
        subject="retain_session:1",
        data={"reason": "too_expensive", "mrr_minor": 2900, "currency": "usd"},
    )
    db.session.commit()  # the hand-over runs eagerly after the commit in tests
    db.session.expire_all()
    row = db.session.execute(
        select(InsightDaily).where(InsightDaily.workspace_id == workspace.id)
    ).scalar_one()
    assert (row.metric, row.key, row.count, row.amount_minor) == ("saved", "too_expensive", 1, 2900)
    applied = db.session.execute(select(InsightApplied.event_id)).scalars().all()
    assert applied == [event.id]

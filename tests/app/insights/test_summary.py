"""The monthly summary: last month's figures per currency to the workspace's owners
(not its other members), nothing when turned off, and nothing the second time in a
month; the beat task fans out one task per workspace."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.insights import summary
from app.insights.models import InsightDaily
from app.outbox.models import OutboxMessage

from .. import factories as f

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def rollup(ws, day: dt.date, metric: str, currency: str, count: int, amount: int) -> None:
    db.session.add(InsightDaily(workspace_id=ws.id, day=day, metric=metric, key="",
                                currency=currency, count=count, amount_minor=amount))  # fmt: skip


def a_november(ws) -> None:
    rollup(ws, dt.date(2026, 11, 3), "recovered", "usd", 2, 9800)
    rollup(ws, dt.date(2026, 11, 30), "lost", "usd", 1, 4900)
    rollup(ws, dt.date(2026, 11, 10), "recovered", "eur", 1, 3900)
    rollup(ws, dt.date(2026, 11, 12), "saved", "usd", 1, 2900)
    rollup(ws, dt.date(2026, 11, 20), "won_back", "eur", 1, 1900)
    rollup(ws, dt.date(2026, 10, 31), "recovered", "usd", 5, 50000)  # October: not counted
    rollup(ws, dt.date(2026, 12, 1), "lost", "usd", 5, 50000)  # December: not yet


def sent() -> list[OutboxMessage]:
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def send(ws, now: dt.datetime = NOW) -> str:
    return summary.send(db.session, ws, now=now, mail_from="Backstop <b@example.com>",
                        dashboard_url="http://localhost/dashboard",
                        settings_url="http://localhost/exports")  # fmt: skip


def test_last_month() -> None:
    assert summary.last_month(dt.date(2026, 12, 1)) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert summary.last_month(dt.date(2026, 3, 2)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def test_last_months_figures_per_currency_to_the_owners(ctx) -> None:
    owner = f.user("owner@example.com")
    ws = f.workspace(owner, "Acme")
    f.member(ws, "viewer", "viewer@example.com")
    f.member(ws, "owner", "second-owner@example.com")
    a_november(ws)
    assert send(ws) == "sent"
    messages = sent()
    assert [m.to_email for m in messages] == ["owner@example.com", "second-owner@example.com"]
    text = messages[0].body_text
    assert messages[0].subject == "Acme: what Backstop did in November 2026"
    assert "Payments recovered: 3" in text and "Payments lost: 1" in text
    assert "Recovery rate: 75%" in text
    assert text.index("In EUR:") < text.index("In USD:")  # currencies in order
    usd = text[text.index("In USD:") :]
    eur = text[text.index("In EUR:") : text.index("In USD:")]
    assert "Recovered: 2 (98.00 USD)" in usd and "Lost: 1 (49.00 USD)" in usd
    assert "Recovery rate: 67%" in usd and "Saved from cancelling: 1 (29.00 USD a month)" in usd
    assert "Recovered: 1 (39.00 EUR)" in eur and "Won back: 1 (19.00 EUR a month)" in eur
    assert "500.00" not in text
    assert "http://localhost/dashboard" in text
    assert "http://localhost/dashboard" in messages[0].body_html


def test_the_month_is_the_workspaces_own(ctx) -> None:
    """At the beat's hour (12:00 UTC on the 1st) a workspace at UTC+14 is already on the
    2nd: last month is still November, summed over its own days."""
    ws = f.workspace(name="Far East")
    ws.timezone = "Pacific/Kiritimati"
    a_november(ws)
    assert send(ws) == "sent"
    assert "Payments recovered: 3" in sent()[0].body_text


def test_a_second_run_in_the_month_sends_nothing(ctx) -> None:
    ws = f.workspace()
    assert send(ws) == "sent"
    assert send(ws, NOW + dt.timedelta(days=3)) == "already"
    assert len(sent()) == 1
    assert "Nothing to report" in sent()[0].body_text
    assert send(ws, NOW + dt.timedelta(days=31)) == "sent"  # January's (for December)
    assert len(sent()) == 2


def test_turned_off_sends_nothing(ctx) -> None:
    ws = f.workspace()
    summary.set_enabled(db.session, ws.id, False)
    assert send(ws) == "off"
    assert sent() == []


def test_the_beat_task_sends_one_per_workspace_once(ctx, monkeypatch) -> None:
    import workers.insights_tasks as tasks

    for n in range(2):
        f.workspace(f.user(f"o{n}@example.com"))
    off = f.workspace(f.user("off@example.com"))
    summary.set_enabled(db.session, off.id, False)
    db.session.commit()
    monkeypatch.setattr(tasks, "_now", lambda: NOW)
    assert tasks.monthly_summaries.apply(throw=True).result == 3
    tasks.monthly_summaries.apply(throw=True)
    db.session.expire_all()
    assert sorted(m.to_email for m in sent()) == ["o0@example.com", "o1@example.com"]


def test_the_beat_schedule_has_the_monthly_run() -> None:
    from workers.celery_app import beat_schedule

    entry = beat_schedule(dt.timedelta(seconds=30))["monthly-summaries"]
    assert entry["task"] == "insights.monthly_summaries"
    assert entry["schedule"].day_of_month == {1}

"""Texts a worker never finished with: ``sending`` past 15 minutes is failed as
unconfirmed and never handed over again; ``queued`` past an hour (its task was lost) is
handed over again outside the customer's quiet hours, and dropped after a day. Two
copies of one task hand a text over once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from app.extensions import db
from app.recovery.models import Campaign
from app.sms import delivery, services, stuck
from app.sms.models import SmsMessage
from workers import sms_tasks

from .. import factories as f
from .helpers import turn_on

PHONE = "+14155550134"
#: 12:00 UTC: 07:00 in New York (inside the 21:00-09:00 quiet hours), 21:00 in Tokyo
#: (inside), 12:00 in London (outside).
NOON = dt.datetime(2026, 7, 14, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def row(ctx):
    ws = f.workspace(name="Studio")
    db.session.commit()
    return turn_on(ws.id)


def text(row, *, age: dt.timedelta, status: str = "queued", campaign_id: int | None = None):
    message = services.store(db.session, row, purpose="test", to=PHONE, body="hi",
                             month="2026-07", campaign_id=campaign_id)  # fmt: skip
    message.created_at = NOON - age
    message.status = status
    if status == "sending":
        message.sending_since = NOON - age
    db.session.info.clear()  # the store's own hand-over: this one is lost
    db.session.commit()
    return message


def campaign(row, tz: str) -> int:
    opened = NOON - dt.timedelta(days=2)
    c = Campaign(workspace_id=row.workspace_id, invoice_stripe_id=f"in_{tz}", customer_tz=tz,
                 customer_stripe_id="cus_1", subscription_stripe_id=f"sub_{tz}",
                 amount_minor=2900, currency="usd", decline_code="insufficient_funds",
                 decline_class="scheduled", state="in_flight", opened_at=opened,
                 last_failure_at=opened, window_ends_at=opened + dt.timedelta(days=30))  # fmt: skip
    db.session.add(c)
    db.session.flush()
    return c.id


def handed_over() -> list[int]:
    from app.queue import _PENDING

    return [args[0] for name, args in db.session.info.get(_PENDING, []) if name == "sms.deliver"]


def test_a_text_sending_past_15_minutes_is_failed_as_unconfirmed_and_never_sent(row) -> None:
    old = text(row, age=stuck.UNCONFIRMED_AFTER + dt.timedelta(seconds=1), status="sending")
    young = text(row, age=stuck.UNCONFIRMED_AFTER - dt.timedelta(seconds=1), status="sending")
    done = stuck.resolve(db.session, NOON)
    assert done["unconfirmed"] == 1 and handed_over() == []
    assert (old.status, young.status) == ("failed", "sending")
    assert old.error.startswith("unconfirmed:") and "never texted twice" in old.error
    assert not delivery.begin(db.session, old, now=NOON)  # and it stays that way


def test_a_queued_text_whose_task_was_lost_is_handed_over_again(row) -> None:
    lost = text(row, age=stuck.LOST_AFTER + dt.timedelta(seconds=1))
    waiting = text(row, age=stuck.LOST_AFTER - dt.timedelta(seconds=1))  # its retries may run
    done = stuck.resolve(db.session, NOON)
    assert done["handed_over"] == 1 and handed_over() == [lost.id]
    assert (lost.status, waiting.status) == ("queued", "queued")


def test_a_text_lost_for_a_day_is_dropped(row) -> None:
    lost = text(row, age=stuck.GIVE_UP_AFTER + dt.timedelta(seconds=1))
    assert stuck.resolve(db.session, NOON)["dropped"] == 1 and handed_over() == []
    assert lost.status == "dropped" and "over a day" in lost.error


@pytest.mark.parametrize(
    ("tz", "goes"), [("America/New_York", False), ("Asia/Tokyo", False), ("Europe/London", True)]
)
def test_a_lost_campaign_text_waits_for_the_customers_quiet_hours_to_end(row, tz, goes) -> None:
    lost = text(row, age=dt.timedelta(hours=2), campaign_id=campaign(row, tz))
    done = stuck.resolve(db.session, NOON)
    assert handed_over() == ([lost.id] if goes else [])
    assert done["held_for_quiet_hours"] == (0 if goes else 1)


def test_inbound_and_finished_texts_are_left_alone(row) -> None:
    for status in ("sent", "delivered", "failed", "blocked", "dropped"):
        text(row, age=dt.timedelta(days=3), status=status)
    assert not any(stuck.resolve(db.session, NOON).values())


def test_of_two_copies_of_the_task_only_one_hands_the_text_over(row) -> None:
    message = text(row, age=dt.timedelta(0))
    assert message.status == "queued"  # as the second copy read it
    db.session.execute(  # the first copy, in another transaction, took it meanwhile
        update(SmsMessage).where(SmsMessage.id == message.id).values(status="sending"),
        execution_options={"synchronize_session": False},
    )
    assert not delivery.begin(db.session, message, now=NOON)
    assert message.status == "sending" and message.attempts == 0


def test_the_beat_runs_it_every_five_minutes() -> None:
    entry = sms_tasks.BEAT["resolve-stuck-texts"]
    assert entry["task"] == sms_tasks.RESOLVE_STUCK
    assert entry["schedule"] == dt.timedelta(minutes=5)

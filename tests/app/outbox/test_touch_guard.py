"""The touch guard win back and checkout recovery share: a touch's stored message does
not leave once its campaign ended or the loop was paused, and the step is told what
became of its message (dropped, sent, opened)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.checkout_recovery import touches as checkout_touches
from app.checkout_recovery.models import CheckoutRecoveryStep
from app.events.models import DomainEvent
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.winback import settings as winback_settings
from app.winback import touches as winback_touches

from .. import factories as f

NOW = dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC)


def message(step, ws) -> OutboxMessage:
    row = OutboxMessage(
        workspace_id=ws.id, template="winback", to_email="c@example.com",
        from_email="shop@example.com", subject="Come back", body_text="x", body_html="<p>x</p>",
        customer_stripe_id="cus_wb", step_id=step.id,
    )  # fmt: skip
    db.session.add(row)
    db.session.flush()
    return row


def test_a_winback_touch_is_dropped_when_its_campaign_ended_or_the_loop_paused(ctx) -> None:
    ws = f.workspace(name="Guarded")
    campaign = f.winback_campaign(ws)
    step = f.winback_step(campaign, outcome="sent")
    campaign.touches_sent = 1
    sent = message(step, ws)
    guard = winback_touches.GUARD
    assert guard.still_wanted(db.session, sent, now=NOW) is None
    winback_settings.settings_for(db.session, ws.id).is_paused = True
    assert guard.still_wanted(db.session, sent, now=NOW) == (
        "win-back was paused before the email left"
    )
    campaign.state = "won"
    assert guard.still_wanted(db.session, sent, now=NOW) == (
        "the campaign was won before the email left"
    )
    guard.note_dropped(db.session, sent, "the campaign was won", now=NOW)
    guard.note_opened(db.session, sent, now=NOW)
    db.session.flush()
    assert (step.outcome, step.outcome_detail) == ("dropped", "not sent: the campaign was won")
    assert campaign.touches_sent == 0 and step.opened_at == NOW
    [event] = db.session.execute(
        select(DomainEvent).where(DomainEvent.name == "winback.email.dropped")
    ).scalars()
    assert event.data["reason"] == "the campaign was won" and event.data["customer"] == "cus_wb"
    db.session.rollback()


@pytest.mark.parametrize("other_workspace", [False, True])
def test_a_message_finds_its_step_only_in_its_own_workspace(ctx, other_workspace) -> None:
    ws = f.workspace(name="Carts")
    campaign = f.checkout_recovery_campaign(ws)
    step = CheckoutRecoveryStep(
        workspace_id=ws.id,
        campaign_id=campaign.id,
        kind="email",
        number=1,
        due_at=NOW,
        reason="1 h after",
        status="done",
    )
    db.session.add(step)
    db.session.flush()
    owner = f.workspace(name="Elsewhere") if other_workspace else ws
    sent = message(step, owner)
    found = checkout_touches.GUARD.step_of(db.session, sent)
    assert (found is None) is other_workspace
    checkout_touches.GUARD.note_sent(db.session, sent, now=NOW)
    names = db.session.execute(select(DomainEvent.name)).scalars().all()
    assert ("checkout.recovery.email.sent" in names) is not other_workspace
    db.session.rollback()

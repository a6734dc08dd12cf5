"""A/B subject tests: saving a B subject starts a test, each campaign gets the subject of
its arm (recorded on the step), results count ended campaigns that received the touch
(held-out, still open, dropped and other tests' aside), and promoting a subject makes it
the only one, ends the test with its results kept, and is audited."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.dunning import config, subject_rules, subject_tests
from app.dunning.models import SubjectTest
from app.errors import Conflict, Refusal
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.recovery.models import Campaign, Step

from .. import factories as f
from ..recovery.shop import START, Shop

NOW = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
_n = itertools.count(1)


def _save(ws_id: int, copy: dict, **kw) -> None:
    config.save(
        db.session,
        ws_id,
        sequence="standard",
        from_name=None,
        reply_to=None,
        copy=copy,
        pause_days=None,
        **kw,
    )


def _ended_campaign(ws, test: SubjectTest, arm: str, state: str, **kw) -> Campaign:
    outcome = kw.pop("outcome", "sent")
    campaign = Campaign(
        workspace_id=ws.id,
        invoice_stripe_id=f"in_{next(_n)}",
        customer_stripe_id="cus_1",
        amount_minor=4900,
        currency="usd",
        decline_class="scheduled",
        state=state,
        opened_at=NOW,
        last_failure_at=NOW,
        window_ends_at=NOW + dt.timedelta(days=30),
        **kw,
    )
    db.session.add(campaign)
    db.session.flush()
    step = Step(
        workspace_id=ws.id,
        campaign_id=campaign.id,
        kind="email",
        touch=test.touch,
        due_at=NOW,
        reason="test",
        status="done",
        outcome=outcome,
        subject_test_id=test.id,
        subject_arm=arm,
    )
    db.session.add(step)
    db.session.flush()
    return campaign


def test_saving_a_b_subject_starts_a_test_and_editing_it_starts_another(ctx) -> None:
    ws = f.workspace()
    _save(ws.id, {"d0": {"subject": "Payment failed", "subject_b": "{name}, quick fix needed"}})
    [test] = subject_tests.running(db.session, ws.id).values()
    assert (test.touch, test.subject_a, test.subject_b) == (
        "d0",
        "Payment failed",
        "{name}, quick fix needed",
    )
    assert config.settings_for(db.session, ws.id).subject_test_salt
    _save(ws.id, {"d0": {"subject": "Payment failed", "subject_b": "{name}, quick fix needed"}})
    assert subject_tests.running(db.session, ws.id) == {"d0": test}  # unchanged: same test
    _save(ws.id, {"d0": {"subject": "Payment failed", "subject_b": "Act now, {name}"}}, actor="o@x")
    [new] = subject_tests.running(db.session, ws.id).values()
    assert new.id != test.id and new.subject_b == "Act now, {name}"
    assert (test.end_reason, test.ended_by, test.verdict) == (
        "edited",
        "o@x",
        f"No difference yet: about {2 * subject_rules.MIN_ENDED} more ended campaigns needed.",
    )
    _save(ws.id, {"d0": {"subject": "Payment failed"}})  # B cleared: the test ends
    assert subject_tests.running(db.session, ws.id) == {}
    assert [t.id for t in subject_tests.ended(db.session, ws.id)] == [new.id, test.id]


@pytest.mark.parametrize(
    ("copy", "error"),
    [
        ({"d0": {"subject_b": "x" * 151}}, "d0: subject B: the subject is 151 characters"),
        ({"d0": {"subject_b": "Hi {nickname}"}}, "d0: subject B: unknown placeholder"),
        ({"d3": {"subject": "Same", "subject_b": "Same"}}, "d3: subject B is the same as"),
    ],
)
def test_a_bad_b_subject_is_refused_and_nothing_changes(ctx, copy, error) -> None:
    ws = f.workspace()
    with pytest.raises(config.InvalidDunningSettings) as refused:
        _save(ws.id, copy)
    assert any(e.startswith(error) for e in refused.value.errors)
    assert subject_tests.running(db.session, ws.id) == {}


def test_results_count_only_ended_campaigns_that_received_the_touch(ctx) -> None:
    ws = f.workspace()
    _save(ws.id, {"d3": {"subject": "", "subject_b": "Still due, {name}"}})
    test = subject_tests.running(db.session, ws.id)["d3"]
    for state in ("recovered", "recovered", "lost"):
        _ended_campaign(ws, test, "a", state)
    for state in ("recovered", "lost", "lost", "lost"):
        _ended_campaign(ws, test, "b", state)
    _ended_campaign(ws, test, "a", "in_flight")  # not ended yet
    _ended_campaign(ws, test, "a", "abandoned")  # neither recovered nor lost
    _ended_campaign(ws, test, "b", "recovered", is_holdout=True)  # held out
    _ended_campaign(ws, test, "b", "recovered", outcome="dropped")  # never received it
    other = f.workspace()
    _ended_campaign(other, test, "b", "recovered")  # another workspace's rows
    found = subject_tests.results(db.session, test)
    assert (found.a, found.b) == ((2, 3), (1, 4))
    assert found.rate(found.a) == pytest.approx(2 / 3)
    assert found.verdict.winner is None and found.verdict.text.startswith("No difference yet")


def test_promoting_keeps_one_subject_freezes_the_results_and_is_audited(ctx) -> None:
    ws = f.workspace()
    owner = f.user()
    _save(ws.id, {"d0": {"subject": "A line", "message": "Hi", "subject_b": "B line"}})
    test = subject_tests.running(db.session, ws.id)["d0"]
    _ended_campaign(ws, test, "b", "recovered")
    settings = config.settings_for(db.session, ws.id)
    with pytest.raises(Refusal):
        subject_tests.promote(
            db.session, settings, test, "c", actor_id=owner.id, actor_label=owner.email, now=NOW
        )
    subject_tests.promote(
        db.session, settings, test, "b", actor_id=owner.id, actor_label=owner.email, now=NOW
    )
    assert settings.copy == {"d0": {"subject": "B line", "message": "Hi"}}
    assert (test.promoted_arm, test.end_reason, test.ended_at) == ("b", "promoted", NOW)
    assert (test.b_recovered, test.b_ended, test.a_ended) == (1, 1, 0)
    assert subject_tests.results(db.session, test).b == (1, 1)  # readable after the end
    [entry] = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "dunning.subject_promoted")
    ).scalars()
    assert entry.details["subject"] == "B line" and entry.actor_label == owner.email
    with pytest.raises(Conflict):
        subject_tests.promote(
            db.session, settings, test, "a", actor_id=owner.id, actor_label=owner.email, now=NOW
        )
    assert settings.copy["d0"]["subject"] == "B line"


def test_promoting_backstops_default_a_clears_the_touch(ctx) -> None:
    ws = f.workspace()
    _save(ws.id, {"d7": {"subject_b": "B line"}})
    settings = config.settings_for(db.session, ws.id)
    test = subject_tests.running(db.session, ws.id)["d7"]
    subject_tests.promote(db.session, settings, test, "a", actor_id=None, actor_label="o", now=NOW)
    assert settings.copy == {}


# -- on the sandbox -------------------------------------------------------------------------


def _split_salt(invoices: list[str]) -> str:
    """A salt that puts these invoices in both arms (any salt is as good as another)."""
    for n in itertools.count():
        salt = f"{n:064x}"
        if {subject_rules.arm_for(salt, i) for i in invoices} == {"a", "b"}:
            return salt
    raise AssertionError


def test_each_campaign_gets_its_arms_subject_for_every_touch(ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url, start=START.replace(hour=14))  # fails after 10:00: d0 tomorrow
    ws_id = shop.workspace.id
    copy = {
        "d0": {"subject": "Payment failed at {merchant}", "subject_b": "{name}, fix your card"},
        "d3": {"subject": "Reminder", "subject_b": "Second try, {name}"},
    }
    _save(ws_id, copy)
    db.session.commit()
    subs = [
        shop.subscribe("pm_card_sandbox_visa_insufficient_funds", email=f"c{n}@example.com")
        for n in range(3)
    ]
    shop.advance(to=shop.now + dt.timedelta(days=30, hours=2))
    campaigns = [shop.campaign(sub.id) for sub in subs]
    settings = config.settings_for(db.session, ws_id)
    settings.subject_test_salt = _split_salt([c.invoice_stripe_id for c in campaigns])
    db.session.commit()
    for touch in ("d0", "d3"):  # one at a time: overdue together, only the newest would go
        due = [s.due_at for c in campaigns for s in shop.steps(c, "email") if s.touch == touch]
        shop.advance(to=max(due))

    tests = subject_tests.running(db.session, ws_id)
    for campaign in campaigns:
        arm = subject_rules.arm_for(settings.subject_test_salt, campaign.invoice_stripe_id)
        steps = [s for s in shop.steps(campaign, "email") if s.touch in ("d0", "d3")]
        assert [(s.touch, s.outcome, s.subject_arm) for s in steps] == [
            ("d0", "sent", arm),
            ("d3", "sent", arm),
        ]
        assert [s.subject_test_id for s in steps] == [tests["d0"].id, tests["d3"].id]
        assert f"with subject {arm.upper()} of its test" in steps[0].outcome_detail
        subjects = db.session.execute(
            select(OutboxMessage.subject)
            .where(OutboxMessage.campaign_id == campaign.id)
            .order_by(OutboxMessage.id)
        ).scalars()
        expected = (
            ["Payment failed at " + shop.workspace.name, "Reminder"]
            if arm == "a"
            else ["there, fix your card", "Second try, there"]  # the sandbox has no names
        )
        assert list(subjects) == expected
        sent = subject_tests.sent_subjects(db.session, campaign)
        assert [(s.touch, s.arm, s.subject) for s in sent] == list(
            zip(["d0", "d3"], [arm, arm], expected, strict=True)
        )

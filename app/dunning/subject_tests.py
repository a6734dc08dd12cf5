"""A/B tests of touch subjects (issue 18): a touch with a second subject (B) runs a test;
each campaign gets A or B by its invoice (``subject_rules.arm_for``) and keeps it for
every touch; the email step records the test and the arm it sent. Results count only
campaigns that received the touch and ended (recovered or lost), held-out ones aside.

A test's subjects never change while it runs: editing either subject (or clearing B)
ends it and, with a B still set, starts a new one. Promoting a subject makes it the
touch's only one and ends the test. An ended test keeps its counts and verdict, frozen
on its row, so past results stay readable. Services flush only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..audit import services as audit
from ..errors import Conflict, Refusal
from ..outbox.models import OutboxMessage
from ..recovery import holdout
from ..recovery.models import EMAIL, LOST, RECOVERED, Campaign, Step
from . import subject_rules as rules
from .models import DunningSettings, SubjectTest

PROMOTED, EDITED = "promoted", "edited"


@dataclass(frozen=True)
class Results:
    test: SubjectTest
    a: tuple[int, int]
    """(recovered, ended) campaigns that got subject A."""
    b: tuple[int, int]
    verdict: rules.Verdict

    @staticmethod
    def rate(arm: tuple[int, int]) -> float | None:
        return arm[0] / arm[1] if arm[1] else None


def running(session: Session, workspace_id: int) -> dict[str, SubjectTest]:
    """The running test of each touch that has one."""
    rows = session.execute(
        select(SubjectTest).where(
            SubjectTest.workspace_id == workspace_id, SubjectTest.ended_at.is_(None)
        )
    ).scalars()
    return {row.touch: row for row in rows}


def ended(session: Session, workspace_id: int, *, limit: int = 20) -> list[SubjectTest]:
    """Finished tests, newest first."""
    return list(
        session.execute(
            select(SubjectTest)
            .where(SubjectTest.workspace_id == workspace_id, SubjectTest.ended_at.is_not(None))
            .order_by(SubjectTest.ended_at.desc(), SubjectTest.id.desc())
            .limit(limit)
        ).scalars()
    )


def sync(
    session: Session, settings: DunningSettings, *, actor: str | None, now: dt.datetime
) -> None:
    """After the copy was saved: end the tests whose subjects changed, start one for each
    touch with a B subject and no test of exactly these subjects."""
    copy: Mapping[str, Mapping[str, str]] = settings.copy or {}
    tests = running(session, settings.workspace_id)
    for touch, test in tests.items():
        own = copy.get(touch) or {}
        if (own.get("subject", ""), own.get("subject_b", "")) != (test.subject_a, test.subject_b):
            _end(session, test, EDITED, actor=actor, now=now)
    for touch, own in copy.items():
        subject_b = own.get("subject_b", "")
        if not subject_b or (touch in tests and tests[touch].ended_at is None):
            continue
        if not settings.subject_test_salt:
            settings.subject_test_salt = holdout.new_salt()
        session.add(
            SubjectTest(
                workspace_id=settings.workspace_id,
                touch=touch,
                subject_a=own.get("subject", ""),
                subject_b=subject_b,
                started_at=now,
            )
        )
    session.flush()


def copy_for_step(
    session: Session, settings: DunningSettings, campaign: Campaign, step: Step
) -> dict[str, Any]:
    """The copy a touch's step sends with: subject B swapped in for a campaign in arm B
    of the touch's running test; the test and the arm are recorded on the step."""
    copy = dict(settings.copy or {})
    test = running(session, settings.workspace_id).get(step.touch or "")
    if test is None or not settings.subject_test_salt or campaign.is_holdout:
        return copy
    arm = rules.arm_for(settings.subject_test_salt, campaign.invoice_stripe_id)
    step.subject_test_id, step.subject_arm = test.id, arm
    if arm == rules.B:
        copy[test.touch] = {**(copy.get(test.touch) or {}), "subject": test.subject_b}
    return copy


def counts(session: Session, test: SubjectTest) -> dict[str, tuple[int, int]]:
    """(recovered, ended) per arm: campaigns that received the touch under this test."""
    recovered = func.count(func.distinct(case((Campaign.state == RECOVERED, Campaign.id))))
    rows = session.execute(
        select(Step.subject_arm, recovered, func.count(func.distinct(Campaign.id)))
        .join(Campaign, Campaign.id == Step.campaign_id)
        .where(
            Step.workspace_id == test.workspace_id,
            Campaign.workspace_id == test.workspace_id,
            Step.kind == EMAIL,
            Step.subject_test_id == test.id,
            Step.outcome == "sent",
            Campaign.state.in_((RECOVERED, LOST)),
            Campaign.is_holdout.is_(False),
        )
        .group_by(Step.subject_arm)
    ).all()
    found = {arm: (int(x), int(n)) for arm, x, n in rows}
    return {arm: found.get(arm, (0, 0)) for arm in rules.ARMS}


def results(session: Session, test: SubjectTest) -> Results:
    """A running test's results now; an ended one's as they were when it ended."""
    if test.ended_at is not None:
        a = (test.a_recovered or 0, test.a_ended or 0)
        b = (test.b_recovered or 0, test.b_ended or 0)
    else:
        live = counts(session, test)
        a, b = live[rules.A], live[rules.B]
    return Results(test, a, b, rules.verdict(a, b))


def _end(
    session: Session, test: SubjectTest, reason: str, *, actor: str | None, now: dt.datetime
) -> Results:
    found = results(session, test)
    test.a_recovered, test.a_ended = found.a
    test.b_recovered, test.b_ended = found.b
    test.verdict = found.verdict.text[:255]
    test.ended_at, test.end_reason, test.ended_by = now, reason, actor
    return found


def promote(
    session: Session,
    settings: DunningSettings,
    test: SubjectTest,
    arm: str,
    *,
    actor_id: int | None,
    actor_label: str,
    now: dt.datetime,
) -> Results:
    """Make the ``arm``'s subject the touch's only one (A := it, B cleared) and end the
    test with its results kept; audited."""
    if arm not in rules.ARMS:
        raise Refusal("Choose subject A or subject B to keep.")
    if test.workspace_id != settings.workspace_id:
        raise ValueError("the test is another workspace's")
    if test.ended_at is not None:
        raise Conflict("This test has ended already: nothing was changed.")
    kept = test.subject_b if arm == rules.B else test.subject_a
    copy = {key: dict(value) for key, value in (settings.copy or {}).items()}
    own = copy.get(test.touch, {})
    own.pop("subject_b", None)
    own["subject"] = kept
    if own.get("subject") or own.get("message"):
        copy[test.touch] = own
    else:
        copy.pop(test.touch, None)
    settings.copy = copy
    test.promoted_arm = arm
    found = _end(session, test, PROMOTED, actor=actor_label, now=now)
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="dunning.subject_promoted",
        target_type="subject_test",
        target_id=str(test.id),
        workspace_id=test.workspace_id,
        touch=test.touch,
        arm=arm,
        subject=kept,
        a=list(found.a),
        b=list(found.b),
        verdict=found.verdict.text,
    )
    session.flush()
    return found


@dataclass(frozen=True)
class SentSubject:
    touch: str
    arm: str
    subject: str | None
    """As it left (placeholders filled); None when the message was not stored."""


def sent_subjects(session: Session, campaign: Campaign) -> list[SentSubject]:
    """Which subject each tested touch of the campaign went out with."""
    rows = session.execute(
        select(Step.touch, Step.subject_arm, OutboxMessage.subject)
        .outerjoin(
            OutboxMessage,
            (OutboxMessage.step_id == Step.id) & (OutboxMessage.workspace_id == Step.workspace_id),
        )
        .where(
            Step.workspace_id == campaign.workspace_id,
            Step.campaign_id == campaign.id,
            Step.subject_arm.is_not(None),
        )
        .order_by(Step.due_at, Step.id)
    ).all()
    return [SentSubject(touch or "", arm, subject) for touch, arm, subject in rows]

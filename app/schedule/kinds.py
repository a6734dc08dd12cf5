"""The kinds of step in the schedule, declared by the features that own them.

A feature registers each kind it puts in the schedule from its own ``register()``
(called by ``create_app``, never by an import): what runs a due step of that kind (its
*decision*, and for kinds whose effect must be committed apart, such as a charge, its
*effect*), what a message of that kind re-checks at the moment it leaves, and how it
plans its steps when a campaign opens or resumes. The recovery runner dispatches on
``step.kind`` and knows no feature above it: dunning's email touches, win-back touches
and retain pause-ends are kinds, nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Done:
    """The step is over: what came of it, in words for the timeline."""

    outcome: str
    detail: str
    status: str = "done"


@dataclass(frozen=True)
class Hold:
    """Not now: run again at ``until`` (another message went out too recently)."""

    until: dt.datetime
    detail: str


@dataclass(frozen=True)
class Proceed:
    """The decision is made and committed; the kind's ``effect`` acts next."""


Verdict = Done | Hold | Proceed

#: ``decide(session, connection, step, *, now, at)``: ``now`` is real time, ``at`` the
#: step's own (its test clock's).
Decide = Callable[..., Verdict]
#: ``effect(session, connection, step, *, now)`` after the decision's commit.
Effect = Callable[..., Done]
#: ``recheck(session, connection, step, *, now, sent_at)``: why an effect the step already
#: produced (a stored message) must not leave any more, or None.
Recheck = Callable[..., str | None]
#: ``plan(session, campaign, *, now, late)``: the steps of this kind for a campaign that
#: opened or resumed (``late`` says why some are overdue already, or is None).
Plan = Callable[..., list[Any]]
#: ``rank(step)``: orders steps of one campaign; when several are overdue only the
#: highest-ranked runs.
Rank = Callable[[Any], tuple[Any, ...]]
#: ``label(step)``: the step in the merchant's words, inside a sentence ("the second
#: reminder email"); ``title(step)``: as a heading ("Second reminder email").
Label = Callable[[Any], str]
#: ``gap(session, workspace_id)``: the least time between two customer messages of one
#: campaign (the workspace's setting).
Gap = Callable[..., dt.timedelta]


@dataclass(frozen=True)
class StepKind:
    name: str
    decide: Decide
    label: Label
    effect: Effect | None = None
    recheck: Recheck | None = None
    plan: Plan | None = None
    rank: Rank | None = None
    """Set for kinds whose overdue steps collapse into the newest (touches, retries)."""
    message_gap: Gap | None = None
    """Set for kinds that write to the customer: no two messages of one campaign closer
    together than this (DESIGN §4)."""
    needs_stripe: bool = True
    """False for kinds that decide without Stripe (the end of a window)."""
    title: Label | None = None
    """The step as the timeline heads it; by default its label, as a heading."""

    @property
    def is_customer_message(self) -> bool:
        return self.message_gap is not None


class UnknownStepKind(LookupError):
    pass


_KINDS: dict[str, StepKind] = {}


def register(kind: StepKind) -> None:
    """Declare ``kind`` (again: ``create_app`` runs once per app, tests make many)."""
    _KINDS[kind.name] = kind


def get(name: str) -> StepKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownStepKind(f"no feature registered the step kind {name!r}") from None


def title_of(step: Any) -> str:
    """The step as a heading in the merchant's words: "Second reminder email", "Retry"."""
    kind = _KINDS.get(step.kind)
    if kind is None:
        return str(step.kind).replace("_", " ").capitalize()
    if kind.title is not None:
        return kind.title(step)
    words = kind.label(step).split(" ", 1)
    text = words[1] if len(words) == 2 and words[0] in ("the", "a", "an") else kind.label(step)
    return text[:1].upper() + text[1:]


def registered() -> list[StepKind]:
    return list(_KINDS.values())


def planners() -> list[Plan]:
    return [kind.plan for kind in _KINDS.values() if kind.plan is not None]

"""Editing a flow's draft step by step from the builder: replace, add or remove a step.
Services flush, never commit; the draft may be unfinished until it is published."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from ..errors import Refusal
from . import definition as flow_definition
from .flows import save_draft
from .models import RetainFlow
from .step_forms import blank_step

ADDABLE_KINDS = ("survey", "stories", "offer", "feedback")


def update_step(
    session: Session, flow: RetainFlow, step: dict[str, Any]
) -> list[flow_definition.Problem]:
    """Replace one step of the draft (matched by id); returns the draft's problems."""
    steps = [step if s.get("id") == step["id"] else s for s in flow.draft.get("steps", [])]
    return save_draft(session, flow, {**flow.draft, "steps": steps})


def add_step(session: Session, flow: RetainFlow, kind: str) -> str:
    """A new step of ``kind`` just before the confirm step; nothing leads to it yet."""
    if kind not in ADDABLE_KINDS:
        raise Refusal("Choose the kind of step to add.")
    steps = list(flow.draft.get("steps", []))
    taken = {s.get("id") for s in steps}
    n = 1
    while f"{kind}_{n}" in taken:
        n += 1
    step_id = f"{kind}_{n}"
    at = next((i for i, s in enumerate(steps) if s.get("kind") == "confirm"), len(steps))
    steps.insert(at, blank_step(kind, step_id))
    save_draft(session, flow, {**flow.draft, "steps": steps})
    return step_id


def remove_step(session: Session, flow: RetainFlow, step_id: str) -> None:
    """Drop a step; whatever led to it now leads on to the next step by default."""
    steps = list(flow.draft.get("steps", []))
    found = next((s for s in steps if s.get("id") == step_id), None)
    if found is None:
        raise Refusal("There is no such step.")
    if found.get("kind") == "confirm" or steps[0] is found:
        raise Refusal("The first step and the confirm step stay; edit them instead.")
    kept = []
    for step in steps:
        if step is found:
            continue
        step = copy.deepcopy(step)
        if step.get("next") == step_id:
            step["next"] = None
        for reason in step.get("reasons", []):
            if reason.get("next") == step_id:
                reason["next"] = None
        kept.append(step)
    save_draft(session, flow, {**flow.draft, "steps": kept})

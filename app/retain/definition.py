"""A cancel flow's definition: the steps a customer walks, as plain JSON-able data.

A definition is ``{"steps": [...], "success": {...}}``. The first step is where a
customer starts; each step names the ``next`` one, and a survey's reasons each name
their own. Exactly one ``confirm`` step ends every path: it holds the cancel button and
the date the subscription ends. "Cancel anyway" is not a step: every page has it, so
the walk below never has to reach the confirm step for a customer to leave.

Pure rules: no Flask, no session, no clock. :func:`validate` says what is wrong with a
draft in the merchant's words; :func:`next_step` walks a valid one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STEP_KINDS = ("survey", "stories", "offer", "feedback", "confirm")
OFFER_TYPES = (
    "discount",  # percent_off or amount_off for ``months`` billing periods (a coupon)
    "pause",  # no collection for ``months`` months (pause_collection + resumes_at)
    "free_months",  # a 100 % coupon for ``months`` billing periods
    "plan_switch",  # move to the merchant's ``price`` (prorated, previewed first)
    "book_call",  # ``url``: the merchant's booking page
    "contact_support",  # ``url``: mailto: or a support page
    "redirect",  # ``url``: anywhere the merchant chooses
)
#: Offers whose acceptance changes the subscription on Stripe.
STRIPE_OFFERS = ("discount", "pause", "free_months", "plan_switch")
LINK_OFFERS = ("book_call", "contact_support", "redirect")

MIN_REASONS, MAX_REASONS = 2, 8
MERGE_FIELDS = ("customer_name", "plan_name", "price", "period_end", "offer_saving")
_MERGE = re.compile(r"\{([a-z_]+)\}")
_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_URL = re.compile(r"(https?://[^\s]+|mailto:[^\s@]+@[^\s@]+)")
TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Problem:
    """What is wrong with a draft: where (a step id, or None for the flow) and why."""

    step: str | None
    message: str


def steps_by_id(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in definition.get("steps", []) if isinstance(step, dict)}


def first_step(definition: dict[str, Any]) -> dict[str, Any]:
    return definition["steps"][0]


def confirm_step(definition: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in definition["steps"] if s.get("kind") == "confirm")


def reason(step: dict[str, Any], key: str | None) -> dict[str, Any] | None:
    return next((r for r in step.get("reasons", []) if r.get("key") == key), None)


def next_step(
    definition: dict[str, Any], step_id: str, *, reason_key: str | None = None
) -> dict[str, Any]:
    """The step after ``step_id`` (after choosing ``reason_key`` on a survey); the
    confirm step when the definition names none."""
    steps = steps_by_id(definition)
    step = steps[step_id]
    target = None
    if step["kind"] == "survey":
        chosen = reason(step, reason_key)
        target = chosen.get("next") if chosen else None
    target = target or step.get("next")
    return steps[target] if target in steps else confirm_step(definition)


def edges(definition: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """Every arrow of the flow as (from, to, reason label or None): the builder's graph."""
    steps = steps_by_id(definition)
    confirm = confirm_step(definition)["id"] if any_confirm(definition) else None
    found: list[tuple[str, str, str | None]] = []
    for step in definition.get("steps", []):
        if step["kind"] == "confirm":
            continue
        if step["kind"] == "survey":
            for r in step.get("reasons", []):
                target = r.get("next") or step.get("next") or confirm
                if target in steps:
                    found.append((step["id"], target, r.get("label")))
            continue
        target = step.get("next") or confirm
        if target in steps:
            found.append((step["id"], target, None))
    return found


def any_confirm(definition: dict[str, Any]) -> bool:
    return any(s.get("kind") == "confirm" for s in definition.get("steps", []))


def offers(definition: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(step id, offer) for every offer step, in order."""
    return [
        (s["id"], s.get("offer") or {})
        for s in definition.get("steps", [])
        if isinstance(s, dict) and s.get("kind") == "offer"
    ]


def merge_fields_used(text: str) -> set[str]:
    return set(_MERGE.findall(text or ""))


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with its merge fields replaced; a field with no value reads as blank
    rather than as ``{braces}`` in front of a customer."""
    return _MERGE.sub(
        lambda m: values.get(m.group(1), "") if m.group(1) in MERGE_FIELDS else m.group(0),
        text or "",
    )


# -- validation ---------------------------------------------------------------------------------


def validate(definition: Any) -> list[Problem]:
    """Every problem that keeps ``definition`` from being published (empty: it is fine)."""
    if not isinstance(definition, dict) or not isinstance(definition.get("steps"), list):
        return [Problem(None, "The flow has no steps.")]
    steps = definition["steps"]
    if not steps:
        return [Problem(None, "The flow has no steps.")]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            problems.append(Problem(None, f"Step {index + 1} is not a step."))
            continue
        step_id = step.get("id")
        if not isinstance(step_id, str) or not _ID.fullmatch(step_id):
            problems.append(Problem(None, f"Step {index + 1} needs a short id (a-z, 0-9, _)."))
            continue
        if step_id in seen:
            problems.append(Problem(step_id, "Two steps have this id."))
        seen.add(step_id)
        problems += _step_problems(step)
    if problems:
        return problems
    confirms = [s for s in steps if s["kind"] == "confirm"]
    if len(confirms) != 1:
        return [Problem(None, "A flow has exactly one confirm step.")]
    if steps[0]["kind"] == "confirm" and len(steps) > 1:
        problems.append(Problem(steps[0]["id"], "The confirm step cannot come first."))
    ids = {s["id"] for s in steps}
    for source, target in _targets(steps):
        if target is not None and target not in ids:
            problems.append(Problem(source, f"It leads to a step that does not exist ({target})."))
    if problems:
        return problems
    problems += _cycles(definition)
    reachable = _reachable(definition)
    for step in steps:
        if step["id"] not in reachable:
            problems.append(Problem(step["id"], "No path leads to this step."))
    return problems


def _targets(steps: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    found = [(s["id"], s.get("next")) for s in steps]
    for s in steps:
        if s["kind"] == "survey":
            found += [(s["id"], r.get("next")) for r in s.get("reasons", [])]
    return found


def _cycles(definition: dict[str, Any]) -> list[Problem]:
    graph: dict[str, set[str]] = {}
    for source, target, _label in edges(definition):
        graph.setdefault(source, set()).add(target)
    state: dict[str, int] = {}

    def visit(node: str) -> str | None:
        state[node] = 1
        for target in graph.get(node, ()):
            if state.get(target) == 1:
                return target
            if state.get(target) is None and (found := visit(target)):
                return found
        state[node] = 2
        return None

    for node in list(graph):
        if state.get(node) is None and (found := visit(node)):
            return [Problem(found, "The flow goes round in a circle through this step.")]
    return []


def _reachable(definition: dict[str, Any]) -> set[str]:
    graph: dict[str, set[str]] = {}
    for source, target, _label in edges(definition):
        graph.setdefault(source, set()).add(target)
    start = first_step(definition)["id"]
    seen, todo = {start}, [start]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _text(step: dict[str, Any], name: str, *, required: bool) -> list[Problem]:
    value = step.get(name)
    if value is None or value == "":
        return [Problem(step["id"], f"The {name.replace('_', ' ')} is empty.")] if required else []
    if not isinstance(value, str) or len(value) > TEXT_LIMIT:
        return [
            Problem(
                step["id"],
                f"The {name.replace('_', ' ')} must be text of at most {TEXT_LIMIT} characters.",
            )
        ]
    unknown = merge_fields_used(value) - set(MERGE_FIELDS)
    if unknown:
        names = ", ".join("{" + f + "}" for f in sorted(unknown))
        return [Problem(step["id"], f"Unknown merge field {names}.")]
    return []


def _step_problems(step: dict[str, Any]) -> list[Problem]:
    kind = step.get("kind")
    if kind not in STEP_KINDS:
        return [Problem(step["id"], "Unknown kind of step.")]
    problems = _text(step, "title", required=True) + _text(step, "body", required=False)
    if kind == "survey":
        problems += _reasons(step)
    elif kind == "stories":
        stories = step.get("stories")
        if not isinstance(stories, list) or not stories or len(stories) > 5:
            problems.append(Problem(step["id"], "Add one to five stories."))
        else:
            for story in stories:
                if not isinstance(story, dict) or not _short(story.get("quote"), 600):
                    problems.append(Problem(step["id"], "Each story needs a quote."))
                    break
    elif kind == "offer":
        problems += [Problem(step["id"], m) for m in offer_problems(step.get("offer"))]
        problems += _text(step, "accept_label", required=True)
    elif kind == "feedback":
        problems += _text(step, "prompt", required=False)
    return problems


def _short(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= limit


def _reasons(step: dict[str, Any]) -> list[Problem]:
    reasons = step.get("reasons")
    if not isinstance(reasons, list) or not MIN_REASONS <= len(reasons) <= MAX_REASONS:
        return [Problem(step["id"], f"A survey has {MIN_REASONS} to {MAX_REASONS} reasons.")]
    keys: set[str] = set()
    for r in reasons:
        if not isinstance(r, dict) or not _short(r.get("label"), 120):
            return [Problem(step["id"], "Each reason needs a label (at most 120 characters).")]
        key = r.get("key")
        if not isinstance(key, str) or not _ID.fullmatch(key) or key in keys:
            return [
                Problem(step["id"], f"Reason \u201c{r['label']}\u201d needs its own short key.")
            ]
        keys.add(key)
    return []


def offer_problems(offer: Any) -> list[str]:
    """Shape and range of one offer; whether it needs an owner's approval is policy."""
    if not isinstance(offer, dict) or offer.get("type") not in OFFER_TYPES:
        return ["Choose what the offer is."]
    kind = offer["type"]
    if kind == "discount":
        percent, amount = offer.get("percent_off"), offer.get("amount_off")
        if (percent is None) == (amount is None):
            return ["A discount is a percentage or an amount, one of the two."]
        if percent is not None and not _int_in(percent, 1, 100):
            return ["The percentage is a whole number from 1 to 100."]
        if amount is not None and not _int_in(amount, 1, 10_000_000):
            return ["The amount off is a whole number of cents above 0."]
        if amount is not None and not re.fullmatch(r"[a-z]{3}", str(offer.get("currency", ""))):
            return ["An amount off needs its currency (three letters)."]
        if not _int_in(offer.get("months"), 1, 36):
            return ["A discount lasts 1 to 36 months."]
    elif kind in ("pause", "free_months"):
        if not _int_in(offer.get("months"), 1, 12):
            return ["Choose 1 to 12 months."]
    elif kind == "plan_switch":
        price = offer.get("price")
        if not isinstance(price, str) or not re.fullmatch(r"price_[A-Za-z0-9_]{1,200}", price):
            return ["Choose the plan to offer (a Stripe price, price_…)."]
    elif kind in LINK_OFFERS:
        url = offer.get("url")
        if not isinstance(url, str) or len(url) > 500 or not _URL.fullmatch(url):
            return ["The link must start with https://, http:// or mailto:."]
    return []


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

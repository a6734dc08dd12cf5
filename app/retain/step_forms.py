"""The builder's step form: the fields of one step, to and from the definition.

Forms check shape (numbers are numbers, ids are ids); whether the step makes sense in
the flow is :func:`app.retain.definition.validate`'s to say, on the whole draft.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import Refusal
from .definition import MAX_REASONS, OFFER_TYPES

MAX_STORIES = 5
_SLUG = re.compile(r"[^a-z0-9]+")


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _int(form: Mapping[str, str], name: str, label: str) -> int | None:
    raw = _text(form, name)
    if not raw:
        return None
    if not re.fullmatch(r"\d{1,6}", raw):
        raise Refusal(f"{label} must be a whole number.")
    return int(raw)


def _minor(form: Mapping[str, str], name: str) -> int | None:
    raw = _text(form, name)
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise Refusal("The amount off must be a number, such as 5.00.")
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise Refusal("The amount off must be above 0, in cents at most (5.00).")
    return int(amount * 100)


def key_for(label: str, taken: set[str]) -> str:
    """A reason's key from its label (``too_expensive``), unique within the survey."""
    base = _SLUG.sub("_", label.lower()).strip("_")[:30] or "reason"
    if not base[0].isalpha():
        base = f"r_{base}"[:30]
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def step_from_form(step: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """``step`` with the form's fields (its id and kind never change here)."""
    out: dict[str, Any] = {"id": step["id"], "kind": step["kind"], "title": _text(form, "title")}
    if _text(form, "body"):
        out["body"] = _text(form, "body")
    if step["kind"] != "confirm":
        out["next"] = _text(form, "next") or None
    if step["kind"] == "survey":
        out["reasons"] = _reasons(step, form)
    elif step["kind"] == "stories":
        out["stories"] = [
            {
                "quote": _text(form, f"story_quote_{i}"),
                "author": _text(form, f"story_author_{i}") or None,
            }
            for i in range(MAX_STORIES)
            if _text(form, f"story_quote_{i}")
        ]
    elif step["kind"] == "offer":
        out["accept_label"] = _text(form, "accept_label")
        out["offer"] = _offer(form)
    elif step["kind"] == "feedback" and _text(form, "prompt"):
        out["prompt"] = _text(form, "prompt")
    return out


def _reasons(step: dict[str, Any], form: Mapping[str, str]) -> list[dict[str, Any]]:
    old = {r.get("key"): r for r in step.get("reasons", [])}
    reasons: list[dict[str, Any]] = []
    taken: set[str] = set()
    for i in range(MAX_REASONS):
        label = _text(form, f"reason_label_{i}")
        if not label:
            continue
        key = _text(form, f"reason_key_{i}")
        if key not in old or key in taken:
            key = key_for(label, taken | set(old))
        taken.add(key)
        reason: dict[str, Any] = {
            "key": key,
            "label": label,
            "next": _text(form, f"reason_next_{i}") or None,
        }
        if form.get(f"reason_free_{i}"):
            reason["free_text"] = True
        reasons.append(reason)
    return reasons


def _offer(form: Mapping[str, str]) -> dict[str, Any]:
    kind = _text(form, "offer_type")
    if kind not in OFFER_TYPES:
        raise Refusal("Choose what the offer is.")
    offer: dict[str, Any] = {"type": kind}
    if kind == "discount":
        if _text(form, "discount_kind") == "amount":
            offer["amount_off"] = _minor(form, "amount_off")
            offer["currency"] = _text(form, "currency").lower() or "usd"
        else:
            offer["percent_off"] = _int(form, "percent_off", "The percentage")
        offer["months"] = _int(form, "months", "Months")
    elif kind in ("pause", "free_months"):
        offer["months"] = _int(form, "months", "Months")
    elif kind == "plan_switch":
        offer["price"] = _text(form, "price") or None
    else:
        offer["url"] = _text(form, "url")
    return offer


def blank_step(kind: str, step_id: str) -> dict[str, Any]:
    """A new step of ``kind`` with sensible copy, for the merchant to edit."""
    if kind == "survey":
        return {
            "id": step_id,
            "kind": kind,
            "title": "What's the main reason?",
            "reasons": [
                {"key": "too_expensive", "label": "It's too expensive", "next": None},
                {"key": "other", "label": "Something else", "next": None, "free_text": True},
            ],
            "next": None,
        }
    if kind == "offer":
        return {
            "id": step_id,
            "kind": kind,
            "title": "How about 20 % off?",
            "body": "Stay on {plan_name} for less: you save {offer_saving}.",
            "offer": {"type": "discount", "percent_off": 20, "months": 3},
            "accept_label": "Take 20 % off",
            "next": None,
        }
    if kind == "stories":
        return {
            "id": step_id,
            "kind": kind,
            "title": "What other customers say",
            "stories": [
                {"quote": "It paid for itself in the first month.", "author": "A customer"}
            ],
            "next": None,
        }
    return {
        "id": step_id,
        "kind": "feedback",
        "title": "Anything we should know?",
        "prompt": "What could we do better?",
        "next": None,
    }

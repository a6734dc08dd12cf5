"""The building blocks the templates share: the survey, the confirm and feedback steps,
the success copy, and the offers several templates make."""

from __future__ import annotations

from typing import Any

SURVEY_TITLE = "Before you go, what's the main reason?"
SURVEY_BODY = "One tap helps us get better. It won't stop you from cancelling."
CONFIRM = {
    "id": "confirm",
    "kind": "confirm",
    "title": "Cancel your {plan_name} subscription",
    "body": "You keep everything until {period_end}. Nothing more will be charged.",
}
FEEDBACK = {
    "id": "feedback",
    "kind": "feedback",
    "title": "Anything we should know?",
    "prompt": "What could we have done better? (optional)",
    "next": "confirm",
}
SUCCESS = {
    "saved_title": "You're all set, {customer_name}",
    "saved_body": "Thanks for staying. We've applied your offer; you'll see it on your next invoice.",
    "cancelled_title": "Your subscription is cancelled",
    "cancelled_body": "You can keep using {plan_name} until {period_end}. You're welcome back any time.",
}


def reason(key: str, label: str, next_step: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "next": next_step, **extra}


def survey(reasons: list[dict[str, Any]], next_step: str = "feedback") -> dict[str, Any]:
    return {
        "id": "survey",
        "kind": "survey",
        "title": SURVEY_TITLE,
        "body": SURVEY_BODY,
        "reasons": reasons,
        "next": next_step,
    }


def offer(
    step_id: str,
    offer: dict[str, Any],
    title: str,
    body: str,
    accept: str,
    next_step: str = "feedback",
) -> dict[str, Any]:
    return {
        "id": step_id,
        "kind": "offer",
        "title": title,
        "body": body,
        "offer": offer,
        "accept_label": accept,
        "next": next_step,
    }


OTHER = reason("other", "Something else", None, free_text=True)
DISCOUNT_25 = offer(
    "offer_discount",
    {"type": "discount", "percent_off": 25, "months": 3},
    "How about 25 % off for the next 3 months?",
    "Stay on {plan_name} for less while you decide: you save {offer_saving}.",
    "Take 25 % off",
)
PAUSE_2 = offer(
    "offer_pause",
    {"type": "pause", "months": 2},
    "Take a break instead",
    "Pause for 2 months: nothing is charged and your account stays as it is. It picks up again by itself.",
    "Pause for 2 months",
)
SUPPORT = offer(
    "offer_support",
    {"type": "contact_support", "url": "mailto:{support_email}"},
    "Let us fix it first",
    "Tell us what went wrong and a real person will get back to you within a working day.",
    "Contact support",
)

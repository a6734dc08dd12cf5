"""What a checkout reminder says: ours per touch (a nudge, a reminder, a last call), or
the merchant's own subject and message per touch. Pure rules.

Merchant copy is plain text with a few ``{placeholders}``, never a template. Our own
copy is marked with ``N_`` and translated by the caller; the merchant's stays as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..dunning import copy as dunning_copy
from ..dunning.copy import fill
from ..i18n import N_
from .policy import MAX_TOUCHES

PLACEHOLDERS = {
    "name": "the customer's first name (or 'there')",
    "merchant": "your business name",
    "plan": "what they were buying, e.g. Pro",
    "price": "its price, e.g. 49.00 USD a month",
}

__all__ = ["PLACEHOLDERS", "TouchCopy", "clean_copy", "copy_errors", "copy_for", "fill"]


@dataclass(frozen=True)
class TouchCopy:
    subject: str
    message: str


_COPY: Mapping[int, TouchCopy] = {
    1: TouchCopy(
        N_("You left something at {merchant}"),
        N_(
            "Hi {name}, you were a moment away from starting {plan} at {merchant}. Your "
            "checkout is saved: pick up where you left off."
        ),
    ),
    2: TouchCopy(
        N_("Your {plan} checkout is still waiting"),
        N_(
            "Hi {name}, just a reminder that your {plan} plan at {merchant} is ready when you "
            "are. It only takes a minute to finish."
        ),
    ),
    3: TouchCopy(
        N_("Last reminder: finish starting {plan}"),
        N_(
            "Hi {name}, this is the last time we'll write about your checkout at {merchant}. "
            "If you still want {plan}, the link below takes you straight back."
        ),
    ),
}


def default_copy(number: int) -> TouchCopy:
    return _COPY.get(number, _COPY[2])


def copy_for(
    overrides: Mapping[str, Mapping[str, str]],
    number: int,
    *,
    translate: Callable[[str], str] = str,
) -> TouchCopy:
    """The merchant's copy for touch ``number`` where they wrote some, else ours."""
    default = default_copy(number)
    own = overrides.get(str(number)) or {}
    return TouchCopy(
        subject=(own.get("subject") or "").strip() or translate(default.subject),
        message=(own.get("message") or "").strip() or translate(default.message),
    )


def copy_errors(subject: str, message: str) -> list[str]:
    return dunning_copy.copy_errors(subject, message, PLACEHOLDERS)


def clean_copy(
    copy: Mapping[str, Mapping[str, str]],
) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Every problem with the copy, and the copy without empty entries."""
    errors: list[str] = []
    clean: dict[str, dict[str, str]] = {}
    for number, text in copy.items():
        if number not in {str(n) for n in range(1, MAX_TOUCHES + 1)}:
            errors.append(f"there is no checkout reminder {number!r}")
            continue
        subject = (text.get("subject") or "").strip()
        message = (text.get("message") or "").strip()
        errors += [f"reminder {number}: {e}" for e in copy_errors(subject, message)]
        if subject or message:
            clean[number] = {"subject": subject, "message": message}
    return errors, clean

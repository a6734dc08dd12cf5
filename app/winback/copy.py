"""What a win-back email says: the reason the customer gave decides the angle (too
expensive: the offer; missing a feature: what's new; not using it: a fresh start;
switched: how we compare; otherwise plain), and involuntary cancels get their own copy.
The merchant may rewrite the subject and message per touch and reason. Pure rules.

Merchant copy is plain text with a few ``{placeholders}``, never a template. Our own
copy is marked with ``N_`` and translated by the caller (``translate``); the merchant's
stays as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..dunning import copy as dunning_copy
from ..dunning.copy import fill
from ..i18n import N_
from .policy import COPY_KEYS, MAX_TOUCHES

PLACEHOLDERS = {
    "name": "the customer's first name (or 'there')",
    "merchant": "your business name",
    "plan": "the plan they had, e.g. Pro",
    "price": "its price, e.g. 49.00 USD a month",
}

__all__ = ["PLACEHOLDERS", "TouchCopy", "copy_errors", "copy_for", "default_copy", "fill"]


@dataclass(frozen=True)
class TouchCopy:
    subject: str
    message: str


_FIRST: Mapping[str, TouchCopy] = {
    "too_expensive": TouchCopy(
        N_("A better price to come back to {merchant}"),
        N_(
            "Hi {name}, you told us {merchant} cost more than it was worth to you. We'd "
            "like to make that right: come back to {plan} at a price that works for you."
        ),
    ),
    "missing_feature": TouchCopy(
        N_("What's new at {merchant}"),
        N_(
            "Hi {name}, you left because {merchant} was missing something you needed. "
            "We've been busy since: have a look at what's new, and pick up where you "
            "left off."
        ),
    ),
    "not_using": TouchCopy(
        N_("Ready for a fresh start with {merchant}?"),
        N_(
            "Hi {name}, life gets busy and things fall by the wayside. Whenever you're "
            "ready, your {plan} plan is one tap away, with everything as you left it."
        ),
    ),
    "switched": TouchCopy(
        N_("How {merchant} compares"),
        N_(
            "Hi {name}, you moved to another product. If it isn't everything you hoped, "
            "{merchant} is still here: your account and your {plan} plan are ready for you."
        ),
    ),
    "other": TouchCopy(
        N_("We'd love to have you back at {merchant}"),
        N_(
            "Hi {name}, it's been a little while since you left {merchant}. Your {plan} "
            "plan is one tap away whenever you want it back."
        ),
    ),
    "payment_failed": TouchCopy(
        N_("Your {merchant} subscription ended: restart it in one tap"),
        N_(
            "Hi {name}, your {merchant} subscription ended because a payment didn't go "
            "through, not because you chose to leave. Restart {plan} in one tap, with the "
            "card on file or a new one."
        ),
    ),
}
_LATER = TouchCopy(
    N_("Still thinking about {merchant}?"),
    N_(
        "Hi {name}, just a reminder that your {plan} plan at {merchant} is one tap away. "
        "Come back whenever you like."
    ),
)
_LAST = TouchCopy(
    N_("Last chance to restart {plan} at {merchant}"),
    N_(
        "Hi {name}, this is the last time we'll write about coming back. Your {plan} plan "
        "is still one tap away if you want it."
    ),
)


def default_copy(key: str, number: int, count: int) -> TouchCopy:
    """Ours: the first touch follows the reason; later ones remind, the last says so."""
    if number == 1:
        return _FIRST.get(key, _FIRST["other"])
    return _LAST if number == count and count > 2 else _LATER


def copy_for(
    overrides: Mapping[str, Mapping[str, Mapping[str, str]]],
    key: str,
    number: int,
    count: int,
    *,
    translate: Callable[[str], str] = str,
) -> TouchCopy:
    """The merchant's copy for touch ``number`` and reason ``key`` where they wrote some
    (stored under ``overrides[str(number)][key]``), else ours."""
    default = default_copy(key, number, count)
    own = (overrides.get(str(number)) or {}).get(key) or {}
    return TouchCopy(
        subject=(own.get("subject") or "").strip() or translate(default.subject),
        message=(own.get("message") or "").strip() or translate(default.message),
    )


def copy_errors(subject: str, message: str) -> list[str]:
    """What is wrong with copy a merchant wrote (empty means "use ours")."""
    return dunning_copy.copy_errors(subject, message, PLACEHOLDERS)


def clean_copy(
    copy: Mapping[str, Mapping[str, Mapping[str, str]]],
) -> tuple[list[str], dict[str, dict[str, dict[str, str]]]]:
    """Every problem with the copy, and the copy without empty entries."""
    errors: list[str] = []
    clean: dict[str, dict[str, dict[str, str]]] = {}
    for number, by_reason in copy.items():
        if number not in {str(n) for n in range(1, MAX_TOUCHES + 1)}:
            errors.append(f"there is no win-back email {number!r}")
            continue
        for key, text in by_reason.items():
            if key not in COPY_KEYS:
                errors.append(f"there is no reason {key!r}")
                continue
            subject = (text.get("subject") or "").strip()
            message = (text.get("message") or "").strip()
            errors += [f"email {number}, {key}: {e}" for e in copy_errors(subject, message)]
            if subject or message:
                clean.setdefault(number, {})[key] = {"subject": subject, "message": message}
    return errors, clean

"""A workspace's retry policy: cadences, class overrides and caps, which may only be
lowered below the legal maxima (DESIGN §6)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from ..errors import Refusal
from .declines import CUSTOMER_ACTION_CODES, NO_RECOVERY_CODES, DeclineClass, normalize

DAY = dt.timedelta(days=1)
PAYDAY: Final = "payday"
"""A cadence step meaning "the customer's next payday" rather than a fixed offset."""

Step = dt.timedelta | str
DEFAULT_CADENCE = "default"

DEFAULT_CADENCES: Mapping[str, tuple[Step, ...]] = {
    DEFAULT_CADENCE: (3 * DAY, 5 * DAY, 7 * DAY),
    "insufficient_funds": (DAY, PAYDAY, 7 * DAY, 14 * DAY),
    "do_not_honor": (DAY, 3 * DAY, 7 * DAY, 14 * DAY),
    "card_velocity_exceeded": (DAY, 2 * DAY),
}
DEFAULT_IMMEDIATE_OFFSETS: tuple[dt.timedelta, ...] = (
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=4),
)

# The caps nothing may raise: card-network rules and our own promise to customers.
LEGAL_MAXIMA: Mapping[str, int] = {
    "max_attempts_per_invoice_30d": 6,
    "max_auto_retries": 4,
    "visa_max_30d": 15,
    "mastercard_max_24h": 10,
    "mastercard_max_30d": 35,
}
# A cap of zero stops everything; automatic retries alone may be switched off.
_LEGAL_MINIMA: Mapping[str, int] = {**dict.fromkeys(LEGAL_MAXIMA, 1), "max_auto_retries": 0}

CAMPAIGN_WINDOW = 30 * DAY
# Steps past this can never run, whatever the workspace sets: a cadence that long is a mistake.
_MAX_RETRIES = LEGAL_MAXIMA["max_auto_retries"]
_MAX_IMMEDIATE_OFFSET = DAY
_MIN_CADENCE_OFFSET = dt.timedelta(hours=1)


class InvalidPolicy(Refusal):
    """The policy breaks a rule; ``errors`` lists every problem, one sentence each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(*errors)


@dataclass(frozen=True)
class Policy:
    cadences: Mapping[str, tuple[Step, ...]] = field(default_factory=lambda: dict(DEFAULT_CADENCES))
    immediate_offsets: tuple[dt.timedelta, ...] = DEFAULT_IMMEDIATE_OFFSETS
    overrides: Mapping[str, DeclineClass] = field(default_factory=dict)
    max_attempts_per_invoice_30d: int = LEGAL_MAXIMA["max_attempts_per_invoice_30d"]
    max_auto_retries: int = LEGAL_MAXIMA["max_auto_retries"]
    visa_max_30d: int = LEGAL_MAXIMA["visa_max_30d"]
    mastercard_max_24h: int = LEGAL_MAXIMA["mastercard_max_24h"]
    mastercard_max_30d: int = LEGAL_MAXIMA["mastercard_max_30d"]

    def cadence_for(self, code: str | None) -> tuple[Step, ...]:
        """The steps for ``code``: its own cadence, else the workspace default."""
        code = normalize(code)
        if code is not None and code in self.cadences:
            return self.cadences[code]
        return self.cadences.get(DEFAULT_CADENCE, DEFAULT_CADENCES[DEFAULT_CADENCE])

    def errors(self) -> list[str]:
        return [*self._cap_errors(), *self._cadence_errors(), *self._override_errors()]

    def validate(self) -> Policy:
        """This policy, or :class:`InvalidPolicy` listing every problem."""
        errors = self.errors()
        if errors:
            raise InvalidPolicy(errors)
        return self

    def _cap_errors(self) -> list[str]:
        errors = []
        for name, maximum in LEGAL_MAXIMA.items():
            value = getattr(self, name)
            label = name.replace("_", " ")
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append(f"{label} must be a whole number, not {value!r}")
            elif value > maximum:
                errors.append(
                    f"{label} is {value}, above the legal maximum of {maximum}: "
                    "caps may only be lowered"
                )
            elif value < _LEGAL_MINIMA[name]:
                errors.append(f"{label} must be at least {_LEGAL_MINIMA[name]}, not {value}")
        return errors

    def _cadence_errors(self) -> list[str]:
        errors = []
        if DEFAULT_CADENCE not in self.cadences:
            errors.append('the cadences need a "default" entry for codes without their own')
        for code, steps in self.cadences.items():
            errors.extend(_steps_errors(code, steps))
        for offset in self.immediate_offsets:
            if not isinstance(offset, dt.timedelta) or not (
                dt.timedelta(0) < offset <= _MAX_IMMEDIATE_OFFSET
            ):
                errors.append(
                    f"immediate retry offset {offset!r} must be positive and at most 1 day"
                )
        if len(self.immediate_offsets) > _MAX_RETRIES:
            errors.append(
                f"{len(self.immediate_offsets)} immediate retries exceed the "
                f"{_MAX_RETRIES} automatic retries a campaign may ever make"
            )
        return errors

    def _override_errors(self) -> list[str]:
        errors = []
        for code, cls in self.overrides.items():
            try:
                DeclineClass(cls)
            except ValueError:
                errors.append(f"override for {code!r}: {cls!r} is not a decline class")
                continue
            if normalize(code) in NO_RECOVERY_CODES and cls != DeclineClass.NO_RECOVERY:
                errors.append(f"{code} is never retried: it cannot be moved out of no_recovery")
        return errors


def _steps_errors(code: str, steps: tuple[Step, ...]) -> list[str]:
    errors = []
    if normalize(code) in NO_RECOVERY_CODES | CUSTOMER_ACTION_CODES:
        errors.append(f"{code} gets no blind retries, so it cannot have a cadence")
    if not steps:
        errors.append(f"the cadence for {code} is empty")
    if len(steps) > _MAX_RETRIES:
        errors.append(
            f"the cadence for {code} has {len(steps)} steps, more than the "
            f"{_MAX_RETRIES} automatic retries a campaign may ever make"
        )
    for step in steps:
        if step == PAYDAY:
            continue
        if not isinstance(step, dt.timedelta):
            errors.append(f"the cadence for {code} has {step!r}: use a duration or {PAYDAY!r}")
        elif not (_MIN_CADENCE_OFFSET <= step <= CAMPAIGN_WINDOW):
            errors.append(
                f"the cadence for {code} has a step of {step}: "
                "steps must be between 1 hour and 30 days"
            )
    return errors


DEFAULT_POLICY = Policy()


# -- stored form: the JSON document a workspace's settings row holds ------------------------

CAP_NAMES = tuple(LEGAL_MAXIMA)


def policy_to_doc(policy: Policy) -> dict[str, object]:
    """A JSON-safe document (durations in seconds) that :func:`policy_from_doc` reads back."""
    return {
        "cadences": {
            code: [step if step == PAYDAY else int(step.total_seconds()) for step in steps]
            for code, steps in policy.cadences.items()
        },
        "immediate_offsets": [int(o.total_seconds()) for o in policy.immediate_offsets],
        "overrides": {code: str(cls) for code, cls in policy.overrides.items()},
        **{name: getattr(policy, name) for name in CAP_NAMES},
    }


def policy_from_doc(doc: Mapping[str, object] | None) -> Policy:
    """The policy a stored document describes; missing parts take the defaults. Raises
    :class:`InvalidPolicy` for a document that breaks a rule or is malformed."""
    doc = doc or {}
    try:
        cadences = {
            str(code): tuple(
                PAYDAY if step == PAYDAY else dt.timedelta(seconds=int(step))  # type: ignore[arg-type]
                for step in steps  # type: ignore[attr-defined]
            )
            for code, steps in dict(doc.get("cadences") or DEFAULT_CADENCES).items()  # type: ignore[call-overload]
        }
        immediate = doc.get("immediate_offsets")
        offsets = (
            tuple(dt.timedelta(seconds=int(s)) for s in immediate)  # type: ignore[attr-defined]
            if immediate is not None
            else DEFAULT_IMMEDIATE_OFFSETS
        )
        overrides = {
            str(code): DeclineClass(str(cls))
            for code, cls in dict(doc.get("overrides") or {}).items()  # type: ignore[call-overload]
        }
        caps = {name: int(doc[name]) for name in CAP_NAMES if doc.get(name) is not None}  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise InvalidPolicy([f"the stored policy is malformed: {exc}"]) from exc
    return Policy(
        cadences=cadences, immediate_offsets=offsets, overrides=overrides, **caps
    ).validate()

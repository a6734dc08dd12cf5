"""The retry policy as a merchant types it: durations like ``1d``, ``4h``, ``30m``,
cadences like ``1d, payday, 7d, 14d``, and the settings form's rows of text.

Pure functions over plain values. This module checks shape only (is it a duration, a
whole number, a decline class?); whether the policy is allowed is
:meth:`~app.recovery.policy.Policy.validate`'s job.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import Refusal
from .declines import DeclineClass, normalize
from .policy import CAP_NAMES, DEFAULT_CADENCE, DEFAULT_POLICY, PAYDAY, Policy, Step

_UNITS: Mapping[str, tuple[str, int]] = {
    **dict.fromkeys(("d", "day", "days"), ("d", 86400)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), ("h", 3600)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), ("m", 60)),
}
_ORDER = ("d", "h", "m")
# Six digits keep every sum far inside what a timedelta holds (no OverflowError).
_PART = re.compile(r"(\d{1,6})\s*([a-z]+)")
_CODE = re.compile(r"[a-z0-9_]{1,64}")
HINT = 'use a number and d, h or m (e.g. 1d, 4h, 30m, 1d12h) or "payday"'


class PolicyTextError(Refusal):
    """The form's text is not a policy; ``errors`` lists every problem, one sentence each,
    and ``fields`` the form fields they are about."""

    def __init__(self, errors: list[str], fields: set[str] | None = None) -> None:
        super().__init__(*errors)
        self.fields = fields or set()
        self.partial: Policy | None = None

    def __str__(self) -> str:
        return "; ".join(self.errors)

    def add(self, field_name: str, error: str) -> None:
        self.errors.append(error)
        self.fields.add(field_name)


# -- durations and cadences ----------------------------------------------------------------


def parse_duration(text: str) -> dt.timedelta:
    """``"1d"``, ``"36h"``, ``"1d 12h"``, ``"90 min"`` -> a timedelta; ValueError otherwise.
    Each unit at most once, largest first."""
    cleaned = text.strip().lower()
    parts = []
    position = 0
    for match in _PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break
        parts.append(match)
        position = match.end()
    if not parts or cleaned[position:].strip():
        raise ValueError(f'"{text.strip()}" is not a duration: {HINT}')
    seconds, seen = 0, []
    for part in parts:
        unit = _UNITS.get(part.group(2))
        if unit is None:
            raise ValueError(f'"{text.strip()}" has an unknown unit "{part.group(2)}": {HINT}')
        seen.append(unit[0])
        seconds += int(part.group(1)) * unit[1]
    if len(set(seen)) != len(seen) or seen != sorted(seen, key=_ORDER.index):
        raise ValueError(f'"{text.strip()}": give each unit once, days before hours before minutes')
    return dt.timedelta(seconds=seconds)


def format_duration(offset: dt.timedelta) -> str:
    """The shortest text :func:`parse_duration` reads back as ``offset`` (whole minutes,
    not negative): ``1d``, ``1d12h``, ``90m`` -> ``1h30m``, zero -> ``0m``."""
    seconds = int(offset.total_seconds())
    if offset < dt.timedelta(0) or offset != dt.timedelta(seconds=seconds) or seconds % 60:
        raise ValueError(f"{offset!r} is not a whole, non-negative number of minutes")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    counts = zip((days, hours, minutes), _ORDER, strict=True)
    text = "".join(f"{count}{unit}" for count, unit in counts if count)
    return text or "0m"


def parse_steps(text: str, *, allow_payday: bool = True) -> tuple[Step, ...]:
    """``"1d, payday, 7d"`` -> its steps; ValueError naming the first bad one. Empty
    text is no steps."""
    if not text.strip():
        return ()
    steps: list[Step] = []
    for number, piece in enumerate(text.split(","), 1):
        item = piece.strip()
        if not item:
            raise ValueError(f"step {number} is empty: separate steps with one comma")
        if item.lower() == PAYDAY:
            if not allow_payday:
                raise ValueError('"payday" only goes in a cadence, not in quick retries')
            steps.append(PAYDAY)
        else:
            steps.append(parse_duration(item))
    return tuple(steps)


def format_steps(steps: Iterable[Step]) -> str:
    return ", ".join(PAYDAY if step == PAYDAY else format_duration(step) for step in steps)


# -- the settings form ----------------------------------------------------------------------


@dataclass
class PolicyForm:
    """The text of the retry-policy form, as shown and as submitted."""

    cadences: list[tuple[str, str]] = field(default_factory=list)
    """(decline code, steps) rows."""
    immediate: str = ""
    overrides: list[tuple[str, str]] = field(default_factory=list)
    """(decline code, class) rows."""
    caps: dict[str, str] = field(default_factory=dict)


def policy_to_form(policy: Policy) -> PolicyForm:
    codes = sorted(policy.cadences, key=lambda code: (code != DEFAULT_CADENCE, code))
    return PolicyForm(
        cadences=[(code, format_steps(policy.cadences[code])) for code in codes],
        immediate=format_steps(policy.immediate_offsets),
        overrides=sorted((code, str(cls)) for code, cls in policy.overrides.items()),
        caps={name: str(getattr(policy, name)) for name in CAP_NAMES},
    )


def form_from_fields(data: Mapping[str, str]) -> PolicyForm:
    """Read the submitted fields (``cadence-<n>-code``/``-steps``,
    ``override-<n>-code``/``-class``, ``immediate``, one per cap) into a form."""
    return PolicyForm(
        cadences=_rows(data, "cadence", "steps"),
        immediate=data.get("immediate", ""),
        overrides=_rows(data, "override", "class"),
        caps={name: data.get(name, "") for name in CAP_NAMES},
    )


def policy_from_form(form: PolicyForm, current: Policy = DEFAULT_POLICY) -> Policy:
    """The policy the form describes (not yet validated). A row with a code and nothing
    else removes that code's entry.

    Raises :class:`PolicyTextError` listing every piece of text that is not a duration,
    a code, a class or a whole number; its ``fields`` name the bad inputs and its
    ``partial`` is the policy of the parts that did parse, over ``current`` for the rest
    (so the caller can report what is wrong with those at the same time)."""
    bad = PolicyTextError([])
    cadences: dict[str, tuple[Step, ...]] = {}
    for n, code, text in _coded_rows(form.cadences, "cadence", bad):
        try:
            steps = parse_steps(text)
        except ValueError as exc:
            bad.add(f"cadence-{n}-steps", f"cadence for {code}: {exc}")
            if code in current.cadences:
                cadences[code] = current.cadences[code]
            continue
        if steps:
            cadences[code] = steps
    immediate: tuple[dt.timedelta, ...]
    try:
        immediate = tuple(parse_steps(form.immediate, allow_payday=False))  # type: ignore[arg-type]
    except ValueError as exc:
        bad.add("immediate", f"quick retries: {exc}")
        immediate = current.immediate_offsets
    overrides: dict[str, DeclineClass] = {}
    for n, code, cls in _coded_rows(form.overrides, "class override", bad):
        if not cls.strip():
            continue
        try:
            overrides[code] = DeclineClass(cls.strip())
        except ValueError:
            bad.add(
                f"override-{n}-class", f"class override for {code}: {cls.strip()!r} is not a class"
            )
            if code in current.overrides:
                overrides[code] = current.overrides[code]
    caps: dict[str, int] = {}
    for name in CAP_NAMES:
        text = form.caps.get(name, "").strip()
        if re.fullmatch(r"\d{1,6}", text):
            caps[name] = int(text)
        else:
            bad.add(name, f"{name.replace('_', ' ')}: {text or 'nothing'!r} is not a whole number")
            caps[name] = getattr(current, name)
    policy = Policy(cadences=cadences, immediate_offsets=immediate, overrides=overrides, **caps)
    if bad.errors:
        bad.partial = policy
        raise bad
    return policy


def _rows(data: Mapping[str, str], prefix: str, value: str) -> list[tuple[str, str]]:
    pattern = re.compile(rf"{prefix}-(\d{{1,3}})-code")
    numbers = sorted(int(m.group(1)) for key in data if (m := pattern.fullmatch(key)))
    rows = [
        (data.get(f"{prefix}-{n}-code", ""), data.get(f"{prefix}-{n}-{value}", "")) for n in numbers
    ]
    return [(code, text) for code, text in rows if code.strip() or text.strip()]


def _coded_rows(
    rows: list[tuple[str, str]], what: str, bad: PolicyTextError
) -> Iterable[tuple[int, str, str]]:
    """The rows (numbered as the form shows them) whose decline code has a valid shape,
    each code once."""
    seen: set[str] = set()
    for n, (raw, value) in enumerate(rows):
        code = normalize(raw)
        field_name = f"{'cadence' if what == 'cadence' else 'override'}-{n}-code"
        if code is None:
            bad.add(field_name, f"a {what} row has {value.strip()!r} but no decline code")
        elif not _CODE.fullmatch(code):
            bad.add(field_name, f"{raw.strip()!r} is not a decline code (letters, digits and _)")
        elif code in seen:
            bad.add(field_name, f"{code} has two {what} rows: keep one")
        else:
            seen.add(code)
            yield n, code, value

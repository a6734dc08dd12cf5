"""Public ids: the row's number behind a prefix that names its kind (``cmp_12``), so an
id says what it is and a campaign's id is never taken for a session's."""

from __future__ import annotations

CAMPAIGN, CANCEL_SESSION, WINBACK_CAMPAIGN, EVENT = "cmp", "cs", "wbc", "ev"
WORKSPACE_EXPORT = "exp"
#: The largest id a 64-bit column holds: anything above it names nothing.
MAX_ID = 2**63 - 1


def public(prefix: str, number: int) -> str:
    return f"{prefix}_{number}"


def parse(prefix: str, value: str) -> int | None:
    """The row number of ``value`` if it is an id of this kind, else None."""
    head, _, digits = value.partition("_")
    if head != prefix or not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        return None
    number = int(digits)
    return number if 0 < number <= MAX_ID else None

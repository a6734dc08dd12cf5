"""A workspace's win-back settings: read with defaults, saved after validation, and
the pause switch (pausing stops every campaign at once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from ..errors import Refusal
from ..models import one_per
from . import policy
from .copy import clean_copy
from .models import WinbackSettings


class InvalidWinbackSettings(Refusal):
    """The win-back settings break a rule; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(*errors)


def settings_for(session: Session, workspace_id: int) -> WinbackSettings:
    return one_per(
        session,
        WinbackSettings,
        workspace_id=workspace_id,
        defaults={
            "delays": list(policy.DEFAULT_DELAYS),
            "copy": {},
            "attribution_days": policy.DEFAULT_ATTRIBUTION_DAYS,
        },
    )


def delays_of(settings: WinbackSettings) -> list[int]:
    return list(settings.delays or policy.DEFAULT_DELAYS)


def check(
    *,
    delays: Sequence[int],
    copy: Mapping[str, Mapping[str, Mapping[str, str]]],
    offer_percent: int | None,
    offer_months: int | None,
    offer_to: str,
    attribution_days: int,
) -> tuple[list[str], dict[str, dict[str, dict[str, str]]]]:
    errors = policy.delay_errors(delays)
    errors += policy.offer_errors(offer_percent, offer_months, offer_to)
    low, high = policy.ATTRIBUTION_RANGE
    if not low <= attribution_days <= high:
        errors.append(f"count a return {low} to {high} days after an email")
    copy_problems, clean = clean_copy(copy)
    return errors + copy_problems, clean


def save(
    session: Session,
    workspace_id: int,
    *,
    is_enabled: bool,
    includes_involuntary: bool,
    delays: Sequence[int],
    copy: Mapping[str, Mapping[str, Mapping[str, str]]],
    offer_percent: int | None,
    offer_months: int | None,
    offer_to: str,
    price_id: str | None,
    attribution_days: int,
) -> WinbackSettings:
    """Store the settings, or raise :class:`InvalidWinbackSettings` listing every
    problem (nothing changes then). Campaigns under way keep the touches they planned."""
    errors, clean = check(
        delays=delays,
        copy=copy,
        offer_percent=offer_percent,
        offer_months=offer_months,
        offer_to=offer_to,
        attribution_days=attribution_days,
    )
    if errors:
        raise InvalidWinbackSettings(errors)
    row = settings_for(session, workspace_id)
    row.is_enabled = is_enabled
    row.includes_involuntary = includes_involuntary
    row.delays = list(delays)
    row.copy = clean
    row.offer_percent = offer_percent
    row.offer_months = offer_months
    row.offer_to = offer_to
    row.price_stripe_id = (price_id or "").strip() or None
    row.attribution_days = attribution_days
    session.flush()
    return row


def set_paused(
    session: Session, workspace_id: int, paused: bool, *, by: str, now: dt.datetime
) -> int:
    """Pause (stop every active campaign now, start no new one) or resume (new cancels
    start campaigns again); returns how many campaigns stopped."""
    from .campaigns import stop_all

    row = settings_for(session, workspace_id)
    row.is_paused = paused
    row.paused_at = now if paused else None
    row.paused_by = by if paused else None
    stopped = stop_all(session, workspace_id, f"win-back paused by {by}", now=now) if paused else 0
    session.flush()
    return stopped

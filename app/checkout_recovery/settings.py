"""A workspace's checkout-recovery settings: read with defaults, saved after validation,
and the pause switch (pausing stops every campaign at once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from ..errors import Refusal
from ..models import one_per
from . import policy
from .copy import clean_copy
from .models import CheckoutRecoverySettings


class InvalidCheckoutRecoverySettings(Refusal):
    """The settings break a rule; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(*errors)


def settings_for(session: Session, workspace_id: int) -> CheckoutRecoverySettings:
    return one_per(
        session,
        CheckoutRecoverySettings,
        workspace_id=workspace_id,
        defaults={
            "delays_hours": list(policy.DEFAULT_DELAYS_HOURS),
            "copy": {},
            "consent_source": "stripe",
            "attribution_days": policy.DEFAULT_ATTRIBUTION_DAYS,
        },
    )


def delays_of(settings: CheckoutRecoverySettings) -> list[int]:
    return list(settings.delays_hours or policy.DEFAULT_DELAYS_HOURS)


def check(
    *,
    delays_hours: Sequence[int],
    copy: Mapping[str, Mapping[str, str]],
    consent_source: str,
    attribution_days: int,
) -> tuple[list[str], dict[str, dict[str, str]]]:
    errors = policy.delay_errors(delays_hours)
    if consent_source not in policy.CONSENT_SOURCES:
        errors.append("consent comes from Stripe Checkout or from your own records")
    low, high = policy.ATTRIBUTION_RANGE
    if not low <= attribution_days <= high:
        errors.append(f"count a checkout {low} to {high} days after a reminder")
    copy_problems, clean = clean_copy(copy)
    return errors + copy_problems, clean


def save(
    session: Session,
    workspace_id: int,
    *,
    is_enabled: bool,
    delays_hours: Sequence[int],
    copy: Mapping[str, Mapping[str, str]],
    consent_source: str,
    attribution_days: int,
) -> CheckoutRecoverySettings:
    """Store the settings, or raise :class:`InvalidCheckoutRecoverySettings` listing every
    problem (nothing changes then). Campaigns under way keep the touches they planned."""
    errors, clean = check(
        delays_hours=delays_hours,
        copy=copy,
        consent_source=consent_source,
        attribution_days=attribution_days,
    )
    if errors:
        raise InvalidCheckoutRecoverySettings(errors)
    row = settings_for(session, workspace_id)
    row.is_enabled = is_enabled
    row.delays_hours = list(delays_hours)
    row.copy = clean
    row.consent_source = consent_source
    row.attribution_days = attribution_days
    session.flush()
    return row


def set_paused(
    session: Session, workspace_id: int, paused: bool, *, by: str, now: dt.datetime
) -> int:
    """Pause (stop every active campaign now, start none) or resume; returns how many
    campaigns stopped."""
    from .campaigns import stop_all

    row = settings_for(session, workspace_id)
    row.is_paused = paused
    stopped = (
        stop_all(session, workspace_id, f"checkout recovery paused by {by}", now=now)
        if paused
        else 0
    )
    session.flush()
    return stopped

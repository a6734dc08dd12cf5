"""A workspace's dunning settings: read with defaults, saved after validation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from ..errors import Refusal
from ..models import one_per, utcnow
from . import subject_tests
from .copy import copy_errors
from .models import DunningSettings
from .offers import PAUSE_OFFER_DAYS, discount_errors
from .sequences import DEFAULT_SEQUENCE, PAUSE_DAYS, SEQUENCES, touch_keys


class InvalidDunningSettings(Refusal):
    """The email settings break a rule; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(*errors)


def settings_for(session: Session, workspace_id: int) -> DunningSettings:
    return one_per(
        session,
        DunningSettings,
        workspace_id=workspace_id,
        defaults={"sequence": DEFAULT_SEQUENCE, "copy": {}},
    )


#: The least and the most hours a merchant may set between two emails of one campaign.
GAP_HOURS = (12, 168)


def message_gap(session: Session, workspace_id: int) -> dt.timedelta:
    """No two emails of one campaign closer together than this (24 h by default)."""
    return dt.timedelta(hours=settings_for(session, workspace_id).gap_hours)


def save(
    session: Session,
    workspace_id: int,
    *,
    sequence: str,
    from_name: str | None,
    reply_to: str | None,
    copy: Mapping[str, Mapping[str, str]],
    pause_days: int | None,
    gap_hours: int | None = None,
    pause_offer_days: int | None = None,
    discount_percent: int | None = None,
    discount_months: int | None = None,
    actor: str | None = None,
) -> DunningSettings:
    """Store the settings, or raise :class:`InvalidDunningSettings` listing every problem
    (nothing changes then). Copy is kept for every sequence's touches, so switching the
    sequence back finds it again. A touch's B subject starts (or changes) its subject test
    (``subject_tests.sync``)."""
    errors, clean = check(
        sequence=sequence,
        copy=copy,
        pause_days=pause_days,
        gap_hours=gap_hours,
        pause_offer_days=pause_offer_days,
        discount_percent=discount_percent,
        discount_months=discount_months,
    )
    if errors:
        raise InvalidDunningSettings(errors)
    row = settings_for(session, workspace_id)
    row.sequence = sequence
    row.from_name = (from_name or "").strip() or None
    row.reply_to = (reply_to or "").strip().lower() or None
    row.copy = clean
    row.pause_days = pause_days
    row.pause_offer_days = pause_offer_days
    row.discount_percent = discount_percent
    row.discount_months = discount_months
    if gap_hours is not None:
        row.gap_hours = gap_hours
    subject_tests.sync(session, row, actor=actor, now=utcnow())
    session.flush()
    return row


def check(
    *,
    sequence: str,
    copy: Mapping[str, Mapping[str, str]],
    pause_days: int | None,
    gap_hours: int | None = None,
    pause_offer_days: int | None = None,
    discount_percent: int | None = None,
    discount_months: int | None = None,
) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Every problem with the settings, and the copy cleaned of empty touches."""
    errors = []
    if gap_hours is not None and not GAP_HOURS[0] <= gap_hours <= GAP_HOURS[1]:
        errors.append(
            f"leave {GAP_HOURS[0]} to {GAP_HOURS[1]} hours between two emails of one campaign"
        )
    if sequence not in SEQUENCES:
        errors.append(f"choose one of the sequences: {', '.join(SEQUENCES)}")
    if pause_days is not None and pause_days not in PAUSE_DAYS:
        *first, last = map(str, PAUSE_DAYS)
        errors.append(f"a pause lasts {', '.join(first)} or {last} days")
    if pause_days is not None and sequence != "extended":
        errors.append("pause instead of cancel is part of the extended sequence")
    if pause_offer_days is not None and pause_offer_days not in PAUSE_OFFER_DAYS:
        *first, last = map(str, PAUSE_OFFER_DAYS)
        errors.append(
            f"the pause offered after the last email lasts {', '.join(first)} or {last} days"
        )
    errors += discount_errors(discount_percent, discount_months)
    known = {key for name in SEQUENCES for key in touch_keys(name)}
    clean: dict[str, dict[str, str]] = {}
    for key, text in copy.items():
        if key not in known:
            errors.append(f"there is no touch {key!r}")
            continue
        subject = (text.get("subject") or "").strip()
        message = (text.get("message") or "").strip()
        errors += [f"{key}: {e}" for e in copy_errors(subject, message)]
        if subject or message:
            clean[key] = {"subject": subject, "message": message}
        subject_b = (text.get("subject_b") or "").strip()
        if subject_b:
            errors += [f"{key}: subject B: {e}" for e in copy_errors(subject_b, "")]
            if subject_b == subject:
                errors.append(f"{key}: subject B is the same as subject A")
            clean[key] = {"subject": subject, "message": message, "subject_b": subject_b}
    return errors, clean

"""A workspace's dunning settings: read with defaults, saved after validation."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from ..models import one_per
from .copy import copy_errors
from .models import DunningSettings
from .sequences import DEFAULT_SEQUENCE, PAUSE_DAYS, SEQUENCES, touch_keys


class InvalidDunningSettings(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def settings_for(session: Session, workspace_id: int) -> DunningSettings:
    return one_per(
        session,
        DunningSettings,
        workspace_id=workspace_id,
        defaults={"sequence": DEFAULT_SEQUENCE, "copy": {}},
    )


def save(
    session: Session,
    workspace_id: int,
    *,
    sequence: str,
    from_name: str | None,
    reply_to: str | None,
    copy: Mapping[str, Mapping[str, str]],
    pause_days: int | None,
) -> DunningSettings:
    """Store the settings, or raise :class:`InvalidDunningSettings` listing every problem
    (nothing changes then). Copy is kept for every sequence's touches, so switching the
    sequence back finds it again."""
    errors, clean = check(sequence=sequence, copy=copy, pause_days=pause_days)
    if errors:
        raise InvalidDunningSettings(errors)
    row = settings_for(session, workspace_id)
    row.sequence = sequence
    row.from_name = (from_name or "").strip() or None
    row.reply_to = (reply_to or "").strip().lower() or None
    row.copy = clean
    row.pause_days = pause_days
    session.flush()
    return row


def check(
    *, sequence: str, copy: Mapping[str, Mapping[str, str]], pause_days: int | None
) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Every problem with the settings, and the copy cleaned of empty touches."""
    errors = []
    if sequence not in SEQUENCES:
        errors.append(f"choose one of the sequences: {', '.join(SEQUENCES)}")
    if pause_days is not None and pause_days not in PAUSE_DAYS:
        *first, last = map(str, PAUSE_DAYS)
        errors.append(f"a pause lasts {', '.join(first)} or {last} days")
    if pause_days is not None and sequence != "extended":
        errors.append("pause instead of cancel is part of the extended sequence")
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
    return errors, clean

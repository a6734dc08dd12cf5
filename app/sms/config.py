"""A workspace's SMS settings: read with defaults, checked, saved (the auth token
encrypted at rest and never shown back), and audited."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..audit import services as audit
from ..crypto import SecretUnreadable, decrypt, encrypt
from ..dunning import config as dunning_config
from ..dunning.sequences import SEQUENCES
from ..errors import Refusal
from ..models import one_per
from . import policy
from .models import SmsSettings

ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
AUTH_TOKEN = re.compile(r"[0-9A-Za-z]{32}")


class InvalidSmsSettings(Refusal):
    """The SMS settings break a rule; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(*errors)


def settings_for(session: Session, workspace_id: int) -> SmsSettings:
    return one_per(
        session,
        SmsSettings,
        workspace_id=workspace_id,
        defaults={
            "is_enabled": False,
            "monthly_cap": 500,
            "quiet_start_minute": policy.DEFAULT_QUIET[0],
            "quiet_end_minute": policy.DEFAULT_QUIET[1],
            "touch_days": list(policy.DEFAULT_TOUCH_DAYS),
            "webhook_token": secrets.token_urlsafe(24),
        },
    )


def by_webhook_token(session: Session, token: str) -> SmsSettings | None:
    if not token or len(token) > 64:
        return None
    return session.execute(
        select(SmsSettings).where(SmsSettings.webhook_token == token)
    ).scalar_one_or_none()


def lock(session: Session, row: SmsSettings) -> None:
    """Hold the workspace's SMS settings row until the commit: two texts deciding at once
    count the monthly cap in turn (``FOR UPDATE``; on SQLite, its one write lock)."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(row, with_for_update=True)
        return
    session.execute(update(SmsSettings).where(SmsSettings.id == row.id).values(id=SmsSettings.id))
    session.refresh(row)


def auth_token(row: SmsSettings) -> str | None:
    """The Twilio auth token, decrypted; None when none is stored or its key is gone."""
    if not row.auth_token_encrypted:
        return None
    try:
        return decrypt(row.auth_token_encrypted)
    except SecretUnreadable:
        return None


def sender_of(row: SmsSettings) -> str | None:
    return row.messaging_service_sid or row.from_number


def blocked_reason(row: SmsSettings) -> str | None:
    """Why nothing can be texted from this workspace now (Twilio not set up)."""
    if not row.account_sid or not row.auth_token_encrypted:
        return "Twilio is not set up (Settings → Text messages)"
    if not sender_of(row):
        return "no sender number or messaging service is set (Settings → Text messages)"
    if auth_token(row) is None:
        return "the stored Twilio auth token can no longer be read; enter it again"
    return None


@dataclass(frozen=True)
class Draft:
    """The settings as a merchant submits them, shape-checked by the form."""

    is_enabled: bool
    account_sid: str
    auth_token: str
    """Empty: keep the stored token."""
    from_number: str
    messaging_service_sid: str
    monthly_cap: int
    quiet_start_minute: int | None
    quiet_end_minute: int | None
    touch_days: list[int]
    support_contact: str


def check(session: Session, workspace_id: int, draft: Draft) -> list[str]:
    """Every problem with ``draft`` (nothing is saved while there is one)."""
    stored = settings_for(session, workspace_id)
    errors = []
    if draft.account_sid and not ACCOUNT_SID.fullmatch(draft.account_sid):
        errors.append("a Twilio account SID is AC followed by 32 hex characters")
    if draft.auth_token and not AUTH_TOKEN.fullmatch(draft.auth_token):
        errors.append("a Twilio auth token is 32 letters and digits")
    if draft.from_number and policy.normalise_phone(draft.from_number) is None:
        errors.append("write the sender number in international form, e.g. +15017122661")
    if draft.messaging_service_sid and not SERVICE_SID.fullmatch(draft.messaging_service_sid):
        errors.append("a Twilio messaging service SID is MG followed by 32 hex characters")
    low, high = policy.CAP_RANGE
    if not low <= draft.monthly_cap <= high:
        errors.append(f"the monthly cap is {low} to {high:,} texts")
    if (draft.quiet_start_minute is None) != (draft.quiet_end_minute is None):
        errors.append("give quiet hours a start and an end, or leave both empty")
    elif (
        draft.quiet_start_minute is not None and draft.quiet_start_minute == draft.quiet_end_minute
    ):
        errors.append("quiet hours must start and end at different times")
    sequence = dunning_config.settings_for(session, workspace_id).sequence
    errors += policy.touch_days_errors(draft.touch_days, SEQUENCES[sequence])
    if len(draft.support_contact) > 120:
        errors.append("keep the support contact under 120 characters")
    if draft.is_enabled:
        has_token = bool(draft.auth_token or stored.auth_token_encrypted)
        if not draft.account_sid or not has_token:
            errors.append("texts need your Twilio account SID and auth token")
        if not draft.from_number and not draft.messaging_service_sid:
            errors.append("texts need a sender: a Twilio number or a messaging service SID")
        if not draft.touch_days:
            errors.append("choose at least one day for a text")
    return errors


def save(
    session: Session, workspace_id: int, draft: Draft, *, actor_id: int | None, actor_label: str
) -> SmsSettings:
    """Store ``draft`` or raise :class:`InvalidSmsSettings` listing every problem."""
    errors = check(session, workspace_id, draft)
    if errors:
        raise InvalidSmsSettings(errors)
    row = settings_for(session, workspace_id)
    before = {"is_enabled": row.is_enabled, "monthly_cap": row.monthly_cap}
    row.is_enabled = draft.is_enabled
    row.account_sid = draft.account_sid or None
    token_changed = bool(draft.auth_token)
    if token_changed:
        row.auth_token_encrypted = encrypt(draft.auth_token)
    row.from_number = policy.normalise_phone(draft.from_number) if draft.from_number else None
    row.messaging_service_sid = draft.messaging_service_sid or None
    row.monthly_cap = draft.monthly_cap
    row.quiet_start_minute = draft.quiet_start_minute
    row.quiet_end_minute = draft.quiet_end_minute
    row.touch_days = sorted(draft.touch_days)
    row.support_contact = draft.support_contact.strip() or None
    session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        actor_label=actor_label,
        action="sms.settings_saved",
        target_type="workspace",
        target_id=str(workspace_id),
        workspace_id=workspace_id,
        before=before,
        is_enabled=row.is_enabled,
        monthly_cap=row.monthly_cap,
        touch_days=row.touch_days,
        quiet_hours=_quiet_words(row),
        auth_token_changed=token_changed,
    )
    return row


def _quiet_words(row: SmsSettings) -> str | None:
    if row.quiet_start_minute is None or row.quiet_end_minute is None:
        return None
    start, end = row.quiet_start_minute, row.quiet_end_minute
    return f"{policy.clock_label(start)}-{policy.clock_label(end)}"


def quiet_words(row: SmsSettings) -> str:
    """The quiet hours in the merchant's words, for reasons on the timeline."""
    return _quiet_words(row) or "none"

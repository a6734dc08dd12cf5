"""A workspace's retry policy and the pause switches (the workspace's and the service's)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import one_per
from . import holdout
from .models import Campaign, RecoverySettings, RecoverySwitch
from .policy import DEFAULT_POLICY, InvalidPolicy, Policy, policy_from_doc, policy_to_doc


def settings_for(session: Session, workspace_id: int) -> RecoverySettings:
    return one_per(
        session,
        RecoverySettings,
        workspace_id=workspace_id,
        defaults={"policy": {}, "is_paused": False},
    )


def policy_for(session: Session, workspace_id: int) -> Policy:
    """The workspace's policy; a stored policy that no longer validates (the legal
    maxima were lowered since) falls back to the defaults rather than break a cap."""
    row = session.execute(
        select(RecoverySettings.policy).where(RecoverySettings.workspace_id == workspace_id)
    ).scalar_one_or_none()
    try:
        return policy_from_doc(row)
    except InvalidPolicy:
        return DEFAULT_POLICY


def save_policy(session: Session, workspace_id: int, policy: Policy) -> RecoverySettings:
    """Store a policy; raises :class:`InvalidPolicy` (nothing changed) if it breaks a rule."""
    policy.validate()
    row = settings_for(session, workspace_id)
    row.policy = policy_to_doc(policy)
    row.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    return row


def _switch(session: Session) -> RecoverySwitch:
    row = session.get(RecoverySwitch, 1)
    if row is None:
        row = RecoverySwitch(id=1, is_paused=False)
        session.add(row)
        session.flush()
    return row


def pause_reason(
    session: Session, workspace_id: int, campaign: Campaign | None = None
) -> str | None:
    """Why recovery may not act for this workspace (and this campaign) now, or None."""
    switch = session.get(RecoverySwitch, 1)
    if switch is not None and switch.is_paused:
        return "recovery is paused for the whole service by Backstop's on-call"
    paused = session.execute(
        select(RecoverySettings.is_paused).where(RecoverySettings.workspace_id == workspace_id)
    ).scalar_one_or_none()
    if paused:
        return "recovery is paused for this workspace"
    if campaign is not None and campaign.is_paused:
        return f"this campaign was paused by {campaign.paused_by or 'the merchant'}"
    return None


def set_paused(
    session: Session, workspace_id: int | None, paused: bool, *, actor: str, now: dt.datetime
) -> None:
    """Pause or resume one workspace (``workspace_id``) or the whole service (None).
    The callers cancel or re-plan the steps (see ``campaigns.pause``/``resume``)."""
    row: RecoverySettings | RecoverySwitch = (
        _switch(session) if workspace_id is None else settings_for(session, workspace_id)
    )
    row.is_paused = paused
    row.paused_at = now if paused else None
    row.paused_by = actor if paused else None
    session.flush()


def is_service_paused(session: Session) -> bool:
    switch = session.get(RecoverySwitch, 1)
    return bool(switch and switch.is_paused)


def holdout_of(session: Session, workspace_id: int) -> tuple[int, str | None]:
    """The workspace's holdout share (percent, 0: off) and its salt."""
    row = session.execute(
        select(RecoverySettings.holdout_percent, RecoverySettings.holdout_salt).where(
            RecoverySettings.workspace_id == workspace_id
        )
    ).one_or_none()
    return (int(row.holdout_percent or 0), row.holdout_salt) if row else (0, None)


def save_holdout(session: Session, workspace_id: int, percent: int) -> RecoverySettings:
    """Set the share of failed invoices held out from now on; the salt is made the first
    time and kept for good (draws already made stay reproducible)."""
    if not 0 <= percent <= holdout.MAX_PERCENT:
        raise ValueError(f"holdout percent out of range: {percent}")
    row = settings_for(session, workspace_id)
    row.holdout_percent = percent
    if percent and not row.holdout_salt:
        row.holdout_salt = holdout.new_salt()
    row.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    return row

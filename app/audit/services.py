"""Record staff actions; callers commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEntry


def record(
    session: Session,
    *,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    workspace_id: int | None = None,
    **details: Any,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        workspace_id=workspace_id,
        details=details,
    )
    session.add(entry)
    session.flush()
    return entry

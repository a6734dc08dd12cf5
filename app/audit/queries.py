"""What a workspace's audit log page reads: its entries, newest first, a page at a time
(keyset on the id, so a page never shifts as new entries arrive), filterable by who and
by what."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEntry

#: How the page shows JSON's yes, no and nothing.
WORDS = {True: "yes", False: "no", None: "—"}


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    older: int | None  # the ``before`` of the next page, None on the last


def page(
    session: Session,
    workspace_id: int,
    *,
    before: int | None = None,
    actor: str = "",
    action: str = "",
    size: int = 50,
) -> Page:
    query = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if actor:
        query = query.where(AuditEntry.actor_label == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    rows = list(session.execute(query.order_by(AuditEntry.id.desc()).limit(size + 1)).scalars())
    shown = rows[:size]
    return Page(shown, shown[-1].id if len(rows) > size else None)


def choices(session: Session, workspace_id: int) -> tuple[list[str], list[str]]:
    """The actors and the actions the workspace's log holds (for the filters)."""
    mine = AuditEntry.workspace_id == workspace_id
    actors = session.execute(
        select(AuditEntry.actor_label).where(mine).distinct().order_by(AuditEntry.actor_label)
    ).scalars()
    actions = session.execute(
        select(AuditEntry.action).where(mine).distinct().order_by(AuditEntry.action)
    ).scalars()
    return list(actors), list(actions)


def described(details: dict | None) -> list[tuple[str, str]]:
    """An entry's details as short ``(name, value)`` pairs for the page."""
    pairs = []
    for name, value in sorted((details or {}).items()):
        text = WORDS.get(value, "") if isinstance(value, bool) or value is None else value
        if not isinstance(text, str):
            text = json.dumps(text, sort_keys=True, default=str)
        pairs.append((name.replace("_", " "), text if len(text) <= 160 else text[:157] + "…"))
    return pairs

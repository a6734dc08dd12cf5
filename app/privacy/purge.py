"""Purging a workspace that left: every tenant row deleted in batches, children before
parents, except what we must keep (policy.PURGE_KEEPS), which is anonymised. Running it
again finds nothing left to do, so a purge cut short is finished by running it again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..audit.models import AuditEntry
from ..audit.services import record
from ..errors import Conflict
from ..stripe.models import StripeConnection
from .catalogue import primary_key, tenant_tables
from .policy import PURGE_KEEPS, purged_name

BATCH = 1000
PURGE_ACTION = "privacy.workspace_purge"
#: The purge's own entries name only our operator and row counts; they stay as written.
ANONYMISED_ACTOR = "anonymised"


@dataclass(frozen=True)
class TableAction:
    table: str
    action: str  # delete | anonymise
    rows: int

    def __str__(self) -> str:
        return f"{self.table}: {self.rows} row(s) to {self.action}"


def check_disconnected(session: Session, workspace: Workspace) -> None:
    connection = session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == workspace.id)
    ).scalar_one_or_none()
    if connection is not None and connection.is_connected:
        raise Conflict(
            f"{workspace.slug} is still connected to Stripe ({connection.stripe_account_id}): "
            "disconnect it first (Settings > Stripe, or the merchant revokes the app), "
            "so no event brings data back after the purge."
        )


def _still_named(entry: Any) -> Any:
    """Audit entries not yet anonymised (and not the purge's own record)."""
    return (entry.action != PURGE_ACTION) & (entry.actor_label != ANONYMISED_ACTOR)


def _count(session: Session, table: Table, workspace_id: int) -> int:
    query = select(func.count()).select_from(table).where(table.c.workspace_id == workspace_id)
    if table.name == AuditEntry.__tablename__:
        query = query.where(_still_named(table.c))
    return int(session.execute(query).scalar_one())


def plan(session: Session, workspace: Workspace) -> list[TableAction]:
    """What a purge would do now, table by table (only tables with rows to change)."""
    found = []
    for table in reversed(tenant_tables()):
        rows = _count(session, table, workspace.id)
        if table.name == AuditEntry.__tablename__:
            found.append(TableAction(table.name, "anonymise", rows))
        elif table.name not in PURGE_KEEPS:
            found.append(TableAction(table.name, "delete", rows))
    return [a for a in found if a.rows]


def _delete_in_batches(
    session: Session, table: Table, workspace_id: int, checkpoint: Callable[[], None]
) -> int:
    pk = primary_key(table)
    deleted = 0
    while True:
        ids = list(
            session.execute(
                select(pk).where(table.c.workspace_id == workspace_id).order_by(pk).limit(BATCH)
            ).scalars()
        )
        if not ids:
            return deleted
        session.execute(delete(table).where(pk.in_(ids)))
        deleted += len(ids)
        checkpoint()


def purge(
    session: Session,
    workspace: Workspace,
    *,
    actor_label: str,
    now: dt.datetime,
    checkpoint: Callable[[], None] = lambda: None,
) -> list[TableAction]:
    """Delete or anonymise every row of the workspace (see the module docstring) and
    record that it was purged, when and by whom. ``checkpoint()`` runs after every
    batch (the command commits there, so a cut-short purge keeps its progress)."""
    check_disconnected(session, workspace)
    done = []
    for table in reversed(tenant_tables()):
        if table.name == AuditEntry.__tablename__:
            result = session.execute(
                update(AuditEntry)
                .where(AuditEntry.workspace_id == workspace.id, _still_named(AuditEntry))
                .values(actor_id=None, actor_label=ANONYMISED_ACTOR, details={})
            )
            done.append(TableAction(table.name, "anonymise", result.rowcount))
        elif table.name not in PURGE_KEEPS:
            deleted = _delete_in_batches(session, table, workspace.id, checkpoint)
            done.append(TableAction(table.name, "delete", deleted))
    workspace.name = purged_name(workspace.id)
    workspace.logo_url = workspace.postal_address = workspace.website_url = None
    workspace.embed_secret_enc = None
    session.flush()
    changed = [a for a in done if a.rows]
    record(
        session,
        actor_id=None,
        actor_label=actor_label,
        action=PURGE_ACTION,
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        slug=workspace.slug,
        purged_at=now.isoformat(),
        rows={a.table: a.rows for a in changed},
    )
    return changed

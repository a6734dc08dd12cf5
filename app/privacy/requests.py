"""Workspace exports asked for from the dashboard or the API: recorded, built by a
worker (the zip kept in the row), downloaded later. Services flush; the caller commits."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..errors import Conflict
from ..queue import enqueue
from . import export
from .models import WorkspaceExport

log = logging.getLogger("backstop.privacy")

BUILD_TASK = "privacy.build_workspace_export"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
#: A whole workspace takes a while; a build holding it longer than this lost its worker.
LEASE = dt.timedelta(minutes=30)


def start(
    session: Session,
    workspace_id: int,
    *,
    requested_by_id: int | None,
    via: str,
    now: dt.datetime,
) -> WorkspaceExport:
    """Record an export and send its build after the commit. One at a time per
    workspace: asking while one is being built is refused (409)."""
    busy = session.execute(
        select(WorkspaceExport.id).where(
            WorkspaceExport.workspace_id == workspace_id,
            WorkspaceExport.status.in_((QUEUED, RUNNING)),
            WorkspaceExport.lease_until > now,
        )
    ).first()
    if busy is not None:
        raise Conflict("An export of this workspace is already being built.")
    row = WorkspaceExport(
        workspace_id=workspace_id,
        requested_by_id=requested_by_id,
        requested_via=via,
        status=QUEUED,
        lease_until=now + LEASE,
    )
    session.add(row)
    session.flush()
    enqueue(session, BUILD_TASK, row.id)
    log.info("privacy.export.queued workspace=%s export=%s", workspace_id, row.id)
    return row


def of_workspace(session: Session, workspace_id: int, export_id: int) -> WorkspaceExport | None:
    return session.execute(
        select(WorkspaceExport).where(
            WorkspaceExport.workspace_id == workspace_id, WorkspaceExport.id == export_id
        )
    ).scalar_one_or_none()


def recent(session: Session, workspace_id: int, limit: int = 10) -> list[WorkspaceExport]:
    return list(
        session.execute(
            select(WorkspaceExport)
            .where(WorkspaceExport.workspace_id == workspace_id)
            .order_by(WorkspaceExport.id.desc())
            .limit(limit)
        ).scalars()
    )


def filename(row: WorkspaceExport, slug: str) -> str:
    return f"{slug}-export-{row.id}.zip"


def download_headers(row: WorkspaceExport, slug: str) -> dict[str, str]:
    """A download of everything about a workspace: an attachment no cache keeps."""
    return {
        "Content-Disposition": f'attachment; filename="{filename(row, slug)}"',
        "Cache-Control": "no-store",
    }


def _take(session: Session, export_id: int, now: dt.datetime) -> bool:
    claimable = (WorkspaceExport.status == QUEUED) | (
        (WorkspaceExport.status == RUNNING) & (WorkspaceExport.lease_until <= now)
    )  # the second: a message redelivered after its worker died
    result = session.execute(
        update(WorkspaceExport)
        .where(WorkspaceExport.id == export_id, claimable)
        .values(status=RUNNING, lease_until=now + LEASE, attempts=WorkspaceExport.attempts + 1)
    )
    return result.rowcount == 1


def build(
    session: Session,
    export_id: int,
    *,
    now: Callable[[], dt.datetime],
    checkpoint: Callable[[], None],
) -> str | None:
    """Take the export, write the zip into its row. None when another build holds it."""
    if not _take(session, export_id, now()):
        session.rollback()
        return None
    checkpoint()  # the page shows "running"
    row = session.get(WorkspaceExport, export_id)
    assert row is not None
    workspace = session.get(Workspace, row.workspace_id)
    assert workspace is not None
    out = io.BytesIO()
    manifest = export.write(session, workspace, out, now=now())
    row.content_zip = out.getvalue()
    row.size_bytes = len(row.content_zip)
    row.rows_written = sum(t["rows"] for t in manifest["tables"].values())
    row.status, row.lease_until, row.finished_at = DONE, None, now()
    checkpoint()
    log.info("privacy.export.done workspace=%s export=%s", row.workspace_id, row.id)
    return DONE


def fail(session: Session, export_id: int, detail: str, *, now: dt.datetime) -> None:
    row = session.get(WorkspaceExport, export_id)
    if row is not None:
        row.status, row.error, row.lease_until, row.finished_at = FAILED, detail[:1000], None, now
        session.flush()

"""``flask ops rebuild-insights``: recount a workspace's dashboard figures from its event
log (after changing its timezone, or for events from before the rollups existed), and
recompute its baseline from the invoices imported when it connected."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from app.accounts.models import Workspace
from app.extensions import db
from app.insights import baseline, rollups
from app.models import utcnow
from app.settings import Settings
from app.stripe import connection as connection_service

from .ops import _audit, _scope, ops


@ops.command("rebuild-insights")
@click.option("--workspace", "slug", help="The workspace's slug.")
@click.option("--all", "everything", is_flag=True, help="Every workspace.")
def rebuild_insights(slug: str | None, everything: bool) -> None:
    """Recount the rollups the dashboard's figures read, from the domain-event log:
    deletes and rewrites the workspace's rows in ``insight_daily``, and its baseline in
    ``insight_baseline`` when its import is done (nothing else)."""
    workspace = _scope(slug, everything)
    ids = (
        [workspace.id]
        if workspace is not None
        else list(db.session.execute(select(Workspace.id).order_by(Workspace.id)).scalars())
    )
    written = 0
    settings: Settings = current_app.config["BACKSTOP"]
    with click.progressbar(ids, label="Rebuilding the rollups") as bar:
        for workspace_id in bar:
            written += rollups.rebuild(db.session, workspace_id)
            connection = connection_service.of_workspace(db.session, workspace_id)
            if connection is not None and connection.import_status == "done":
                baseline.recompute(
                    db.session, connection, now=utcnow(), import_days=settings.import_days
                )
            _audit(
                "insights.rebuild",
                target_type="workspace",
                target_id=str(workspace_id),
                workspace_id=workspace_id,
            )
            db.session.commit()  # one workspace at a time: resumable
    click.echo(f"Rebuilt the rollups of {len(ids)} workspace(s): {written} rows.")

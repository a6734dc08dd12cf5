"""``flask ops rebuild-insights``: recount a workspace's dashboard figures from its event
log (after changing its timezone, or for events from before the rollups existed)."""

from __future__ import annotations

import click
from sqlalchemy import select

from app.accounts.models import Workspace
from app.extensions import db
from app.insights import rollups

from .ops import _audit, _scope, ops


@ops.command("rebuild-insights")
@click.option("--workspace", "slug", help="The workspace's slug.")
@click.option("--all", "everything", is_flag=True, help="Every workspace.")
def rebuild_insights(slug: str | None, everything: bool) -> None:
    """Recount the rollups the dashboard's figures read, from the domain-event log:
    deletes and rewrites the workspace's rows in ``insight_daily`` (nothing else)."""
    workspace = _scope(slug, everything)
    ids = (
        [workspace.id]
        if workspace is not None
        else list(db.session.execute(select(Workspace.id).order_by(Workspace.id)).scalars())
    )
    written = 0
    with click.progressbar(ids, label="Rebuilding the rollups") as bar:
        for workspace_id in bar:
            written += rollups.rebuild(db.session, workspace_id)
            _audit(
                "insights.rebuild",
                target_type="workspace",
                target_id=str(workspace_id),
                workspace_id=workspace_id,
            )
            db.session.commit()  # one workspace at a time: resumable
    click.echo(f"Rebuilt the rollups of {len(ids)} workspace(s): {written} rows.")

"""``flask ops rebuild-insights``, through Flask's CLI runner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import utcnow
from scripts.ops import ops

from ..app import factories as f


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(ops, list(args), **kw)


def test_rebuild_insights_recounts_from_the_event_log(cli, ctx) -> None:
    from app.events.models import DomainEvent
    from app.insights.models import InsightDaily

    ws = f.workspace(name="Rebuilt")
    at = utcnow()
    db.session.add(
        DomainEvent(
            workspace_id=ws.id,
            name="cancel.session.saved",
            subject="retain_session:1",
            data={"reason": "other", "mrr_minor": 900, "currency": "usd"},
            occurred_at=at,
            due_at=at,
            status="done",
        )
    )
    db.session.commit()
    result = cli("rebuild-insights", "--workspace", ws.slug)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    row = db.session.execute(
        select(InsightDaily).where(InsightDaily.workspace_id == ws.id)
    ).scalar_one()
    assert (row.metric, row.count, row.amount_minor) == ("saved", 1, 900)
    assert cli("rebuild-insights").exit_code == 2  # neither --workspace nor --all

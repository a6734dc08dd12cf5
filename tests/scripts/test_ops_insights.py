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


def test_rebuild_insights_recomputes_the_baseline_of_an_imported_workspace(cli, ctx) -> None:
    import datetime as dt

    from app.insights.models import InsightBaseline
    from app.stripe import mirror

    ws = f.workspace(name="Based")
    conn = f.connection(ws)
    created = int((conn.connected_at - dt.timedelta(days=50)).timestamp())
    mirror.upsert(
        db.session,
        ws.id,
        {
            "id": "in_1",
            "object": "invoice",
            "customer": "cus_1",
            "subscription": "sub_1",
            "billing_reason": "subscription_cycle",
            "status": "open",
            "attempt_count": 2,
            "amount_due": 500,
            "currency": "usd",
            "created": created,
        },
        created,
    )
    db.session.commit()
    assert cli("rebuild-insights", "--workspace", ws.slug).exit_code == 0
    db.session.expire_all()
    row = db.session.execute(
        select(InsightBaseline).where(InsightBaseline.workspace_id == ws.id)
    ).scalar_one()
    assert (row.currency, row.failed_count, row.recovered_count) == ("usd", 1, 0)

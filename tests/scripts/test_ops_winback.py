"""``flask ops pause-winback | resume-winback``, through Flask's CLI runner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.models import utcnow
from app.winback import settings as winback_settings
from app.winback.models import WinbackCampaign
from scripts.ops import ops

from ..app import factories as f


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(ops, list(args), **kw)


def test_pause_stops_campaigns_and_resume_lets_new_ones_start(cli, ctx) -> None:
    ws, other = f.workspace(name="Paused"), f.workspace(name="Other")
    for owner, sub in ((ws, "sub_p1"), (other, "sub_o1")):
        db.session.add(
            WinbackCampaign(
                workspace_id=owner.id,
                customer_stripe_id="cus_1",
                subscription_stripe_id=sub,
                kind="voluntary",
                reason="other",
                ended_at=utcnow(),
            )
        )
    db.session.commit()
    result = cli("pause-winback", "--workspace", ws.slug)
    assert result.exit_code == 0, result.output
    assert "1 campaign stopped" in result.output
    db.session.expire_all()
    states = dict(
        db.session.execute(
            select(WinbackCampaign.subscription_stripe_id, WinbackCampaign.state)
        ).all()
    )
    assert states == {"sub_p1": "stopped", "sub_o1": "active"}
    assert winback_settings.settings_for(db.session, ws.id).is_paused
    result = cli("resume-winback", "--workspace", ws.slug)
    assert result.exit_code == 0 and "start campaigns again" in result.output
    db.session.expire_all()
    assert not winback_settings.settings_for(db.session, ws.id).is_paused
    actions = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert {"winback.pause", "winback.resume"} <= set(actions)


def test_an_unknown_workspace_is_a_clear_error(cli, ctx) -> None:
    result = cli("pause-winback", "--workspace", "nope")
    assert result.exit_code != 0 and "nope" in result.output

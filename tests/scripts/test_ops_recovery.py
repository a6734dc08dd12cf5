"""``flask ops reconcile | pause-recovery | resume-recovery``, through Flask's CLI runner."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.recovery.models import RecoverySettings, RecoverySwitch, Step
from scripts.ops import ops

from ..app import factories as f
from ..app.recovery.shop import START, Shop
from ..app.recovery.test_operations import open_campaign


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(ops, list(args), **kw)


def audit() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


def pending(campaign) -> list[Step]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(Step).where(
                Step.campaign_id == campaign.id,
                Step.kind.in_(("retry", "email")),
                Step.status == "pending",
            )
        ).scalars()
    )


def paused_workspaces() -> list[int]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(RecoverySettings.workspace_id).where(RecoverySettings.is_paused.is_(True))
        ).scalars()
    )


def service_paused() -> bool:
    db.session.expire_all()
    switch = db.session.get(RecoverySwitch, 1)
    return bool(switch and switch.is_paused)


@pytest.fixture
def two_shops(ctx):
    """ "acme" and "other", each with an open campaign that has one planned retry."""
    acme, other = f.workspace(name="Acme"), f.workspace(name="Other")
    mine, theirs = open_campaign(acme), open_campaign(other)
    db.session.commit()
    return acme, mine, other, theirs


# -- bad arguments change nothing --------------------------------------------------------------


@pytest.mark.parametrize("command", ["pause-recovery", "resume-recovery"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Give exactly one of --workspace SLUG or --all."),
        (["--workspace", "acme", "--all"], "Give exactly one of --workspace SLUG or --all."),
        (["--workspace", "nope"], "no workspace has the slug 'nope'"),
    ],
)
def test_the_switch_commands_need_exactly_one_known_scope(cli, two_shops, command, args, message):
    _, mine, _, theirs = two_shops
    result = cli(command, *args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(pending(mine)) == len(pending(theirs)) == 1
    assert paused_workspaces() == [] and not service_paused() and audit() == []


def test_reconcile_refuses_an_unknown_workspace(cli, two_shops) -> None:
    result = cli("reconcile", "--workspace", "nope")
    assert result.exit_code == 2 and "no workspace has the slug 'nope'" in result.output
    assert audit() == []
    assert cli("reconcile").exit_code == 2  # --workspace is required


def test_reconcile_refuses_a_workspace_that_is_not_connected(cli, two_shops) -> None:
    acme, mine, _, _ = two_shops
    f.connection(acme, status="disconnected")
    db.session.commit()
    result = cli("reconcile", "--workspace", "acme")
    assert result.exit_code == 1 and "acme is not connected to Stripe" in result.output
    db.session.expire_all()
    assert mine.state == "in_flight" and audit() == []


# -- pause and resume ------------------------------------------------------------------------------


def test_pausing_a_workspace_cancels_its_planned_retries(cli, two_shops) -> None:
    acme, mine, _, theirs = two_shops
    result = cli("pause-recovery", "--workspace", "acme")
    assert result.exit_code == 0, result.output
    assert (
        "Recovery paused for workspace acme: 1 planned step (retries and emails) cancelled."
        in result.output
    )
    assert pending(mine) == [] and len(pending(theirs)) == 1
    assert paused_workspaces() == [acme.id] and not service_paused()
    settings = db.session.execute(select(RecoverySettings)).scalar_one()
    assert settings.paused_by == "ops" and settings.paused_at is not None
    [entry] = audit()
    assert (entry.action, entry.workspace_id, entry.details["cancelled"]) == (
        "recovery.pause",
        acme.id,
        1,
    )
    assert entry.actor_label.startswith("cli:")
    again = cli("pause-recovery", "--workspace", "acme")
    assert "(it was already paused): 0 planned steps (retries and emails) cancelled" in again.output


def test_resuming_a_workspace_plans_again(cli, two_shops) -> None:
    _, mine, _, theirs = two_shops
    cli("pause-recovery", "--workspace", "acme")
    before = dt.datetime.now(dt.UTC)
    result = cli("resume-recovery", "--workspace", "acme")
    assert result.exit_code == 0, result.output
    planned = pending(mine)
    assert planned and all(s.is_automatic for s in planned)
    assert f"Recovery resumed for workspace acme: {len(planned)} steps" in result.output
    assert all(s.due_at >= before for s in planned)
    assert paused_workspaces() == [] and len(pending(theirs)) == 1
    assert [e.action for e in audit()] == ["recovery.pause", "recovery.resume"]
    assert audit()[-1].details["planned"] == len(planned)


def test_the_service_wide_switch(cli, two_shops) -> None:
    _, mine, _, theirs = two_shops
    result = cli("pause-recovery", "--all")
    assert result.exit_code == 0, result.output
    assert (
        "Recovery paused for the whole service: 2 planned steps (retries and emails) cancelled."
        in result.output
    )
    assert service_paused() and paused_workspaces() == []
    assert pending(mine) == pending(theirs) == []
    switch = db.session.get(RecoverySwitch, 1)
    assert switch.paused_by == "ops"
    [entry] = audit()
    assert (entry.action, entry.target_type, entry.workspace_id) == (
        "recovery.pause",
        "service",
        None,
    )
    # A workspace resumed on its own still waits for the service.
    waiting = cli("resume-recovery", "--workspace", "acme")
    assert "0 steps (retries and emails) planned" in waiting.output
    assert "still paused for the whole" in waiting.output
    assert pending(mine) == []
    result = cli("resume-recovery", "--all")
    assert result.exit_code == 0, result.output
    assert "Recovery resumed for the whole service:" in result.output
    assert not service_paused() and pending(mine) and pending(theirs)


def test_resuming_the_service_leaves_a_workspace_paused_on_its_own(cli, two_shops) -> None:
    acme, mine, _, theirs = two_shops
    cli("pause-recovery", "--workspace", "acme")
    cli("pause-recovery", "--all")
    result = cli("resume-recovery", "--all")
    assert "1 workspace stays paused on its own" in result.output
    assert pending(mine) == [] and pending(theirs)
    assert paused_workspaces() == [acme.id]


# -- reconcile against the sandbox ------------------------------------------------------------


def test_reconcile_closes_what_stripe_ended_and_says_so(cli, ctx, sandbox_url) -> None:
    shop = Shop(sandbox_url)
    paid, voided, still_open = (
        shop.subscribe("pm_card_sandbox_visa_insufficient_funds") for _ in range(3)
    )
    shop.advance(to=START + dt.timedelta(days=30, hours=2))
    campaigns = {name: shop.campaign(sub.id) for name, sub in (("paid", paid), ("void", voided))}
    shop.client.v1.invoices.pay(
        campaigns["paid"].invoice_stripe_id, params={"paid_out_of_band": True}
    )
    shop.client.v1.invoices.void_invoice(campaigns["void"].invoice_stripe_id)
    slug = shop.workspace.slug
    result = cli("reconcile", "--workspace", slug)
    assert result.exit_code == 0, result.output
    assert "Reconciling 3 open campaigns" in result.output
    assert (
        f"Reconciled {slug}: 3 checked, 1 recovered, 1 abandoned, 0 lost, 1 unchanged, 0 errors."
        in result.output
    )
    assert shop.campaign(paid.id).state == "recovered"
    assert shop.campaign(voided.id).state == "abandoned"
    assert shop.campaign(still_open.id).state == "in_flight"
    [entry] = audit()
    assert (entry.action, entry.workspace_id, entry.details["recovered"]) == (
        "recovery.reconcile",
        shop.workspace.id,
        1,
    )
    again = cli("reconcile", "--workspace", slug)
    assert f"Reconciled {slug}: 1 checked, 0 recovered, 0 abandoned" in again.output
    assert shop.campaign(still_open.id).state == "in_flight"

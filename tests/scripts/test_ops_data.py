"""``flask ops export-workspace | purge-workspace | purge-customer`` through the CLI runner."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.outbox.models import Suppression
from app.privacy import export
from scripts.ops import ops

from ..app import factories as f
from ..app.privacy.seed import ADA, GRACE, seed


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(ops, list(args), **kw)


def actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def test_export_writes_the_zip_and_audits(cli, ctx, tmp_path) -> None:
    ws = f.workspace(name="Export Me")
    seed(ws.id, ADA)
    db.session.commit()
    out = tmp_path / "shop.zip"
    result = cli("export-workspace", "export-me", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"to {out}" in result.output
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert manifest["workspace"]["slug"] == "export-me"
    assert "privacy.workspace_export" in actions()
    f.workspace(name="Empty")
    db.session.commit()
    empty = cli("export-workspace", "empty", "--out", str(tmp_path / "empty.zip"))
    assert empty.exit_code == 0 and "Exported 3 rows" in empty.output  # workspace, owner, member


def test_export_refuses_what_it_cannot_do(cli, ctx, tmp_path) -> None:
    f.workspace(name="Export Me")
    db.session.commit()
    unknown = cli("export-workspace", "nope", "--out", str(tmp_path / "x.zip"))
    assert unknown.exit_code != 0 and "no workspace has the slug 'nope'" in unknown.output
    unwritable = cli("export-workspace", "export-me", "--out", str(tmp_path / "no" / "x.zip"))
    assert unwritable.exit_code != 0 and "cannot write" in unwritable.output
    assert actions() == []


def test_export_help_says_what_it_reads_and_writes(cli) -> None:
    result = cli("export-workspace", "--help")
    assert "Reads every table with a workspace_id" in result.output
    assert "redacted" in result.output


def test_purge_refuses_while_connected(cli, ctx) -> None:
    ws = f.workspace(name="Still Here")
    f.connection(ws)
    db.session.commit()
    result = cli("purge-workspace", "still-here", "--execute")
    assert result.exit_code != 0 and "still connected to Stripe" in result.output
    assert actions() == []


def test_purge_dry_run_then_execute_then_again(cli, ctx) -> None:
    ws = f.workspace(name="Leaving")
    f.connection(ws, status="disconnected")
    seed(ws.id, ADA)
    db.session.commit()
    before = sum(export.row_counts(db.session, ws.id).values())

    dry = cli("purge-workspace", "leaving")
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and "outbox_message: 1 row(s) to delete" in dry.output
    assert sum(export.row_counts(db.session, ws.id).values()) == before

    done = cli("purge-workspace", "leaving", "--execute")
    assert done.exit_code == 0, done.output
    assert "outbox_message: 1 row(s) deleted" in done.output
    assert "privacy.workspace_purge" in actions()
    again = cli("purge-workspace", "leaving", "--execute")
    assert again.exit_code == 0 and "nothing left to purge" in again.output


def test_purge_customer(cli, ctx) -> None:
    ws = f.workspace(name="Shop")
    seed(ws.id, ADA)
    seed(ws.id, GRACE)
    db.session.commit()

    dry = cli("purge-customer", "shop", ADA.email)
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and "mirror_customer: 1 deleted" in dry.output
    assert db.session.execute(select(Suppression)).first() is None

    done = cli("purge-customer", "shop", ADA.customer_id, "--execute")
    assert done.exit_code == 0, done.output
    assert "Erased that customer from shop" in done.output
    assert actions()[-1] == "privacy.customer_erasure"
    again = cli("purge-customer", "shop", ADA.email, "--execute")
    assert again.exit_code == 0 and "nothing (already erased)" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", ADA.email), "no workspace has the slug"),
        (("shop", "not an id"), "neither a Stripe customer id"),
        (("shop", "ghost@example.com"), "No customer with that email"),
    ],
)
def test_purge_customer_refuses_bad_input(cli, ctx, args, message) -> None:
    f.workspace(name="Shop")
    db.session.commit()
    result = cli("purge-customer", *args, "--execute")
    assert result.exit_code != 0 and message in result.output
    assert actions() == []

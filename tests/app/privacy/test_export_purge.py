"""The workspace export (everything, secrets redacted, nothing of another workspace) and
the workspace purge (everything gone but what we keep, twice harmless)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select

from app.accounts.models import User, Workspace
from app.audit.models import AuditEntry
from app.audit.services import record
from app.errors import Conflict
from app.extensions import db
from app.models import Base
from app.privacy import export, purge
from app.privacy.catalogue import tenant_tables
from app.privacy.policy import PURGE_KEEPS, REDACTED

from .. import factories as f
from .seed import ADA, GRACE, NOW, seed


def build(ws: Workspace) -> tuple[dict, zipfile.ZipFile]:
    out = io.BytesIO()
    manifest = export.write(db.session, ws, out, now=NOW)
    return manifest, zipfile.ZipFile(io.BytesIO(out.getvalue()))


def test_every_tenant_table_is_in_the_export(ctx) -> None:
    ws = f.workspace()
    seed(ws.id, ADA)
    manifest, archive = build(ws)
    tenant = {t.name for t in Base.metadata.sorted_tables if "workspace_id" in t.c}
    assert set(manifest["tables"]) == tenant | {"workspace", "members"}
    assert set(archive.namelist()) >= {f"tables/{name}.json" for name in tenant}
    assert "manifest.json" in archive.namelist()
    assert json.loads(archive.read("manifest.json"))["generated_at"] == NOW.isoformat()
    for name in tenant:
        rows = json.loads(archive.read(f"tables/{name}.json"))
        assert len(rows) == manifest["tables"][name]["rows"]
    assert manifest["tables"]["mirror_customer"]["files"] == [
        "tables/mirror_customer.json",
        "tables/mirror_customer.csv",
    ]


def test_secrets_are_listed_but_never_written(ctx) -> None:
    owner = f.user("owner@example.com")
    ws = f.workspace(owner)
    conn = f.connection(ws, webhook_secret="whsec_private")
    _, archive = build(ws)
    (row,) = json.loads(archive.read("tables/stripe_connection.json"))
    assert row["secret_enc"] == REDACTED and row["webhook_secret_enc"] == REDACTED
    manifest = json.loads(archive.read("manifest.json"))
    assert "secret_enc" in manifest["tables"]["stripe_connection"]["redacted_columns"]
    assert json.loads(archive.read("workspace.json"))[0]["embed_secret_enc"] in (None, REDACTED)
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert conn.secret_enc.encode() not in everything
    (member,) = json.loads(archive.read("members.json"))
    assert member["email"] == "owner@example.com" and member["role"] == "owner"
    password_hash = db.session.execute(select(User.password_hash)).scalar_one()
    assert password_hash.encode() not in everything


def test_another_workspace_stays_out(ctx) -> None:
    ws, other = f.workspace(), f.workspace()
    seed(ws.id, ADA)
    seed(other.id, GRACE)
    _, archive = build(ws)
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert ADA.email.encode() in everything and GRACE.email.encode() not in everything


def rows_of(workspace_id: int) -> dict[str, int]:
    return {k: v for k, v in export.row_counts(db.session, workspace_id).items() if v}


def test_a_connected_workspace_is_not_purged(ctx) -> None:
    ws = f.workspace()
    f.connection(ws)
    with pytest.raises(Conflict, match="still connected to Stripe"):
        purge.purge(db.session, ws, actor_label="cli:t", now=NOW)


def test_purge_leaves_only_what_we_keep(ctx) -> None:
    ws, other = f.workspace(), f.workspace()
    f.connection(ws, status="disconnected")
    seed(ws.id, ADA)
    seed(other.id, GRACE)
    record(
        db.session,
        actor_id=None,
        actor_label="ada@example.com",
        action="x",
        workspace_id=ws.id,
        note="hi",
    )
    others_before = rows_of(other.id)
    planned = purge.plan(db.session, ws)
    assert {a.table for a in planned} == set(rows_of(ws.id)) - (set(PURGE_KEEPS) - {"audit_entry"})

    done = purge.purge(db.session, ws, actor_label="cli:ops", now=NOW, checkpoint=db.session.commit)
    db.session.commit()

    assert {a.table: a.rows for a in done} == {a.table: a.rows for a in planned}
    assert set(rows_of(ws.id)) <= set(PURGE_KEEPS)
    assert rows_of(other.id) == others_before
    assert ws.name == f"Purged workspace {ws.id}" and ws.postal_address is None
    entries = (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.workspace_id == ws.id).order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert all(e.actor_label == "anonymised" and e.details == {} for e in entries[:-1])
    assert (entries[-1].action, entries[-1].actor_label) == (purge.PURGE_ACTION, "cli:ops")
    assert entries[-1].details["purged_at"] == NOW.isoformat()

    assert purge.plan(db.session, ws) == []
    assert purge.purge(db.session, ws, actor_label="cli:ops", now=NOW) == []


def test_every_tenant_table_is_either_purged_or_kept_on_purpose(ctx) -> None:
    kept = set(PURGE_KEEPS)
    assert kept <= {t.name for t in tenant_tables()}

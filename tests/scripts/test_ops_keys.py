"""``flask ops rotate-keys`` and ``flask ops check-keys``: every secret at rest moves to
the newest key, none is lost when the old key goes, a crash mid-way resumes, and a
secret no key opens is named (by table, column and row id) but never shown."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from app import crypto, secrets_at_rest
from app.accounts.models import Workspace
from app.audit.models import AuditEntry
from app.crypto import ENCRYPTED_SUFFIXES
from app.extensions import db
from app.integrations.models import NotificationChannel, WebhookEndpoint
from app.models import Base
from app.portal.models import PortalLink
from app.secrets_at_rest import ENCRYPTED_COLUMNS
from app.sms.models import SmsSettings
from scripts.ops import ops

from ..app import factories as f

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))


@contextlib.contextmanager
def configured(app, *keys: str) -> Iterator[None]:
    """Run with ``BACKSTOP_ENCRYPTION_KEYS`` set to ``keys`` (newest first)."""
    before = app.config["BACKSTOP"]
    app.config["BACKSTOP"] = dataclasses.replace(before, encryption_keys=",".join(keys))
    try:
        yield
    finally:
        app.config["BACKSTOP"] = before


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(ops, list(args))


def _seed_every_column(count: int = 2) -> dict[tuple[str, int], str]:
    """``count`` rows holding every kind of encrypted secret; returns
    ``{(column label, row id): plain secret}`` for every secret stored."""
    now = dt.datetime.now(dt.UTC)
    for n in range(count):
        ws = f.workspace(name=f"Keys {n}")
        f.connection(ws, mode="restricted_key", webhook_secret="whsec_x")
        db.session.add_all(
            [
                WebhookEndpoint(workspace_id=ws.id, url="https://example.com/hook", secret_enc="x"),
                NotificationChannel(
                    workspace_id=ws.id, kind="slack", url_enc="x", url_hint="hooks.slack.com/…"
                ),
                PortalLink(
                    workspace_id=ws.id,
                    customer_stripe_id=f"cus_{n}",
                    token_hash=secrets.token_hex(32),
                    token_enc="x",
                    expires_at=now + dt.timedelta(days=90),
                ),
                SmsSettings(workspace_id=ws.id, webhook_token=secrets.token_hex(8)),
            ]
        )
    db.session.flush()
    stored: dict[tuple[str, int], str] = {}
    for column in ENCRYPTED_COLUMNS:
        for (row_id,) in db.session.execute(select(column.table.c.id)).all():
            plain = f"{column.label}:{row_id}:{secrets.token_hex(8)}"
            db.session.execute(
                update(column.table)
                .where(column.table.c.id == row_id)
                .values({column.attr: crypto.encrypt(plain)})
            )
            stored[(column.label, row_id)] = plain
    db.session.commit()
    return stored


def _read_back() -> dict[tuple[str, int], str]:
    db.session.expire_all()
    return {
        (column.label, row_id): crypto.decrypt(token)
        for column in ENCRYPTED_COLUMNS
        for row_id, token in db.session.execute(
            select(column.table.c.id, column.column).where(column.column.is_not(None))
        ).all()
    }


def _under_newest() -> dict[tuple[str, int], bool]:
    db.session.expire_all()
    return {
        (column.label, row_id): crypto.key_index(token) == 0
        for column in ENCRYPTED_COLUMNS
        for row_id, token in db.session.execute(select(column.table.c.id, column.column)).all()
    }


def test_every_encrypted_column_of_the_schema_is_in_the_registry(app) -> None:
    in_schema = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name.endswith(ENCRYPTED_SUFFIXES)
    }
    assert in_schema == {column.label for column in ENCRYPTED_COLUMNS}


def test_after_rotating_the_old_key_can_go_and_no_secret_is_lost(app, ctx, cli) -> None:
    with configured(app, KEY_A):
        stored = _seed_every_column()
    assert {label for label, _ in stored} == {c.label for c in ENCRYPTED_COLUMNS}
    sms_updated = db.session.execute(select(SmsSettings.updated_at)).scalars().all()

    with configured(app, KEY_B, KEY_A):
        before = cli("check-keys")
        assert before.exit_code == 0, before.output
        assert f"key 2 ({crypto.key_fingerprint(1)}) opens {len(stored)} secret(s)" in before.output
        assert "still needed" in before.output

        result = cli("rotate-keys", "--batch-size", "1")
        assert result.exit_code == 0, result.output
        assert "stripe_connection.secret_enc: re-encrypted 2, 0 already" in result.output
        assert all(_under_newest().values())

        after = cli("check-keys")
        assert f"key 1 ({crypto.key_fingerprint(0)}, newest) opens {len(stored)}" in after.output
        assert "key 2" in after.output and "removable" in after.output
        assert "Unsubscribe links" in after.output

        again = cli("rotate-keys")  # nothing left to do
        assert "re-encrypted 0, 2 already under the newest key" in again.output

    with configured(app, KEY_B):
        assert _read_back() == stored
    # A rotation is not an edit: the settings' own "updated" time stays.
    assert db.session.execute(select(SmsSettings.updated_at)).scalars().all() == sms_updated
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "encryption_keys.rotate")
    ).scalars()
    assert [e.details["rotated"] for e in entries] == [len(stored), 0]


def test_an_interrupted_rotation_resumes_where_it_stopped(app, ctx, cli, monkeypatch) -> None:
    with configured(app, KEY_A):
        stored = _seed_every_column(count=3)
    real, calls = secrets_at_rest.rotate_batch, []

    def crash_on_the_third_batch(*args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the machine went away")
        return real(*args, **kw)

    with configured(app, KEY_B, KEY_A):
        monkeypatch.setattr("scripts.ops_keys.rotate_batch", crash_on_the_third_batch)
        crashed = cli("rotate-keys", "--batch-size", "1")
        assert crashed.exit_code != 0
        db.session.rollback()
        done = _under_newest()
        assert sum(done.values()) == 2  # the two committed batches stay done

        monkeypatch.setattr("scripts.ops_keys.rotate_batch", real)
        resumed = cli("rotate-keys", "--batch-size", "2")
        assert resumed.exit_code == 0, resumed.output
        assert "stripe_connection.secret_enc: re-encrypted 1, 2 already under" in resumed.output
        assert all(_under_newest().values())
    with configured(app, KEY_B):
        assert _read_back() == stored


def test_dry_run_counts_and_changes_nothing(app, ctx, cli) -> None:
    with configured(app, KEY_A):
        _seed_every_column(count=1)
    with configured(app, KEY_B, KEY_A):
        result = cli("rotate-keys", "--dry-run")
        assert result.exit_code == 0, result.output
        assert "workspace.embed_secret_enc: would re-encrypt 1, 0 already" in result.output
        assert not any(_under_newest().values())
    assert db.session.execute(select(AuditEntry)).first() is None


def test_a_secret_no_key_opens_is_named_never_shown(app, ctx, cli) -> None:
    with configured(app, KEY_A):
        stored = _seed_every_column(count=1)
    ws_id = next(row_id for label, row_id in stored if label == "workspace.embed_secret_enc")
    with configured(app, KEY_C):
        lost = crypto.encrypt("embed-secret-under-a-lost-key")
        db.session.execute(
            update(Workspace).where(Workspace.id == ws_id).values(embed_secret_enc=lost)
        )
        db.session.commit()
    with configured(app, KEY_B, KEY_A):
        result = cli("rotate-keys")
        assert result.exit_code == 1
        assert f"workspace.embed_secret_enc id {ws_id}" in result.output
        assert "1 secret(s) cannot be decrypted" in result.output
        assert "lost-key" not in result.output and lost not in result.output
        # Everything readable moved on all the same.
        assert sum(not ok for ok in _under_newest().values()) == 1

        check = cli("check-keys")
        assert check.exit_code == 1 and f"workspace.embed_secret_enc id {ws_id}" in check.output


def test_a_secret_written_by_the_app_meanwhile_is_not_overwritten(app, ctx, monkeypatch) -> None:
    with configured(app, KEY_A):
        stored = _seed_every_column(count=1)
    column = next(c for c in ENCRYPTED_COLUMNS if c.attr == "url_enc")
    row_id = next(row_id for label, row_id in stored if label == column.label)
    real_read = secrets_at_rest._read_batch

    def read_then_the_app_writes(*args, **kw):
        rows = real_read(*args, **kw)
        # The merchant saves a new Slack URL between our read and our write: another
        # connection, committed (as a request of the running app would).
        with db.engine.begin() as other:
            other.execute(
                update(column.table).values(url_enc=crypto.encrypt("https://hooks.slack.com/new"))
            )
        return rows

    with configured(app, KEY_B, KEY_A):
        monkeypatch.setattr(secrets_at_rest, "_read_batch", read_then_the_app_writes)
        result = secrets_at_rest.rotate_batch(db.session, column, after_id=0, limit=10)
        assert (result.rotated, result.changed_meanwhile) == (0, 1)
        token = db.session.execute(select(column.column).where(column.table.c.id == row_id))
        assert crypto.decrypt(token.scalar_one()) == "https://hooks.slack.com/new"


def test_the_progress_bar_goes_to_stderr(app, ctx, cli) -> None:
    with configured(app, KEY_A):
        _seed_every_column(count=1)
    with configured(app, KEY_B, KEY_A):
        result = cli("rotate-keys")
    assert "Re-encrypting" in result.stderr and "Re-encrypting" not in result.stdout

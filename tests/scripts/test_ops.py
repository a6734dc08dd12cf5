"""``flask ops ...``: the on-call commands, through Flask's CLI runner."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.crypto import encrypt
from app.extensions import db
from app.stripe.models import StripeEvent
from scripts.ops import ops, parse_since

from ..app import factories as f

NOW = dt.datetime(2026, 5, 10, 12, 0, tzinfo=dt.UTC)
PASSWORD = "a long enough password"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(ops, list(args), **kw)


def audit() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# -- parse_since (pure) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW - dt.timedelta(hours=2)),
        ("3d", NOW - dt.timedelta(days=3)),
        ("45m", NOW - dt.timedelta(minutes=45)),
        ("1w", NOW - dt.timedelta(weeks=1)),
        ("2026-05-01", dt.datetime(2026, 5, 1, tzinfo=dt.UTC)),
        ("2026-05-01T14:30", dt.datetime(2026, 5, 1, 14, 30, tzinfo=dt.UTC)),
        ("2026-05-01T14:30+02:00", dt.datetime(2026, 5, 1, 12, 30, tzinfo=dt.UTC)),
    ],
)
def test_since_reads_dates_and_durations(text, expected) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2x", "-2h", "2026-13-01", ""])
def test_since_refuses_the_rest(text) -> None:
    with pytest.raises(ValueError, match="neither a date"):
        parse_since(text, NOW)


# -- create-staff ------------------------------------------------------------------------------


def test_create_staff_from_stdin(cli, ctx) -> None:
    result = cli(
        "create-staff",
        "--email",
        " Ops@Example.com ",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin account ops@example.com" in result.output
    user = db.session.execute(select(User)).scalar_one()
    assert (user.email, user.staff_role) == ("ops@example.com", "admin")
    [entry] = audit()
    assert entry.action == "user.create_staff" and entry.actor_id is None
    assert entry.actor_label.startswith("cli:") and entry.target_id == str(user.id)
    assert PASSWORD not in str(entry.details)


def test_create_staff_prompts_twice(cli, ctx) -> None:
    result = cli(
        "create-staff",
        "--email",
        "s@example.com",
        "--role",
        "support",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.execute(select(User.staff_role)).scalar_one() == "support"


def test_create_staff_refuses_an_address_the_log_in_form_would_refuse(cli, ctx) -> None:
    result = cli(
        "create-staff",
        "--email",
        "ops@backstop.test",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 1 and "not an email address we can use" in result.output
    assert db.session.execute(select(User)).first() is None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "root"], PASSWORD, "Invalid value for '--role'"),
        (["--role", "admin"], "short", "at least 10 characters"),
    ],
)
def test_create_staff_refuses_bad_input(cli, ctx, args, stdin, message) -> None:
    result = cli(
        "create-staff", "--email", "x@example.com", *args, "--password-stdin", input=stdin + "\n"
    )
    assert result.exit_code != 0 and message in result.output
    assert count(User) == 0 and audit() == []


def test_create_staff_refuses_an_existing_email(cli, ctx) -> None:
    f.user("taken@example.com")
    db.session.commit()
    result = cli(
        "create-staff",
        "--email",
        "taken@example.com",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 1 and "already has an account" in result.output
    assert db.session.execute(select(User.staff_role)).scalar_one() is None


# -- replay-events -----------------------------------------------------------------------------


def stored(
    ws, received_at: dt.datetime, event_type: str = "customer.created", status: str = "failed"
) -> StripeEvent:
    body = f.event(event_type)
    event = StripeEvent(
        stripe_event_id=body["id"],
        workspace_id=ws.id,
        type=event_type,
        stripe_created=body["created"],
        payload=body,
        status=status,
        attempts=1,
        received_at=received_at,
    )
    db.session.add(event)
    db.session.flush()
    return event


@pytest.fixture
def history(ctx):
    """Two recent events and an old one for "acme"; a recent one for another shop."""
    now = dt.datetime.now(dt.UTC)
    acme, other = f.workspace(name="Acme"), f.workspace(name="Other")
    f.connection(acme), f.connection(other)
    events = {
        "recent": stored(acme, now - dt.timedelta(minutes=30)),
        "recent_invoice": stored(acme, now - dt.timedelta(minutes=10), "invoice.paid"),
        "old": stored(acme, now - dt.timedelta(days=2)),
        "other": stored(other, now - dt.timedelta(minutes=5)),
    }
    db.session.commit()
    return acme, events


def statuses(events: dict[str, StripeEvent]) -> dict[str, str]:
    db.session.expire_all()
    return {name: event.status for name, event in events.items()}


def test_replay_events_since_a_duration(cli, history) -> None:
    acme, events = history
    result = cli("replay-events", "--workspace", "acme", "--since", "2h")
    assert result.exit_code == 0, result.output
    assert "Replayed 2 event(s) received by acme" in result.output
    assert statuses(events) == {
        "recent": "processed",
        "recent_invoice": "processed",
        "old": "failed",
        "other": "failed",
    }
    [entry] = audit()
    assert (entry.action, entry.workspace_id, entry.details["count"]) == (
        "stripe_event.replay",
        acme.id,
        2,
    )
    assert entry.actor_label.startswith("cli:")


def test_replay_events_of_one_type_since_a_date(cli, history) -> None:
    _, events = history
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).date().isoformat()
    result = cli(
        "replay-events", "--workspace", "acme", "--since", since, "--type", "customer.created"
    )
    assert result.exit_code == 0, result.output
    assert statuses(events) == {
        "recent": "processed",
        "recent_invoice": "failed",
        "old": "processed",
        "other": "failed",
    }


def test_dry_run_only_counts(cli, history) -> None:
    _, events = history
    result = cli("replay-events", "--workspace", "acme", "--since", "3d", "--dry-run")
    assert result.exit_code == 0 and "Dry run: 3 event(s)" in result.output
    assert set(statuses(events).values()) == {"failed"} and audit() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "nope", "--since", "2h"], "no workspace has the slug 'nope'"),
        (["--workspace", "acme", "--since", "yesterday"], "neither a date"),
        (["--workspace", "acme"], "Missing option '--since'"),
    ],
)
def test_replay_events_refuses_bad_arguments(cli, history, args, message) -> None:
    _, events = history
    result = cli("replay-events", *args)
    assert result.exit_code == 2 and message in result.output
    assert set(statuses(events).values()) == {"failed"} and audit() == []


# -- resync ------------------------------------------------------------------------------------


def test_resync_restarts_the_import(cli, ctx) -> None:
    ws = f.workspace(name="Acme")
    conn = f.connection(ws, mode="restricted_key")
    conn.secret_enc = encrypt("rk_test_" + secrets.token_hex(8))  # its own sandbox account
    conn.import_status, conn.import_progress = "failed", {"customers": {"done": False}}
    db.session.commit()
    result = cli("resync", "--workspace", "acme")
    assert result.exit_code == 0, result.output
    assert "Import restarted for acme" in result.output
    db.session.expire_all()
    assert conn.import_status == "done"  # eager tasks: imported at once
    [entry] = audit()
    assert (entry.action, entry.target_id, entry.workspace_id) == (
        "stripe_connection.resync",
        str(conn.id),
        ws.id,
    )


@pytest.mark.parametrize("status", ["disconnected", None])
def test_resync_refuses_a_workspace_that_is_not_connected(cli, ctx, status) -> None:
    ws = f.workspace(name="Acme")
    conn = f.connection(ws, status=status) if status else None
    db.session.commit()
    result = cli("resync", "--workspace", "acme")
    assert result.exit_code == 1 and "acme is not connected to Stripe" in result.output
    assert audit() == []
    if conn is not None:
        db.session.expire_all()
        assert conn.import_status == "done"


def test_resync_refuses_an_unknown_workspace(cli, ctx) -> None:
    result = cli("resync", "--workspace", "nope")
    assert result.exit_code == 2 and "no workspace has the slug 'nope'" in result.output

"""On-call commands: ``flask ops ...`` (registered through the ``flask.commands`` entry
point). Each one loads, checks, calls services, writes one audit entry and commits
once; bad arguments stop it with a clear message before anything changes."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import sys
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import STAFF_ROLES, Workspace
from app.audit.services import record
from app.extensions import db
from app.stripe.connection import restart_import
from app.stripe.models import StripeConnection, StripeEvent
from app.stripe.processing import replay

ops = AppGroup("ops", help="On-call maintenance commands (each one is audited).")

_RELATIVE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """``2h``, ``3d``, ``45m``, ``1w`` before ``now``, or an ISO date / datetime
    (naive means UTC). Returns an aware UTC datetime; ValueError when unreadable."""
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        return now - dt.timedelta(**{unit: amount})
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a date/time (2026-05-01, "
            "2026-05-01T14:30) nor a duration (45m, 2h, 3d, 1w)"
        )
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


class Since(click.ParamType):
    name = "WHEN"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return parse_since(str(value), dt.datetime.now(dt.UTC))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def operator_label() -> str:
    """``cli:<os user>`` for the audit log."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        name = os.environ.get("USER") or "unknown"
    return f"cli:{name}"


def _audit(action: str, **kw: Any) -> None:
    record(db.session, actor_id=None, actor_label=operator_label(), action=action, **kw)


def _workspace(slug: str) -> Workspace:
    workspace = db.session.execute(
        select(Workspace).where(Workspace.slug == slug.strip().lower())
    ).scalar_one_or_none()
    if workspace is None:
        raise click.BadParameter(f"no workspace has the slug {slug!r}", param_hint="--workspace")
    return workspace


@ops.command("create-staff")
@click.option("--email", required=True, help="The staff member's email (their log-in).")
@click.option(
    "--role",
    required=True,
    type=click.Choice(STAFF_ROLES),
    help="support (read-only) or admin (may act).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of prompting.",
)
def create_staff(email: str, role: str, password_stdin: bool) -> None:
    """Create a back-office account (support or admin)."""
    if accounts.find_user(db.session, email) is not None:
        raise click.ClickException(
            f"{accounts.normalise_email(email)} already has an account; change its staff "
            "role in the back office (Users) instead."
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(db.session, email, password, staff_role=role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc))
    _audit(
        "user.create_staff",
        target_type="user",
        target_id=str(user.id),
        email=user.email,
        staff_role=role,
    )
    db.session.commit()
    click.echo(f"Created {role} account {user.email}.")


@ops.command("replay-events")
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
@click.option(
    "--since",
    required=True,
    type=Since(),
    help="Received at or after: 2026-05-01, 2026-05-01T14:30, or 45m/2h/3d/1w ago.",
)
@click.option("--type", "event_type", help="Only events of this type (invoice.paid...).")
@click.option("--dry-run", is_flag=True, help="Print how many events would be replayed.")
def replay_events(slug: str, since: dt.datetime, event_type: str | None, dry_run: bool) -> None:
    """Process a workspace's stored Stripe events again (handlers are idempotent)."""
    workspace = _workspace(slug)
    query = select(StripeEvent).where(
        StripeEvent.workspace_id == workspace.id, StripeEvent.received_at >= since
    )
    if event_type:
        query = query.where(StripeEvent.type == event_type)
    events = (
        db.session.execute(query.order_by(StripeEvent.received_at, StripeEvent.id)).scalars().all()
    )
    what = (
        f"{len(events)} event(s){f' of type {event_type}' if event_type else ''} "
        f"received by {workspace.slug} since {since.isoformat()}"
    )
    if dry_run:
        click.echo(f"Dry run: {what} would be replayed.")
        return
    if not events:
        click.echo(f"Nothing to replay: {what}.")
        return
    with click.progressbar(events, label="Replaying") as bar:
        for event in bar:
            replay(db.session, event)
    _audit(
        "stripe_event.replay",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        since=since.isoformat(),
        type=event_type,
        count=len(events),
        first_event=events[0].stripe_event_id,
        last_event=events[-1].stripe_event_id,
    )
    db.session.commit()  # the processing tasks are sent after this commit
    click.echo(f"Replayed {what}.")


@ops.command("resync")
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
def resync(slug: str) -> None:
    """Restart the import of a workspace's customers, subscriptions and invoices."""
    workspace = _workspace(slug)
    connection = db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == workspace.id)
    ).scalar_one_or_none()
    if connection is None or not connection.is_connected:
        raise click.ClickException(
            f"{workspace.slug} is not connected to Stripe; there is nothing to re-sync."
        )
    restart_import(db.session, connection)
    _audit(
        "stripe_connection.resync",
        target_type="stripe_connection",
        target_id=str(connection.id),
        workspace_id=workspace.id,
        stripe_account_id=connection.stripe_account_id,
    )
    db.session.commit()  # the first import page is sent after this commit
    click.echo(f"Import restarted for {workspace.slug} ({connection.stripe_account_id}).")

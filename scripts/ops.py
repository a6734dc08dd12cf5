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
from app.recovery import campaigns, config, operations
from app.recovery.models import RecoverySettings
from app.stripe.connection import restart_import
from app.stripe.models import StripeConnection, StripeEvent
from app.stripe.processing import replay
from app.winback import settings as winback_settings

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


def _connection(workspace: Workspace, doing: str) -> StripeConnection:
    connection = db.session.execute(
        select(StripeConnection).where(StripeConnection.workspace_id == workspace.id)
    ).scalar_one_or_none()
    if connection is None or not connection.is_connected:
        raise click.ClickException(
            f"{workspace.slug} is not connected to Stripe; there is nothing to {doing}."
        )
    return connection


@ops.command("resync")
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
def resync(slug: str) -> None:
    """Restart the import of a workspace's customers, subscriptions and invoices."""
    workspace = _workspace(slug)
    connection = _connection(workspace, "re-sync")
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


# -- recovery ----------------------------------------------------------------------------------

#: The actor the recovery services record (``paused_by``); the audit entry names the OS user.
OPS_ACTOR = "ops"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@ops.command("reconcile")
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
def reconcile(slug: str) -> None:
    """Re-read every open campaign's invoice and subscription from Stripe and close the
    ones Stripe already ended (paid, voided, uncollectible, canceled): events we missed."""
    workspace = _workspace(slug)
    connection = _connection(workspace, "reconcile")
    summary = operations.reconcile(
        db.session,
        connection,
        now=dt.datetime.now(dt.UTC),
        progress=lambda found: click.progressbar(
            found, label=f"Reconciling {_plural(len(found), 'open campaign', 'open campaigns')}"
        ),
    )
    _audit(
        "recovery.reconcile",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        **summary.as_dict(),
    )
    db.session.commit()
    click.echo(f"Reconciled {workspace.slug}: {summary}.")
    if summary.errors:
        raise click.ClickException(
            f"{_plural(summary.errors, 'campaign', 'campaigns')} could not be read from Stripe "
            "(see the log); the rest were reconciled. Run the command again later."
        )


def _scope(slug: str | None, everything: bool) -> Workspace | None:
    """The workspace of ``--workspace``, or None for ``--all``; exactly one is given."""
    if bool(slug) == everything:
        raise click.UsageError("Give exactly one of --workspace SLUG or --all.")
    return None if everything else _workspace(slug or "")


def _is_paused(workspace: Workspace | None) -> bool:
    if workspace is None:
        return config.is_service_paused(db.session)
    return bool(
        db.session.execute(
            select(RecoverySettings.is_paused).where(RecoverySettings.workspace_id == workspace.id)
        ).scalar_one_or_none()
    )


def _audit_switch(action: str, workspace: Workspace | None, **details: Any) -> None:
    if workspace is None:
        _audit(action, target_type="service", target_id="recovery", **details)
    else:
        _audit(
            action,
            target_type="workspace",
            target_id=str(workspace.id),
            workspace_id=workspace.id,
            **details,
        )


_WORKSPACE_HELP = "The workspace's slug."
_ALL_HELP = "The whole service (every workspace)."


@ops.command("pause-recovery")
@click.option("--workspace", "slug", help=_WORKSPACE_HELP)
@click.option("--all", "everything", is_flag=True, help=_ALL_HELP)
def pause_recovery(slug: str | None, everything: bool) -> None:
    """Stop recovery for a workspace (or everyone): planned retries and dunning emails
    are cancelled; campaigns stay open and payments still close them."""
    workspace = _scope(slug, everything)
    what = f"workspace {workspace.slug}" if workspace else "the whole service"
    already = _is_paused(workspace)
    cancelled = campaigns.pause(
        db.session,
        workspace.id if workspace else None,
        actor=OPS_ACTOR,
        now=dt.datetime.now(dt.UTC),
    )
    _audit_switch("recovery.pause", workspace, cancelled=cancelled, was_paused=already)
    db.session.commit()
    note = " (it was already paused)" if already else ""
    click.echo(
        f"Recovery paused for {what}{note}: "
        f"{_plural(cancelled, 'planned step', 'planned steps')} (retries and emails) cancelled."
    )


@ops.command("resume-recovery")
@click.option("--workspace", "slug", help=_WORKSPACE_HELP)
@click.option("--all", "everything", is_flag=True, help=_ALL_HELP)
def resume_recovery(slug: str | None, everything: bool) -> None:
    """Resume recovery for a workspace (or everyone) and plan retries and the dunning
    emails still to come afresh, from now, for every open campaign."""
    workspace = _scope(slug, everything)
    what = f"workspace {workspace.slug}" if workspace else "the whole service"
    was_paused = _is_paused(workspace)
    planned = campaigns.resume(
        db.session,
        workspace.id if workspace else None,
        actor=OPS_ACTOR,
        now=dt.datetime.now(dt.UTC),
    )
    _audit_switch("recovery.resume", workspace, planned=planned, was_paused=was_paused)
    db.session.commit()
    note = "" if was_paused else " (it was not paused)"
    click.echo(
        f"Recovery resumed for {what}{note}: "
        f"{_plural(planned, 'step', 'steps')} (retries and emails) planned."
    )
    if workspace is not None and config.is_service_paused(db.session):
        click.echo(
            "Note: recovery is still paused for the whole service, so nothing runs until "
            "`flask ops resume-recovery --all`."
        )
    elif workspace is None:
        still = db.session.execute(
            select(RecoverySettings.workspace_id).where(RecoverySettings.is_paused.is_(True))
        ).all()
        if still:
            click.echo(
                "Note: 1 workspace stays paused on its own; resume it with --workspace."
                if len(still) == 1
                else f"Note: {len(still)} workspaces stay paused on their own; resume them "
                "with --workspace."
            )


# -- win back ----------------------------------------------------------------------------------


@ops.command("pause-winback")
@click.option("--workspace", "slug", required=True, help=_WORKSPACE_HELP)
def pause_winback(slug: str) -> None:
    """Stop a workspace's win-back now: every campaign under way is stopped (no more
    emails) and no new one starts until resume-winback. The merchant sees the pause on
    their Win back page."""
    workspace = _workspace(slug)
    stopped = winback_settings.set_paused(
        db.session, workspace.id, True, by=OPS_ACTOR, now=dt.datetime.now(dt.UTC)
    )
    _audit_switch("winback.pause", workspace, stopped=stopped)
    db.session.commit()
    click.echo(
        f"Win-back paused for {workspace.slug}: "
        f"{_plural(stopped, 'campaign', 'campaigns')} stopped."
    )


@ops.command("resume-winback")
@click.option("--workspace", "slug", required=True, help=_WORKSPACE_HELP)
def resume_winback(slug: str) -> None:
    """Let new cancels of a workspace start win-back campaigns again (stopped ones stay
    stopped)."""
    workspace = _workspace(slug)
    winback_settings.set_paused(
        db.session, workspace.id, False, by=OPS_ACTOR, now=dt.datetime.now(dt.UTC)
    )
    _audit_switch("winback.resume", workspace)
    db.session.commit()
    click.echo(f"Win-back resumed for {workspace.slug}: new cancels start campaigns again.")


# Commands of the other features join the group when it loads.
from . import ops_data, ops_insights, ops_keys, ops_mcp  # noqa: E402, F401

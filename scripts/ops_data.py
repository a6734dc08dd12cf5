"""Merchants' data rights on the command line (docs/data-rights.md): export everything
about a workspace, purge a workspace that left, erase one customer. The purge and the
erasure print what they would do unless given ``--execute``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from app.accounts.models import Workspace
from app.errors import Refusal
from app.extensions import db
from app.privacy import erasure, export, purge
from app.privacy.policy import parse_subject

from .ops import _audit, _workspace, operator_label, ops


def _workspace_of(slug: str) -> Workspace:
    """The workspace named by the SLUG argument (ops._workspace names --workspace)."""
    try:
        return _workspace(slug)
    except click.BadParameter as exc:
        raise click.BadParameter(exc.message, param_hint="SLUG")


def _print(heading: str, lines: list[str], empty: str) -> None:
    click.echo(heading)
    for line in lines or [empty]:
        click.echo(f"  {line}")


@ops.command("export-workspace")
@click.argument("slug")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the zip (default: ./<slug>-export-<date>.zip).",
)
def export_workspace(slug: str, out_path: Path | None) -> None:
    """Write a zip of everything we hold about a workspace.

    Reads every table with a workspace_id (rows of that workspace only), the workspace
    row and its members (email, name, role: never passwords or 2FA secrets). Writes one
    JSON file per table (CSV too for the big flat ones) and manifest.json (tables, row
    counts, time, schema revision). Secrets (keys, hashes, tokens) are listed as
    redacted, never written. Changes nothing but the zip; the export is audited."""
    workspace = _workspace_of(slug)
    now = dt.datetime.now(dt.UTC)
    path = out_path or Path(f"{workspace.slug}-export-{now:%Y%m%d-%H%M%S}.zip")
    total = sum(export.row_counts(db.session, workspace.id).values())
    try:
        handle = path.open("wb")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}")
    with (
        handle,
        click.progressbar(length=total, label="Exporting rows", file=sys.stderr) as bar,
    ):
        manifest = export.write(db.session, workspace, handle, now=now, advance=bar.update)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    _audit(
        "privacy.workspace_export",
        target_type="workspace",
        target_id=str(workspace.id),
        workspace_id=workspace.id,
        rows=rows,
        tables=len(manifest["tables"]),
    )
    db.session.commit()
    click.echo(f"Exported {rows} rows of {len(manifest['tables'])} tables to {path}.")


@ops.command("purge-workspace")
@click.argument("slug")
@click.option("--execute", is_flag=True, help="Really purge (without it: a dry run).")
def purge_workspace(slug: str, execute: bool) -> None:
    """Delete everything about a workspace whose Stripe is disconnected.

    Deletes every row of every tenant table (outbox message bodies included) except:
    the audit log (anonymised: actor and details dropped), the daily money totals and
    baseline (no personal data; our own invoicing), and the workspace row itself
    (renamed, its address, logo, website and embed secret cleared) as the record that
    it existed. Writes an audit entry of when and by whom. Dry run unless --execute;
    safe to run again (a purge cut short is finished by running it again)."""
    workspace = _workspace_of(slug)
    try:
        purge.check_disconnected(db.session, workspace)
    except Refusal as exc:
        raise click.ClickException(str(exc))
    if not execute:
        lines = [str(action) for action in purge.plan(db.session, workspace)]
        _print(f"Dry run: purging {workspace.slug} would change:", lines, "nothing (purged)")
        click.echo("Kept: audit log (anonymised), insight_daily, insight_baseline, workspace row.")
        click.echo("Run again with --execute to purge.")
        return
    done = purge.purge(
        db.session,
        workspace,
        actor_label=operator_label(),
        now=dt.datetime.now(dt.UTC),
        checkpoint=db.session.commit,
    )
    db.session.commit()
    lines = [f"{action.table}: {action.rows} row(s) {action.action}d" for action in done]
    _print(f"Purged {workspace.slug}:", lines, "nothing left to purge")


@ops.command("purge-customer")
@click.argument("slug")
@click.argument("customer")
@click.option("--execute", is_flag=True, help="Really erase (without it: a dry run).")
def purge_customer(slug: str, customer: str, execute: bool) -> None:
    """Erase one customer's personal data from a workspace (a data-subject request).

    CUSTOMER is their Stripe customer id (cus_...) or email. Empties their emails,
    names, phone numbers, email and text bodies, survey answers and links in every
    table, and erases mentions of them anywhere else (event payloads, webhook bodies);
    keeps amounts and outcomes so the merchant's figures still add up; adds their
    email and phone to the workspace's suppression lists. Dry run unless --execute;
    audited (by Stripe id, never the email)."""
    workspace = _workspace_of(slug)
    try:
        subject = parse_subject(customer)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="CUSTOMER")
    try:
        done = erasure.erase_customer(
            db.session,
            workspace.id,
            subject,
            actor_id=None,
            actor_label=operator_label(),
            execute=execute,
        )
    except Refusal as exc:
        raise click.ClickException(str(exc))
    lines = [str(entry) for entry in done]
    if not execute:
        db.session.rollback()
        what = f"Dry run: erasing that customer from {workspace.slug} would change:"
        _print(what, lines, "nothing (already erased)")
        click.echo("Run again with --execute to erase.")
    else:
        db.session.commit()
        _print(f"Erased that customer from {workspace.slug}:", lines, "nothing (already erased)")

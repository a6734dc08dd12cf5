"""``flask ops rotate-keys`` and ``flask ops check-keys``: re-encrypt every secret at rest
under the newest key of ``BACKSTOP_ENCRYPTION_KEYS``, then tell whether an older key
still opens anything (when it opens nothing it can be removed). See docs/key-rotation.md."""

from __future__ import annotations

import sys
from collections import Counter

import click

from app import crypto
from app.extensions import db
from app.secrets_at_rest import ENCRYPTED_COLUMNS, BatchResult, census, count_stored, rotate_batch

from .ops import _audit, ops

#: How many unreadable secrets an error names before it only counts the rest.
NAMED_AT_MOST = 20


def _unreadable_message(unreadable: list[tuple[str, int]]) -> str:
    named = ", ".join(f"{label} id {row_id}" for label, row_id in unreadable[:NAMED_AT_MOST])
    more = len(unreadable) - NAMED_AT_MOST
    if more > 0:
        named += f" and {more} more"
    return (
        f"{len(unreadable)} secret(s) cannot be decrypted by any configured key: {named}. "
        "Remove no key: add back the key they were written with, or have the merchant "
        "enter those secrets again."
    )


@ops.command("rotate-keys")
@click.option("--dry-run", is_flag=True, help="Count what would be re-encrypted; change nothing.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Rows per transaction (each batch commits: a re-run continues where one stopped).",
)
def rotate_keys(dry_run: bool, batch_size: int) -> None:
    """Re-encrypt every secret at rest under the newest (first) key of
    BACKSTOP_ENCRYPTION_KEYS. Safe while the app runs and safe to run again: secrets
    already under the newest key are skipped."""
    totals = {column.label: BatchResult() for column in ENCRYPTED_COLUMNS}
    unreadable: list[tuple[str, int]] = []
    stored = sum(count_stored(db.session, column) for column in ENCRYPTED_COLUMNS)
    label = "Counting" if dry_run else "Re-encrypting"
    with click.progressbar(length=stored, label=label, file=sys.stderr) as bar:
        for column in ENCRYPTED_COLUMNS:
            total, after = totals[column.label], 0
            while True:
                batch = rotate_batch(
                    db.session, column, after_id=after, limit=batch_size, dry_run=dry_run
                )
                if batch.last_id is None:
                    break
                if dry_run:
                    db.session.rollback()  # it only read: end the transaction all the same
                else:
                    db.session.commit()  # one short transaction per batch
                after = batch.last_id
                total.rotated += batch.rotated
                total.current += batch.current
                total.changed_meanwhile += batch.changed_meanwhile
                unreadable += [(column.label, row_id) for row_id in batch.unreadable_ids]
                bar.update(batch.seen)
    verb = "would re-encrypt" if dry_run else "re-encrypted"
    for name, total in totals.items():
        line = (
            f"{name}: {verb} {total.rotated}, {total.current} already under the newest key, "
            f"{sum(1 for label, _ in unreadable if label == name)} unreadable"
        )
        if total.changed_meanwhile:
            line += f", {total.changed_meanwhile} written meanwhile by the app (left as is)"
        click.echo(line)
    if not dry_run:
        _audit(
            "encryption_keys.rotate",
            target_type="encryption_keys",
            target_id=crypto.key_fingerprint(0),
            rotated=sum(t.rotated for t in totals.values()),
            unreadable=len(unreadable),
            columns={name: t.rotated for name, t in totals.items()},
        )
        db.session.commit()
    if unreadable:
        raise click.ClickException(_unreadable_message(unreadable))


def _key_name(index: int) -> str:
    newest = ", newest" if index == 0 else ""
    return f"key {index + 1} ({crypto.key_fingerprint(index)}{newest})"


@ops.command("check-keys")
def check_keys() -> None:
    """How many secrets at rest each configured key still opens: an older key that
    opens none can be removed from BACKSTOP_ENCRYPTION_KEYS. Changes nothing."""
    keys = crypto.key_count()
    overall: Counter = Counter()
    unreadable: list[tuple[str, int]] = []
    for column in ENCRYPTED_COLUMNS:
        counts, unopened = census(db.session, column)
        overall.update(counts)
        opened = ", ".join(f"key {i + 1}: {counts.get(i, 0)}" for i in range(keys))
        click.echo(f"{column.label}: {opened}, unreadable: {len(unopened)}")
        unreadable += [(column.label, row_id) for row_id in unopened]
    for index in range(keys):
        opens = overall.get(index, 0)
        line = f"{_key_name(index)} opens {opens} secret(s)"
        if index > 0:
            line += (
                ": removable from BACKSTOP_ENCRYPTION_KEYS"
                if opens == 0
                else ": still needed (run flask ops rotate-keys)"
            )
        click.echo(line)
    if keys > 1:
        click.echo(
            "Unsubscribe links in emails already sent open only with the key they were made "
            "with: see docs/key-rotation.md before removing one that was not compromised."
        )
    if unreadable:
        raise click.ClickException(_unreadable_message(unreadable))

"""Every column that holds a secret encrypted at rest, and the two passes over them that
``flask ops rotate-keys`` and ``flask ops check-keys`` make: re-encrypt under the newest
key, and count which configured key opens each secret.

A new encrypted column must be listed in :data:`ENCRYPTED_COLUMNS` (a test walks the
schema for ``*_enc`` / ``*_encrypted`` columns and fails on one missing here), or the
rotation would skip it and removing the old key would lose it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, func, select, update
from sqlalchemy.orm import Session

from . import crypto
from .accounts.models import User, Workspace
from .integrations.models import NotificationChannel, WebhookEndpoint
from .portal.models import PortalLink
from .sms.models import SmsSettings
from .stripe.models import StripeConnection


@dataclass(frozen=True)
class EncryptedColumn:
    model: Any
    attr: str
    what: str

    @property
    def table(self) -> Table:
        return self.model.__table__

    @property
    def column(self) -> Column:
        return self.table.c[self.attr]

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.attr}"


ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(StripeConnection, "secret_enc", "Stripe OAuth token or restricted key"),
    EncryptedColumn(StripeConnection, "webhook_secret_enc", "Stripe webhook signing secret"),
    EncryptedColumn(Workspace, "embed_secret_enc", "embed signing secret"),
    EncryptedColumn(User, "totp_secret_enc", "two-factor sign-in (TOTP) secret"),
    EncryptedColumn(WebhookEndpoint, "secret_enc", "outbound webhook signing secret"),
    EncryptedColumn(WebhookEndpoint, "previous_secret_enc", "outbound webhook previous secret"),
    EncryptedColumn(NotificationChannel, "url_enc", "Slack/Discord incoming-webhook URL"),
    EncryptedColumn(PortalLink, "token_enc", "customer portal link token"),
    EncryptedColumn(SmsSettings, "auth_token_encrypted", "Twilio auth token"),
)


@dataclass
class BatchResult:
    """One batch of one column: what happened to each row read."""

    last_id: int | None = None
    rotated: int = 0
    current: int = 0
    #: Written again by the app between our read and our write: already under the
    #: newest key (the app only encrypts with it), so left alone.
    changed_meanwhile: int = 0
    unreadable_ids: list[int] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.rotated + self.current + self.changed_meanwhile + len(self.unreadable_ids)


def count_stored(session: Session, column: EncryptedColumn) -> int:
    return session.execute(
        select(func.count()).select_from(column.table).where(column.column.is_not(None))
    ).scalar_one()


def _read_batch(
    session: Session, column: EncryptedColumn, after_id: int, limit: int
) -> list[tuple[int, str]]:
    pk = column.table.c.id
    rows = session.execute(
        select(pk, column.column)
        .where(pk > after_id, column.column.is_not(None))
        .order_by(pk)
        .limit(limit)
    ).all()
    return [(row_id, token) for row_id, token in rows]


def rotate_batch(
    session: Session, column: EncryptedColumn, *, after_id: int, limit: int, dry_run: bool = False
) -> BatchResult:
    """Re-encrypt under the newest key up to ``limit`` secrets of ``column`` whose row id
    is above ``after_id``. Each write is a compare-and-set on the token read, so a secret
    the app wrote meanwhile is never overwritten. Flushes; the caller commits."""
    result = BatchResult()
    table, pk = column.table, column.table.c.id
    # Setting an ``onupdate`` column to itself keeps it: a rotation is not an edit.
    untouched = {c.name: c for c in table.c if c.onupdate is not None}
    for row_id, token in _read_batch(session, column, after_id, limit):
        result.last_id = row_id
        index = crypto.key_index(token)
        if index is None:
            result.unreadable_ids.append(row_id)
        elif index == 0:
            result.current += 1
        elif dry_run:
            result.rotated += 1
        else:
            written = session.execute(
                update(table)
                .where(pk == row_id, column.column == token)
                .values({column.attr: crypto.rotate(token), **untouched})
            )
            if written.rowcount == 1:
                result.rotated += 1
            else:
                result.changed_meanwhile += 1
    session.flush()
    return result


def census(
    session: Session, column: EncryptedColumn, *, batch: int = 500
) -> tuple[Counter, list[int]]:
    """How many secrets of ``column`` each configured key opens (by index, 0 = newest),
    and the row ids of those no key opens. Reads in batches; writes nothing."""
    counts: Counter = Counter()
    unreadable: list[int] = []
    after = 0
    while rows := _read_batch(session, column, after, batch):
        for row_id, token in rows:
            index = crypto.key_index(token)
            if index is None:
                unreadable.append(row_id)
            else:
                counts[index] += 1
        after = rows[-1][0]
    return counts, unreadable

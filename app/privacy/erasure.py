"""Erasing one customer's personal data from a workspace (a data-subject request).

Two passes. The customer's own rows (those naming their Stripe customer id, email or
phone) lose every free-text column (emails, names, bodies, their words) and the
personal keys of their documents; amounts, outcomes and dates stay, so the merchant's
figures still add up. Then every text column of every tenant table is searched for
what we learnt about them (emails, names, phones, the customer id in a document) and
those occurrences are erased wherever they are (event payloads, webhook bodies, the
audit log). Their addresses go on the workspace's suppression lists, which is the one
place they stay: that is how we keep never writing to them again."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..audit.models import AuditEntry
from ..audit.services import record
from ..errors import Refusal
from ..outbox.models import Suppression
from ..sms.models import SmsOptOut
from .catalogue import json_columns, primary_key, tenant_tables, text_columns
from .policy import (
    ERASED,
    Subject,
    contains_any,
    is_secret_column,
    needles,
    scrub_document,
    scrub_text,
)

BATCH = 500
SOURCE = "erasure"
ERASURE_ACTION = "privacy.customer_erasure"
#: Rows kept as they are: the suppression lists (see the module docstring).
KEPT_TABLES = frozenset({Suppression.__tablename__, SmsOptOut.__tablename__})
#: Rows deleted outright: copies of Stripe's customer, and links and caches that exist
#: only to serve that customer.
DELETED_TABLES = frozenset({"mirror_customer", "portal_link", "portal_cache", "card_update_link"})
#: Free-text columns emptied on the customer's own rows (whatever they say).
ERASED_COLUMNS = frozenset(
    {
        "body", "body_html", "body_text", "call_note", "customer_name", "email", "feedback",
        "from_number", "name", "phone", "reason_detail", "reason_text", "reply_to",
        "return_url", "subject", "support_note", "to_email", "to_number",
    }
)  # fmt: skip
_EMAIL_COLUMNS = ("email", "to_email")
_PHONE_COLUMNS = ("to_number", "from_number", "phone")
#: Columns that say who the row is about and carry no personal data themselves.
_KEY_COLUMNS = frozenset({"workspace_id", "customer_stripe_id", "stripe_id"})


class CustomerNotFound(Refusal):
    status = 404


@dataclass
class Identity:
    """What we know that identifies the customer in this workspace."""

    customer_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    @property
    def needles(self) -> tuple[str, ...]:
        return needles(self.emails, self.names, self.phones)


@dataclass
class TableErasure:
    table: str
    deleted: int = 0
    erased: int = 0
    """the customer's own rows emptied of personal data"""
    scrubbed: int = 0
    """other rows that mentioned them"""

    @property
    def summary(self) -> str:
        """e.g. ``2 erased, 1 mentions scrubbed``"""
        counts = (
            (self.deleted, "deleted"),
            (self.erased, "erased"),
            (self.scrubbed, "mentions scrubbed"),
        )
        return ", ".join(f"{n} {what}" for n, what in counts if n)

    def __str__(self) -> str:
        return f"{self.table}: {self.summary}"


def _customer_id_column(table: Table) -> Column | None:
    if table.name == "mirror_customer":
        return table.c.stripe_id
    return table.c.get("customer_stripe_id")


def customer_tables() -> list[Table]:
    """Tenant tables whose rows name a customer (by Stripe id)."""
    return [
        table
        for table in tenant_tables()
        if _customer_id_column(table) is not None and table.name not in KEPT_TABLES
    ]


def _owned_by(table: Table, who: Identity) -> Any:
    conditions = []
    id_column = _customer_id_column(table)
    if id_column is not None and who.customer_ids:
        conditions.append(id_column.in_(who.customer_ids))
    for name in _EMAIL_COLUMNS:
        if name in table.c and who.emails:
            conditions.append(func.lower(table.c[name]).in_(who.emails))
    for name in _PHONE_COLUMNS:
        if name in table.c and who.phones:
            conditions.append(table.c[name].in_(who.phones))
    return or_(*conditions) if conditions else None


def _learn(who: Identity, table: Table, row: Any) -> None:
    id_column = _customer_id_column(table)
    if id_column is not None and row[id_column.name]:
        who.customer_ids.add(row[id_column.name])
    for name in _EMAIL_COLUMNS:
        if row.get(name):
            who.emails.add(row[name].strip().lower())
    for name in ("customer_name", "name"):
        if row.get(name):
            who.names.add(row[name].strip())
    if table.name == "sms_message":
        phone = row["from_number"] if row["direction"] == "inbound" else row["to_number"]
        if phone:
            who.phones.add(phone)
    data = row.get("data")
    if table.name == "mirror_customer" and isinstance(data, dict) and data.get("phone"):
        who.phones.add(str(data["phone"]))


def identify(session: Session, workspace_id: int, subject: Subject) -> Identity:
    """Everything that names the customer, starting from an id or an email and
    following the rows that join them (a campaign with both), until nothing new."""
    who = Identity(
        customer_ids={subject.customer_id} if subject.customer_id else set(),
        emails={subject.email} if subject.email else set(),
    )
    seen, matched = -1, False
    while seen != (size := sum(map(len, vars(who).values()))):
        seen = size
        for table in customer_tables():
            owned = _owned_by(table, who)
            if owned is None:
                continue
            for row in session.execute(
                select(table).where(table.c.workspace_id == workspace_id, owned)
            ).mappings():
                matched = True
                _learn(who, table, row)
    if (
        not matched
        and not any(_mentions(session, workspace_id, who))
        and not already_erased(session, workspace_id, subject)
    ):
        raise CustomerNotFound("No customer with that email or Stripe id in this workspace.")
    return who


def already_erased(session: Session, workspace_id: int, subject: Subject) -> bool:
    """An earlier erasure of this subject left its trace: the suppression it added
    (by email) or its audit entry (by customer id). Asking again is then harmless."""
    if subject.email:
        query = select(Suppression.id).where(
            Suppression.workspace_id == workspace_id,
            Suppression.email == subject.email,
            Suppression.source == SOURCE,
        )
    else:
        query = select(AuditEntry.id).where(
            AuditEntry.workspace_id == workspace_id,
            AuditEntry.action == ERASURE_ACTION,
            AuditEntry.target_id == subject.customer_id,
        )
    return session.execute(query.limit(1)).first() is not None


def _fit(column: Column, value: str) -> str:
    length = getattr(column.type, "length", None)
    return value[:length] if length else value


def _erased_row(table: Table, row: Any, who: Identity) -> dict[str, Any]:
    found, documents, changes = who.needles, json_columns(table), {}
    for name in text_columns(table):
        value = row[name]
        if value is None or name in _KEY_COLUMNS or is_secret_column(name):
            continue
        column = table.c[name]
        if name in ERASED_COLUMNS:
            new = None if column.nullable else _fit(column, ERASED)
        elif name in documents:
            new = scrub_document(value, found, whole=True)
        else:
            new = _fit(column, scrub_text(value, found))
        if new != value:
            changes[name] = new
    return changes


def _mention_filter(table: Table, who: Identity) -> Any:
    columns = [c for c in text_columns(table) if not is_secret_column(c)]
    # JSON columns may hold a name with its accents escaped (\u00eb): search for both.
    spelt = {n for needle in who.needles for n in (needle, json.dumps(needle)[1:-1].lower())}
    patterns = [f"%{_like(n)}%" for n in sorted(spelt)]
    patterns += [f'%"{_like(cid)}"%' for cid in who.customer_ids]
    if not columns or not patterns:
        return None
    return or_(
        *(
            func.lower(cast(table.c[c], Text)).like(p.lower(), escape="\\")
            for c in columns
            for p in patterns
        )
    )


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scrubbed_row(table: Table, row: Any, who: Identity) -> dict[str, Any]:
    found, documents, changes = who.needles, json_columns(table), {}
    quoted_ids = tuple(f'"{cid.lower()}"' for cid in who.customer_ids)
    for name in text_columns(table):
        value = row[name]
        if value is None or is_secret_column(name) or name in _KEY_COLUMNS:
            continue
        if name in documents:
            about_them = contains_any(_json_text(value), quoted_ids)
            new = scrub_document(value, found, whole=about_them)
        else:
            new = _fit(table.c[name], scrub_text(value, found))
        if new != value:
            changes[name] = new
    return changes


def _json_text(value: Any) -> str:
    return json.dumps(value, default=str)


def _mentions(session: Session, workspace_id: int, who: Identity) -> Iterable[tuple[Table, Any]]:
    for table in tenant_tables():
        if table.name in KEPT_TABLES:
            continue
        mentioned = _mention_filter(table, who)
        if mentioned is None:
            continue
        pk = primary_key(table)
        after = None
        while True:
            query = select(table).where(table.c.workspace_id == workspace_id, mentioned)
            if after is not None:
                query = query.where(pk > after)
            rows = session.execute(query.order_by(pk).limit(BATCH)).mappings().all()
            yield from ((table, row) for row in rows)
            if len(rows) < BATCH:
                break
            after = rows[-1][pk.name]


def erase(
    session: Session, workspace_id: int, who: Identity, *, execute: bool
) -> list[TableErasure]:
    """Erase (or, without ``execute``, count) the customer's personal data; returns
    what changed per table. Running it again finds nothing left."""
    report: dict[str, TableErasure] = {}
    handled: set[tuple[str, Any]] = set()  # the customer's own rows, done in the first pass
    for table in customer_tables():
        owned = _owned_by(table, who)
        if owned is None:
            continue
        pk = primary_key(table)
        where = (table.c.workspace_id == workspace_id) & owned
        entry = report.setdefault(table.name, TableErasure(table.name))
        if table.name in DELETED_TABLES:
            ids = list(session.execute(select(pk).where(where)).scalars())
            handled.update((table.name, key) for key in ids)
            if execute and ids:
                session.execute(delete(table).where(pk.in_(ids)))
            entry.deleted += len(ids)
            continue
        for row in session.execute(select(table).where(where)).mappings().all():
            handled.add((table.name, row[pk.name]))
            changes = _erased_row(table, row, who)
            if changes:
                entry.erased += 1
                if execute:
                    session.execute(update(table).where(pk == row[pk.name]).values(**changes))
    for table, row in list(_mentions(session, workspace_id, who)):
        pk = primary_key(table)
        if (table.name, row[pk.name]) in handled:
            continue
        entry = report.setdefault(table.name, TableErasure(table.name))
        if table.name in DELETED_TABLES:
            entry.deleted += 1
            if execute:
                session.execute(delete(table).where(pk == row[pk.name]))
            continue
        changes = _scrubbed_row(table, row, who)
        if changes:
            entry.scrubbed += 1
            if execute:
                session.execute(update(table).where(pk == row[pk.name]).values(**changes))
    if execute:
        _suppress(session, workspace_id, who)
        session.flush()
    return [e for e in report.values() if e.deleted or e.erased or e.scrubbed]


def _suppress(session: Session, workspace_id: int, who: Identity) -> None:
    """Never write to them again. Inserted directly: the usual ``suppress`` emits an
    event carrying the address, which would put it back in the event log."""
    lists = (
        (Suppression, Suppression.email, who.emails, {"reason": "unsubscribed"}),
        (SmsOptOut, SmsOptOut.phone, who.phones, {}),
    )
    for model, column, values, extra in lists:
        for value in sorted(values):
            listed = select(model.id).where(model.workspace_id == workspace_id, column == value)
            if session.execute(listed).first() is None:
                session.add(
                    model(workspace_id=workspace_id, source=SOURCE, **{column.key: value}, **extra)
                )


def erase_customer(
    session: Session,
    workspace_id: int,
    subject: Subject,
    *,
    actor_id: int | None,
    actor_label: str,
    execute: bool,
) -> list[TableErasure]:
    """Find the customer, erase them (or only count, without ``execute``) and, when
    executed, audit it under their Stripe id (the audit entry names no email)."""
    who = identify(session, workspace_id, subject)
    done = erase(session, workspace_id, who, execute=execute)
    if execute:
        record(
            session,
            actor_id=actor_id,
            actor_label=actor_label,
            action=ERASURE_ACTION,
            target_type="customer",
            target_id=subject.customer_id or ",".join(sorted(who.customer_ids)) or None,
            workspace_id=workspace_id,
            by="customer id" if subject.customer_id else "email",
            rows={e.table: e.deleted + e.erased + e.scrubbed for e in done},
        )
    return done

"""A customer seeded into every table that can name a customer, generically from the
metadata: a new customer table gets a row here without anyone writing a factory, so
the erasure tests cover it the day it is added."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

from app.extensions import db
from app.privacy.catalogue import tenant_tables
from app.privacy.erasure import customer_tables
from app.privacy.policy import is_secret_column

NOW = dt.datetime(2026, 5, 10, 12, 0, tzinfo=dt.UTC)
_n = itertools.count(1)


@dataclass(frozen=True)
class Person:
    customer_id: str
    email: str
    name: str
    phone: str
    street: str

    @property
    def words(self) -> str:
        return f"Hi, {self.name} here ({self.email}, {self.phone}): please stop."

    def document(self) -> dict[str, Any]:
        return {
            "id": f"evt_{next(_n)}",
            "data": {
                "object": {
                    "id": self.customer_id,
                    "object": "customer",
                    "email": self.email,
                    "name": self.name,
                    "phone": self.phone,
                    "address": {"line1": self.street, "city": "London"},
                    "metadata": {"note": self.words},
                },
            },
            "customer": self.customer_id,
            "amount_minor": 4900,
        }


ADA = Person("cus_ada1", "ada@example.com", "Ada Lovelacé", "+447700900001", "12 Analytical Row")
GRACE = Person("cus_grace2", "grace@example.com", "Grace Hopper", "+447700900002", "1 Cobol Way")


def _base_type(column: Any) -> Any:
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl
    return kind


def _value(table: Table, column: Any, who: Person, parents: dict[str, int]) -> Any:
    name = column.name
    if name == "customer_stripe_id" or (table.name == "mirror_customer" and name == "stripe_id"):
        return who.customer_id
    if name in ("email", "to_email"):
        return who.email
    if name in ("customer_name", "name"):
        return who.name
    if name in ("phone", "to_number"):
        return who.phone
    if name == "direction":
        return "outbound"
    for fk in column.foreign_keys:
        return parents.get(fk.column.table.name)
    kind = _base_type(column)
    if isinstance(kind, JSON):
        return who.document()
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return NOW.date()
    if isinstance(kind, Integer | Numeric):
        return next(_n)  # unique, for the columns that must be (a step's one message)
    if isinstance(kind, LargeBinary):
        return b""
    if isinstance(kind, String | Text):
        if name.endswith("_id") or is_secret_column(name):  # ids and ciphertext, not words
            return f"v{next(_n)}"
        text = f"{who.words} #{next(_n)}" if kind.length is None or kind.length >= 120 else None
        if text is None:
            return f"v{next(_n)}"[: kind.length]
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no seed value for {table.name}.{name} ({kind!r})")


def _insert(table: Table, workspace_id: int, who: Person, parents: dict[str, int]) -> int:
    values: dict[str, Any] = {"workspace_id": workspace_id}
    for column in table.columns:
        if column.name in values or (column.primary_key and column.autoincrement):
            continue
        if column.name == "id":
            continue
        values[column.name] = _value(table, column, who, parents)
    if table.name == "outbound_delivery":
        values["channel_id"] = None  # exactly one target (a check constraint)
    result = db.session.execute(insert(table).values(**values))
    (key,) = result.inserted_primary_key or (None,)
    return key


def seed(workspace_id: int, who: Person) -> set[str]:
    """A row naming ``who`` in every customer table, and a row mentioning them in every
    other tenant table that can hold text (payloads, audit details...); parents first.
    Returns the tables written to."""
    parents: dict[str, int] = {}
    wanted = {t.name for t in customer_tables()}
    written = set()
    for table in tenant_tables():
        if table.name in {"email_suppression", "sms_opt_out", "insight_applied"}:
            continue
        needs_parent = any(
            fk.column.table.name not in parents
            for c in table.columns
            for fk in c.foreign_keys
            if not c.nullable and fk.column.table.name not in ("workspace", "user_account")
        )
        if needs_parent:
            continue
        if table.name in wanted or any(isinstance(_base_type(c), JSON) for c in table.columns):
            try:
                with db.session.begin_nested():
                    parents[table.name] = _insert(table, workspace_id, who, parents)
            except IntegrityError:  # one row per workspace (settings): the first person's
                assert table.name not in wanted, table.name
                continue
            written.add(table.name)
    db.session.flush()
    return written


def as_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)

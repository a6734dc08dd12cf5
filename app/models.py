"""The declarative base and the column types every domain package shares."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Constraint names Alembic can rely on across PostgreSQL and SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets
    the zone; PostgreSQL keeps it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only

intpk = Annotated[int, mapped_column(BigId, primary_key=True)]
timestamp = Annotated[dt.datetime, mapped_column(UTCDateTime())]
created_at = Annotated[
    dt.datetime, mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
]
stripe_id = Annotated[str, mapped_column(String(255))]
json_doc = Annotated[dict[str, Any], mapped_column(JSON)]


def workspace_fk(**kw: Any) -> Mapped[int]:
    """The tenant column every tenant-owned row carries."""
    return mapped_column(
        BigId,
        ForeignKey("workspace.id", ondelete="CASCADE"),
        index=True,
        comment="the tenant that owns this row",
        **kw,
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={dt.datetime: UTCDateTime(), dict[str, Any]: JSON},
    )


def one_per(session: Any, model: Any, *, defaults: dict[str, Any] | None = None, **key: Any) -> Any:
    """The row of ``model`` matching ``key`` (a unique key), made with ``defaults`` if
    there is none yet. Two workers making it at once both get the one row: the loser's
    INSERT fails on the unique key inside a savepoint and it reads the winner's."""
    query = select(model).filter_by(**key)
    row = session.execute(query).scalar_one_or_none()
    if row is not None:
        return row
    row = model(**key, **(defaults or {}))
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return session.execute(query).scalar_one()
    return row

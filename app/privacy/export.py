"""A zip of everything we hold about one workspace: every tenant table as JSON (and
the big tabular ones as CSV too), the workspace row, its members, and a manifest.
Secrets are listed as redacted, never written; rows are read in batches."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import Table, func, inspect, select, text
from sqlalchemy.orm import Session

from ..accounts.models import Membership, User, Workspace
from .catalogue import binary_columns, primary_key, tenant_tables
from .policy import is_secret_column, redact

BATCH = 500
#: Tables also written as CSV: the long, flat ones a merchant opens in a spreadsheet.
CSV_TABLES = frozenset(
    {
        "mirror_customer", "mirror_invoice", "mirror_subscription", "recovery_campaign",
        "recovery_attempt", "insight_daily", "winback_campaign", "retain_session",
        "checkout_recovery_campaign", "dispute",
    }
)  # fmt: skip
#: The members' columns we export: who they are, never how they log in.
MEMBER_COLUMNS = ("user_id", "email", "name", "role", "joined_at")


@dataclass
class TableReport:
    rows: int = 0
    files: list[str] = field(default_factory=list)
    redacted_columns: list[str] = field(default_factory=list)
    omitted_columns: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class _Shape:
    """How one table's rows are written: secrets redacted, binary blobs left out."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.omitted = sorted(binary_columns(table))
        self.redacted = sorted(
            c.name for c in table.columns if is_secret_column(c.name) and c.name not in self.omitted
        )
        self.columns = [c.name for c in table.columns if c.name not in self.omitted]

    def row(self, mapping: Any) -> dict[str, Any]:
        return {
            name: redact(mapping[name]) if name in self.redacted else _plain(mapping[name])
            for name in self.columns
        }


def _rows(session: Session, table: Table, workspace_id: int) -> Iterator[Any]:
    query = (
        select(table)
        .where(table.c.workspace_id == workspace_id)
        .order_by(primary_key(table))
        .execution_options(yield_per=BATCH)
    )
    yield from session.execute(query).mappings()


def schema_revision(session: Session) -> str | None:
    """The Alembic revision the database is at (None where tables were made without it)."""
    if not inspect(session.connection()).has_table("alembic_version"):
        return None
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def row_counts(session: Session, workspace_id: int) -> dict[str, int]:
    return {
        table.name: int(
            session.execute(
                select(func.count()).select_from(table).where(table.c.workspace_id == workspace_id)
            ).scalar_one()
        )
        for table in tenant_tables()
    }


def _write_json(archive: zipfile.ZipFile, name: str, rows: Iterator[dict[str, Any]]) -> int:
    written = 0
    with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
        out.write("[")
        for row in rows:
            out.write(",\n" if written else "\n")
            out.write(json.dumps(row, ensure_ascii=False, default=str))
            written += 1
        out.write("\n]\n")
    return written


def _write_csv(
    archive: zipfile.ZipFile, name: str, header: list[str], rows: Iterator[dict[str, Any]]
) -> None:
    with (
        archive.open(name, "w") as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow(
                json.dumps(v, default=str) if isinstance(v, dict | list) else v
                for v in (row[h] for h in header)
            )


def _members(session: Session, workspace_id: int) -> list[dict[str, Any]]:
    found = session.execute(
        select(User.id, User.email, User.name, Membership.role, Membership.created_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(User.id)
    ).all()
    return [dict(zip(MEMBER_COLUMNS, map(_plain, row), strict=True)) for row in found]


def write(
    session: Session,
    workspace: Workspace,
    out: IO[bytes],
    *,
    now: dt.datetime,
    advance: Callable[[int], None] = lambda rows: None,
) -> dict[str, Any]:
    """Write the workspace's export to ``out`` (a zip) and return its manifest;
    ``advance(n)`` is called as rows are written (for a progress bar)."""
    reports: dict[str, TableReport] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        workspace_shape = _Shape(Workspace.__table__)
        row = (
            session.execute(select(Workspace.__table__).where(Workspace.id == workspace.id))
            .mappings()
            .one()
        )
        _write_json(archive, "workspace.json", iter([workspace_shape.row(row)]))
        reports["workspace"] = TableReport(
            1, ["workspace.json"], workspace_shape.redacted, workspace_shape.omitted
        )
        members = _members(session, workspace.id)
        _write_json(archive, "members.json", iter(members))
        reports["members"] = TableReport(len(members), ["members.json"])
        for table in tenant_tables():
            shape = _Shape(table)
            report = reports[table.name] = TableReport(
                redacted_columns=shape.redacted, omitted_columns=shape.omitted
            )

            def shaped(table: Table = table, shape: _Shape = shape) -> Iterator[dict[str, Any]]:
                for n, mapping in enumerate(_rows(session, table, workspace.id), 1):
                    if n % BATCH == 0:
                        advance(BATCH)
                    yield shape.row(mapping)

            name = f"tables/{table.name}.json"
            report.rows = _write_json(archive, name, shaped())
            advance(report.rows % BATCH)
            report.files.append(name)
            if table.name in CSV_TABLES:
                csv_name = f"tables/{table.name}.csv"
                _write_csv(
                    archive,
                    csv_name,
                    shape.columns,
                    (shape.row(m) for m in _rows(session, table, workspace.id)),
                )
                report.files.append(csv_name)
        manifest = {
            "workspace": {"id": workspace.id, "slug": workspace.slug},
            "generated_at": _plain(now),
            "schema_revision": schema_revision(session),
            "secrets": "columns listed under redacted_columns hold '[redacted]' where set",
            "tables": {name: vars(report) for name, report in reports.items()},
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return manifest

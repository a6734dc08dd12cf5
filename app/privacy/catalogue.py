"""The tables a workspace owns, found by walking the models' metadata: a table with a
``workspace_id`` column is tenant data, so a new table is exported, purged and searched
without anyone remembering to list it."""

from __future__ import annotations

from sqlalchemy import JSON, LargeBinary, String, Table, Text
from sqlalchemy.sql.elements import ColumnElement

from ..models import Base


def tenant_tables() -> list[Table]:
    """Every table with a ``workspace_id`` column (create_app has imported every
    model, so the metadata is complete), parents before children (the order
    to export in; reversed, the order to delete in)."""
    return [t for t in Base.metadata.sorted_tables if "workspace_id" in t.c]


def primary_key(table: Table) -> ColumnElement:
    (column,) = table.primary_key.columns
    return column


def text_columns(table: Table) -> list[str]:
    """Columns that can hold free text or a document (where personal data can be)."""
    return [c.name for c in table.columns if isinstance(c.type, String | Text | JSON)]


def json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, JSON)}


def binary_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, LargeBinary)}

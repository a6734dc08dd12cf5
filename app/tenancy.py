"""The one helper every view, API handler, task and admin view uses to load
tenant-owned rows: scoped to a workspace, never by bare id."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import Select, select

from .extensions import db

T = TypeVar("T")


def scoped(model: type[T], workspace_id: int) -> Select[tuple[T]]:
    return select(model).where(model.workspace_id == workspace_id)  # type: ignore[attr-defined]


def get_or_404(model: type[T], workspace_id: int, **where: Any) -> T:
    """A row of ``workspace_id`` matching ``where``, or 404 (never another tenant's row)."""
    query = scoped(model, workspace_id).filter_by(**where)
    row = db.session.execute(query).scalar_one_or_none()
    if row is None:
        abort(404)
    return row

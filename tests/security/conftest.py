"""Shared pieces of the adversarial tests: the two shops of the tenancy matrix, and a
snapshot of the database that says whether a refused request changed anything."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pytest
from sqlalchemy import func, literal, select, union_all

from app.extensions import db

from ..app.test_tenancy import two_shops  # noqa: F401  (the fixture, shared)

#: Columns every request may touch without changing anything that matters: a page view
#: stamps "last seen"; the sessions table records the browser's visit.
VOLATILE_COLUMNS = frozenset({"last_seen_at", "last_used_at", "updated_at", "viewed_at"})
VOLATILE_TABLES = frozenset({"user_session", "user_sessions", "rate_limit"})


def row_counts() -> dict[str, int]:
    """Rows per table, for every table of the app (one query: the fuzzers call it often)."""
    db.session.expire_all()
    tables = [t for t in db.metadata.sorted_tables if t.name not in VOLATILE_TABLES]
    counts = union_all(
        *(
            select(literal(t.name).label("name"), func.count().label("n")).select_from(t)
            for t in tables
        )
    )
    return dict(db.session.execute(counts).all())


def workspace_rows(
    workspace_id: int, only: Collection[str] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a workspace owns (its own and any with its ``workspace_id``, or the tables named
    in ``only``), column by column, so a refused request that changed one field of one
    row shows up."""
    db.session.expire_all()
    owned: dict[str, list[tuple[Any, ...]]] = {}
    for table in db.metadata.sorted_tables:
        owner = table.c.id if table.name == "workspace" else table.c.get("workspace_id")
        if owner is None or table.name in VOLATILE_TABLES:
            continue
        if only is not None and table.name not in only:
            continue
        columns = [c for c in table.c if c.name not in VOLATILE_COLUMNS]
        rows = db.session.execute(select(*columns).where(owner == workspace_id)).all()
        owned[table.name] = sorted((tuple(repr(v) for v in row) for row in rows), key=str)
    return owned


def snapshot(*workspace_ids: int) -> tuple[dict[str, int], dict[int, Any]]:
    """What must stay the same: row counts everywhere and the workspaces' own rows."""
    return row_counts(), {ws: workspace_rows(ws) for ws in workspace_ids}


@pytest.fixture
def shop_b_id(two_shops) -> int:  # noqa: F811
    from app.accounts.models import Workspace

    return db.session.execute(
        select(Workspace.id).where(Workspace.slug == two_shops["slug"])
    ).scalar_one()


def refused_for_csrf(response: Any) -> bool:
    """Flask-WTF's answer to a POST without the session's form token."""
    return response.status_code == 400 and "CSRF token" in response.get_data(as_text=True)


class Checker:
    """Sends hostile requests and checks each answer: never a 5xx, and a 4xx changes no
    row (counts everywhere, and the workspace's rows, or those of ``tables``). The
    database is read again only after a request that may have changed it."""

    def __init__(self, web, workspace_id: int, tables: Collection[str] | None = None) -> None:
        self.web, self.workspace_id, self.tables = web, workspace_id, tables
        self.before = self.snapshot()

    def snapshot(self) -> tuple:
        return row_counts(), workspace_rows(self.workspace_id, self.tables)

    def send(self, method: str, url: str, **kwargs: Any) -> None:
        response = self.web.open(url, method=method, **kwargs)
        status = response.status_code
        assert status < 500, (method, url, status, response.get_data(as_text=True)[:300])
        if 400 <= status < 500:
            assert self.snapshot() == self.before, (url, status, "a refusal changed rows")
        else:
            self.before = self.snapshot()

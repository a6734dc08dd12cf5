"""Counting rows without scanning big tables.

A list page shows "how many", and a plain ``SELECT count(*)`` reads the whole table
(or the whole filtered range) on every page view: on ``stripe_event`` or
``audit_entry`` that is millions of rows. We count at most ``COUNT_CAP + 1`` rows
instead::

    SELECT count(*) FROM (SELECT 1 FROM stripe_event WHERE ... LIMIT 10001) AS capped

The database stops after 10,001 matches, so the cost is bounded whatever the table
size, the query is the same on SQLite and PostgreSQL, and it stays exact below the
cap (which is when an exact number is useful). Above it the page says "10,000+".
PostgreSQL's planner estimate (``pg_class.reltuples``) was the other option; it is
free but does not exist on SQLite and ignores the filters and the workspace scope.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Query, Session

COUNT_CAP = 10_000


def capped_count(session: Session, statement: Select[Any], cap: int = COUNT_CAP) -> int:
    """Rows matching ``statement``, counting no further than ``cap + 1``."""
    inner = statement.limit(cap + 1).subquery("capped")
    return session.execute(select(func.count()).select_from(inner)).scalar_one()


def display_count(count: int | None, cap: int = COUNT_CAP) -> str | None:
    """``1,234`` or, past the cap, ``10,000+``."""
    if count is None:
        return None
    return f"{cap:,}+" if count > cap else f"{count:,}"


class CappedCountQuery(Query):
    """The count query of a list view.

    Flask-Admin adds search, filter and join clauses to the count query it gets from
    ``get_count_query`` and then calls ``scalar()``; those clauses land on this
    ``SELECT 1 FROM <table>``, and ``scalar()`` wraps it in the capped count.
    """

    count_cap: int = COUNT_CAP

    def scalar(self) -> int:
        inner = Query.limit(self, self.count_cap + 1).subquery("capped")
        return self.session.execute(select(func.count()).select_from(inner)).scalar_one()


def capped_count_query(session: Session, model: type, cap: int = COUNT_CAP) -> Query:
    query = CappedCountQuery([literal_column("1")], session=session).select_from(model)
    query.count_cap = cap
    return query

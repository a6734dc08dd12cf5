"""The due-row sweeper: claims are leases, never shared, re-claimed when a worker died."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.extensions import db
from app.schedule.claims import claim_due

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


class _Base(DeclarativeBase):
    pass


class DueRow(_Base):
    """A stand-in for the recovery loop's steps."""

    __tablename__ = "test_due_row"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)


@pytest.fixture
def rows(ctx):
    _Base.metadata.create_all(db.engine)
    with Session(db.engine) as s:
        s.add_all(
            [DueRow(due_at=NOW - dt.timedelta(minutes=i)) for i in range(5)]
            + [DueRow(due_at=NOW + dt.timedelta(hours=1 + i)) for i in range(5)]
        )
        s.commit()
    yield
    _Base.metadata.drop_all(db.engine)


def test_claims_only_what_is_due_and_marks_it_running(rows) -> None:
    with Session(db.engine) as s:
        ids = claim_due(s, DueRow, now=NOW)
        s.commit()
        assert len(ids) == 5
        claimed = s.execute(select(DueRow).where(DueRow.id.in_(ids))).scalars().all()
        assert {r.status for r in claimed} == {"running"}
        assert {r.attempts for r in claimed} == {1}


def test_two_sweepers_never_claim_the_same_row(rows) -> None:
    with Session(db.engine) as a, Session(db.engine) as b:
        first = claim_due(a, DueRow, now=NOW, limit=3)
        a.commit()
        second = claim_due(b, DueRow, now=NOW)
        b.commit()
    assert len(first) == 3 and len(second) == 2
    assert not set(first) & set(second)


def test_an_expired_lease_is_claimed_again(rows) -> None:
    lease = dt.timedelta(minutes=5)
    with Session(db.engine) as s:
        ids = claim_due(s, DueRow, now=NOW, lease=lease)
        s.commit()
        assert claim_due(s, DueRow, now=NOW + dt.timedelta(minutes=4), lease=lease) == []
        again = claim_due(s, DueRow, now=NOW + dt.timedelta(minutes=6), lease=lease)
        s.commit()
        assert sorted(again) == sorted(ids)
        assert {
            r.attempts for r in s.execute(select(DueRow).where(DueRow.id.in_(ids))).scalars()
        } == {2}


def test_skip_locked_on_postgresql_with_open_transactions(rows) -> None:
    """Two open transactions at once: the second skips what the first holds."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite has one writer")
    with Session(db.engine) as a, Session(db.engine) as b:
        first = claim_due(a, DueRow, now=NOW, limit=2)
        second = claim_due(b, DueRow, now=NOW)  # a has not committed yet
        a.commit()
        b.commit()
    assert len(first) == 2 and len(second) == 3
    assert not set(first) & set(second)

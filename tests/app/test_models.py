"""Shared model helpers: ``one_per``'s guarded insert stays inside the caller's
transaction on every database (on SQLite a first SAVEPOINT would otherwise commit)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.dunning.models import DunningSettings
from app.extensions import db
from app.models import one_per

from . import factories as f


def rows() -> int:
    return db.session.execute(select(func.count()).select_from(DunningSettings)).scalar_one()


def test_a_row_made_first_thing_in_a_transaction_rolls_back_with_it(ctx) -> None:
    ws = f.workspace()
    db.session.commit()
    made = one_per(db.session, DunningSettings, workspace_id=ws.id, defaults={"copy": {}})
    assert made.id is not None and rows() == 1
    db.session.rollback()
    assert rows() == 0


def test_the_second_call_finds_the_first_row(ctx) -> None:
    ws = f.workspace()
    first = one_per(db.session, DunningSettings, workspace_id=ws.id, defaults={"copy": {}})
    again = one_per(db.session, DunningSettings, workspace_id=ws.id, defaults={"copy": {}})
    assert first is again and rows() == 1

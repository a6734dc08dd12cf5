"""Erasing one customer: nothing of their personal data is left in any text column of
any table, the other customer is untouched, and the figures still add up."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Text, cast, func, or_, select

from app.audit.models import AuditEntry
from app.extensions import db
from app.models import Base
from app.outbox.models import Suppression
from app.privacy import erasure
from app.privacy.catalogue import text_columns
from app.privacy.policy import Subject
from app.recovery.models import Campaign
from app.sms.models import SmsOptOut

from .. import factories as f
from .seed import ADA, GRACE, seed

#: Where the erased customer's address stays on purpose: so we never write to them again.
SUPPRESSION_TABLES = {"email_suppression", "sms_opt_out"}


def occurrences(needle: str) -> dict[str, int]:
    """``grep -ri needle`` over every text column of every table (and its spelling inside
    a JSON document, accents escaped)."""
    spellings = {needle.lower(), json.dumps(needle.lower())[1:-1]}
    found = {}
    for table in Base.metadata.sorted_tables:
        if table.name in SUPPRESSION_TABLES:
            continue
        for name in text_columns(table):
            text = func.lower(cast(table.c[name], Text))
            hits = db.session.execute(
                select(func.count())
                .select_from(table)
                .where(or_(*(text.contains(spelt, autoescape=True) for spelt in spellings)))
            ).scalar_one()
            if hits:
                found[f"{table.name}.{name}"] = hits
    return found


@pytest.fixture
def shop(ctx):
    ws = f.workspace(name="Analytical Engines")
    seed(ws.id, ADA)
    seed(ws.id, GRACE)
    return ws


def test_the_seed_reaches_every_customer_table(ctx) -> None:
    ws = f.workspace()
    written = seed(ws.id, ADA)
    assert {t.name for t in erasure.customer_tables()} <= written


@pytest.mark.parametrize("named_by", [ADA.customer_id, ADA.email])
def test_nothing_of_the_customer_is_left_anywhere(shop, named_by) -> None:
    before = {
        needle: occurrences(needle)
        for needle in (GRACE.email, GRACE.name, GRACE.phone, GRACE.street)
    }
    assert all(occurrences(n) for n in (ADA.email, ADA.name, ADA.phone))
    amounts = db.session.execute(select(func.sum(Campaign.amount_minor))).scalar_one()

    subject = (
        Subject(customer_id=named_by) if named_by.startswith("cus_") else Subject(email=named_by)
    )
    done = erasure.erase_customer(
        db.session, shop.id, subject, actor_id=None, actor_label="cli:test", execute=True
    )
    db.session.commit()

    assert done
    for needle in (ADA.email, ADA.name, ADA.phone, ADA.street):
        assert occurrences(needle) == {}, needle
    assert {n: occurrences(n) for n in before} == before
    assert db.session.execute(select(func.sum(Campaign.amount_minor))).scalar_one() == amounts
    assert db.session.execute(select(Suppression.email, Suppression.source)).all() == [
        (ADA.email, "erasure")
    ]
    assert db.session.execute(select(SmsOptOut.phone)).scalars().all() == [ADA.phone]
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == erasure.ERASURE_ACTION)
    ).scalar_one()
    assert entry.target_id == ADA.customer_id
    assert ADA.email not in str(entry.details)


def test_erasing_twice_is_harmless(shop) -> None:
    for subject in (Subject(customer_id=ADA.customer_id), Subject(email=ADA.email)):
        erasure.erase_customer(
            db.session, shop.id, subject, actor_id=None, actor_label="t", execute=True
        )
        db.session.commit()
    again = erasure.erase_customer(
        db.session, shop.id, Subject(email=ADA.email), actor_id=None, actor_label="t", execute=True
    )
    assert again == []
    assert db.session.execute(select(func.count()).select_from(Suppression)).scalar_one() == 1


def test_a_dry_run_changes_nothing(shop) -> None:
    planned = erasure.erase_customer(
        db.session,
        shop.id,
        Subject(customer_id=ADA.customer_id),
        actor_id=None,
        actor_label="t",
        execute=False,
    )
    db.session.commit()
    assert {e.table for e in planned} >= {t.name for t in erasure.customer_tables()}
    assert occurrences(ADA.email)
    assert db.session.execute(select(func.count()).select_from(Suppression)).scalar_one() == 0


def test_an_unknown_customer_is_refused(shop) -> None:
    with pytest.raises(erasure.CustomerNotFound):
        erasure.identify(db.session, shop.id, Subject(email="nobody@example.com"))
    other = f.workspace()
    with pytest.raises(erasure.CustomerNotFound):  # another workspace's customer
        erasure.identify(db.session, other.id, Subject(customer_id=ADA.customer_id))

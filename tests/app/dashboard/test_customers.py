"""Customers: one status word per customer (a pure rule), shown in the list and on the
customer's page; the empty list says what to do next, by the state of the connection."""

from __future__ import annotations

from html import unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.dashboard.customers import Status, customer_status
from app.extensions import db
from app.models import utcnow
from app.recovery.models import Campaign
from app.stripe import mirror

from .. import factories as f

SUBSCRIPTION_STATUSES = [
    "active",
    "trialing",
    "past_due",
    "unpaid",
    "incomplete",
    "incomplete_expired",
    "canceled",
    "paused",
]


@pytest.mark.parametrize(
    ("statuses", "recovering", "expected"),
    [
        ([], False, Status.NONE),
        (["active"], False, Status.PAYING),
        (["trialing"], False, Status.TRIAL),
        (["past_due"], False, Status.PAST_DUE),
        (["unpaid"], False, Status.PAST_DUE),
        (["canceled"], False, Status.CANCELLED),
        (["canceled", "incomplete_expired"], False, Status.CANCELLED),
        (["paused"], False, Status.PAUSED),
        (["canceled", "active"], False, Status.PAYING),
        (["active", "past_due"], False, Status.PAST_DUE),
        (["active"], True, Status.IN_RECOVERY),
        ([], True, Status.IN_RECOVERY),
    ],
)
def test_status_examples(statuses, recovering, expected) -> None:
    assert customer_status(statuses, in_recovery=recovering) is expected


@given(st.lists(st.sampled_from(SUBSCRIPTION_STATUSES)), st.booleans())
def test_status_laws(statuses, recovering) -> None:
    status = customer_status(statuses, in_recovery=recovering)
    # An open campaign always shows; a subscription past due outranks one that pays.
    assert (status is Status.IN_RECOVERY) == recovering
    if not recovering and {"past_due", "unpaid", "incomplete"} & set(statuses):
        assert status is Status.PAST_DUE
    # Only customers whose every subscription ended are cancelled.
    if status is Status.CANCELLED:
        assert set(statuses) <= {"canceled", "incomplete_expired"} and statuses
    assert customer_status(list(reversed(statuses)), in_recovery=recovering) is status


def customer(ws, stripe_id: str, name: str, *subscriptions: str) -> None:
    mirror.upsert(
        db.session,
        ws.id,
        {"id": stripe_id, "object": "customer", "name": name, "email": f"{stripe_id}@ex.com"},
        1,
    )
    for n, status in enumerate(subscriptions):
        mirror.upsert(
            db.session,
            ws.id,
            {
                "id": f"sub_{stripe_id}_{n}",
                "object": "subscription",
                "customer": stripe_id,
                "status": status,
            },
            1,
        )


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@customers.example")
    ws = f.workspace(owner, "Customer Shop")
    db.session.commit()
    f.login(web, owner)
    return ws


def page(web, url: str) -> str:
    response = web.get(url)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_the_list_shows_each_customers_status(web, shop) -> None:
    f.connection(shop)
    customer(shop, "cus_pay", "Pat Paying", "active")
    customer(shop, "cus_due", "Dee Due", "past_due")
    customer(shop, "cus_gone", "Gil Gone", "canceled")
    customer(shop, "cus_rec", "Rea Recovering", "past_due")
    db.session.add(
        Campaign(
            workspace_id=shop.id,
            invoice_stripe_id="in_rec",
            customer_stripe_id="cus_rec",
            amount_minor=900,
            currency="usd",
            decline_class="scheduled",
            opened_at=utcnow(),
            last_failure_at=utcnow(),
            window_ends_at=utcnow(),
        )
    )
    db.session.commit()
    html = page(web, "/customers")
    assert "<th>Status</th>" in html
    for stripe_id, status in [
        ("cus_pay", "paying"),
        ("cus_due", "past_due"),
        ("cus_gone", "cancelled"),
        ("cus_rec", "in_recovery"),
    ]:
        row = html[html.index(f"/customers/{stripe_id}") :]
        assert row.index(f'data-status="{status}"') < row.index("</tr>"), stripe_id
    assert "In recovery" in html and "Past due" in html and "Paying" in html
    assert 'data-status="in_recovery"' in page(web, "/customers/cus_rec")


def test_the_empty_list_follows_the_connection(web, shop) -> None:
    html = page(web, "/customers")
    assert 'data-empty="not-connected"' in html and "once Stripe is connected" in html
    connection = f.connection(shop)
    connection.import_status = "running"
    db.session.commit()
    html = page(web, "/customers")
    assert 'data-empty="importing"' in html and "once Stripe is connected" not in html
    connection.import_status = "done"
    db.session.commit()
    html = page(web, "/customers")
    assert 'data-empty="connected"' in html and "once Stripe is connected" not in html
    assert "no customers yet" in html

"""The back office's campaign list in the merchant's words: the customer's name or
email and the plan's name, with the Stripe ids in tooltips, each looked up in the
campaign's own workspace, a few queries per page whatever its length."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import event as sa_event

from admin.campaign_names import plan_name
from app.extensions import db
from app.stripe import mirror

from ..app import factories as f
from .test_recovery_admin import make_campaign, staff

HEADER = re.compile(r"<th[^>]*>(.*?)</th>", re.S)


def line(description: str, *, proration: bool = False) -> dict:
    return {
        "description": description,
        "parent": {"subscription_item_details": {"proration": proration}},
    }


def subscription(*prices: dict) -> dict:
    return {"items": {"data": [{"price": price} for price in prices]}}


@pytest.mark.parametrize(
    ("sub", "invoice", "expected"),
    [
        (subscription({"nickname": "Studio monthly", "product": "prod_1"}), None, "Studio monthly"),
        (subscription({"nickname": None, "product": {"name": "Studio"}}), None, "Studio"),
        (
            subscription({"nickname": "Studio"}, {"nickname": "Towels"}, {"nickname": "Studio"}),
            None,
            "Studio + Towels",
        ),
        (
            subscription({"nickname": None, "product": "prod_1"}),
            {"lines": {"data": [line("1 × Studio Plus (at $59.00 / month)")]}},  # noqa: RUF001
            "Studio Plus",
        ),
        (
            None,
            {
                "lines": {
                    "data": [
                        line("Unused time on Studio after 1 Jan", proration=True),
                        line("2 × Seats (at 10.00 USD / month)"),  # noqa: RUF001
                        line("A one-off setup fee"),
                    ]
                }
            },
            "Seats",
        ),
        (subscription({"nickname": None, "product": "prod_1"}), None, None),
        (None, {"lines": {"data": [line("A one-off setup fee")]}}, None),
        (None, None, None),
        ({"items": None}, {"lines": {"data": [None, "x"]}}, None),
    ],
)
def test_the_plans_name(sub, invoice, expected) -> None:
    assert plan_name(sub, invoice) == expected


@pytest.fixture
def shops(ctx):
    ours, theirs = f.workspace(name="Ours"), f.workspace(name="Theirs")
    named = make_campaign(ours)
    bare = make_campaign(ours)
    # The same Stripe ids in another workspace (another Stripe account) name someone else.
    other = make_campaign(theirs)
    other.customer_stripe_id = named.customer_stripe_id
    other.subscription_stripe_id = named.subscription_stripe_id
    for ws, name, plan in ((ours, "Ada Lovelace", "Studio"), (theirs, "Somebody Else", "Gym")):
        cus = {"id": named.customer_stripe_id, "object": "customer", "name": name}
        mirror.upsert(db.session, ws.id, {**cus, "email": f"{name.split()[0].lower()}@x.test"}, 1)
        sub = {
            "id": named.subscription_stripe_id,
            "object": "subscription",
            "customer": named.customer_stripe_id,
            "status": "past_due",
            **subscription({"nickname": plan, "product": "prod_1"}),
        }
        mirror.upsert(db.session, ws.id, sub, 1)
    db.session.commit()
    return ours, named, bare, other


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_list_names_customer_and_plan_with_the_ids_as_tooltips(web, shops) -> None:
    ours, named, bare, other = shops
    staff(web, "support")
    page = text(web.get(f"/admin/recovery-campaigns/?workspace_id={ours.id}"))
    assert (
        f'<span class="cut" title="ada@x.test · {named.customer_stripe_id}">Ada Lovelace</span>'
        in page
    )
    assert f'title="Studio · {named.subscription_stripe_id}">Studio</span>' in page
    assert "Somebody Else" not in page and "Gym" not in page
    # Nothing mirrored: the ids themselves, cut short, whole in the tooltip.
    assert f'title="{bare.customer_stripe_id}"><code>{bare.customer_stripe_id}</code>' in page
    assert f'title="Invoice {bare.invoice_stripe_id}"' in page
    headers = [" ".join(re.sub("<[^>]+>", " ", h).split()) for h in HEADER.findall(page)]
    assert headers[-9:] == [
        *("Opened", "Workspace", "Customer", "Plan", "Amount", "State", "Decline", "Retries"),
        "Closed",
    ]
    theirs = text(web.get(f"/admin/recovery-campaigns/?workspace_id={other.workspace_id}"))
    assert "Somebody Else" in theirs and "Gym" in theirs and "Ada Lovelace" not in theirs


def test_the_campaigns_page_names_them_too(web, shops) -> None:
    _, named, _, _ = shops
    staff(web, "support")
    page = text(web.get(f"/admin/recovery-campaigns/details/?id={named.id}"))
    assert f"Campaign #{named.id} · Ada Lovelace · {named.invoice_stripe_id}" in page
    assert f"Ada Lovelace · ada@x.test <code>{named.customer_stripe_id}</code>" in page
    assert f"Studio <code>{named.subscription_stripe_id}</code>" in page


def test_names_cost_a_few_queries_per_page_not_one_per_row(web, app, shops) -> None:
    ours, *_ = shops
    for _ in range(20):
        make_campaign(ours)
    db.session.commit()
    staff(web, "support")

    def statements() -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            seen.append(statement)

        with app.app_context():
            engine = db.engine
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            assert web.get("/admin/recovery-campaigns/").status_code == 200
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    few = statements()
    for _ in range(20):
        make_campaign(ours)
    db.session.commit()
    assert statements() == few

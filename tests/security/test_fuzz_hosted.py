"""The customer's cancel flow, fed hostile form posts by hypothesis on a simulated
session (the merchant's Simulate button: the real pages, no Stripe effect): never a
5xx, and a refusal changes no row."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db

from ..app import factories as f
from ..app.forms import csrf_token
from .conftest import Checker
from .fuzz import FUZZ, field_values, page_forms

ACTIONS = ["answer", "skip", "feedback", "accept", "cancel"]


def test_the_cancel_flow_survives_hostile_posts(web, two_shops, shop_b_id) -> None:
    owner = db.session.execute(select(User).where(User.email == "bob@example.com")).scalar_one()
    f.login(web, owner)
    token = csrf_token(web, f"/cancel-flows/{two_shops['flow_id']}")
    started = web.post(f"/cancel-flows/{two_shops['flow_id']}/simulate", data={"csrf_token": token})
    assert started.status_code == 303, started.status_code
    path = started.headers["Location"].removeprefix("http://localhost")
    page = web.get(path)
    assert page.status_code == 200
    forms = page_forms(page.get_data(as_text=True))
    valid = forms.get(path) or forms.get("", {})  # its forms post back to the page itself
    assert "action" in valid, forms
    checker = Checker(web, shop_b_id)
    keys = sorted({*valid, "action", "step", "reason", "reason_text", "feedback"})

    @FUZZ
    @given(
        action=st.sampled_from(ACTIONS) | field_values,
        changes=st.dictionaries(st.sampled_from(keys), field_values, max_size=4),
    )
    def run(action, changes: dict) -> None:
        form = {k: v[0] for k, v in valid.items()} | {"action": action} | changes
        checker.send("POST", path, data=form)
        checker.send("GET", path)

    run()

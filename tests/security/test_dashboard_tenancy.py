"""The dashboard with another workspace's ids, everywhere they could be put: in the URL
(every route with a variable, GET and POST: 403/404 and not one field of the other
workspace's rows changed), and in the query string or the form of every other route
(nothing of theirs shown, nothing of theirs changed, never a 5xx)."""

from __future__ import annotations

from ..app import factories as f
from ..app.forms import csrf_token
from ..app.test_tenancy import KEY_AUTHENTICATED, NOT_TENANT_IDS
from .conftest import row_counts, workspace_rows

#: Surfaces with matrices of their own: the back office (test_back_office_walk), the
#: customer pages (test_hosted_tenancy) and the machine endpoints (test_csrf's probes).
ELSEWHERE = ("/admin", "/hosted", "/api/", "/webhooks/")
#: What of shop B's must never show on shop A's pages.
SECRETS_OF_B = ("secret@b.example", "in_secret_b", "dp_secret_b", "hooks.b.example")


def _as_fields(two_shops: dict, shop_b_id: int) -> dict:
    """Shop B's ids under every name a view might read them from."""
    return {
        **{k: str(v) for k, v in two_shops.items()},
        "id": str(two_shops["campaign_id"]),
        "customer": two_shops["stripe_id"],
        "customer_id": two_shops["stripe_id"],
        "workspace": two_shops["slug"],
        "workspace_id": str(shop_b_id),
        "q": two_shops["stripe_id"],
    }


def _dashboard_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(ELSEWHERE) or rule.endpoint.startswith(KEY_AUTHENTICATED):
            continue
        if rule.endpoint in NOT_TENANT_IDS or rule.endpoint.startswith("hosted."):
            continue
        yield rule


def _alice(web, shop_b_id: int):
    from sqlalchemy import select

    from app.accounts.models import Membership, User
    from app.extensions import db

    return db.session.execute(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id != shop_b_id)
    ).scalar_one()


def test_ids_in_the_url_change_not_one_field_of_another_workspace(
    web, app, two_shops, shop_b_id
) -> None:
    token = csrf_token(web, "/dashboard")
    fields = {**_as_fields(two_shops, shop_b_id), "csrf_token": token}
    counts, theirs = row_counts(), workspace_rows(shop_b_id)
    walked = 0
    for rule in _dashboard_rules(app):
        if not rule.arguments:
            continue
        url = rule.build({k: two_shops[k] for k in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = web.open(url, method=method, data=fields)
            assert response.status_code in (403, 404), (rule.endpoint, method)
            walked += 1
    assert walked >= 30
    assert workspace_rows(shop_b_id) == theirs
    assert row_counts() == counts


def test_ids_in_query_strings_and_forms_never_reach_another_workspace(
    web, app, two_shops, shop_b_id
) -> None:
    alice = _alice(web, shop_b_id)
    fields = _as_fields(two_shops, shop_b_id)
    theirs = workspace_rows(shop_b_id)
    walked = []
    for rule in _dashboard_rules(app):
        if rule.arguments or rule.endpoint in ("accounts.logout", "static"):
            continue
        url = rule.build({})[1]
        if "GET" in rule.methods:
            response = web.get(url, query_string=fields, buffered=True)  # CSVs stream
            assert response.status_code < 500, (rule.endpoint, response.status_code)
            body = response.get_data(as_text=True)
            assert not [s for s in SECRETS_OF_B if s in body], rule.endpoint
            walked.append(rule.endpoint)
        if "POST" in rule.methods:
            token = csrf_token(web, "/dashboard")
            response = web.post(url, data={**fields, "csrf_token": token})
            assert response.status_code < 500, (rule.endpoint, response.status_code)
            body = response.get_data(as_text=True)
            assert not [s for s in SECRETS_OF_B if s in body], rule.endpoint
            walked.append(rule.endpoint)
        f.login(web, alice)  # a form may have signed her out or switched her away
    assert len(walked) >= 60
    assert workspace_rows(shop_b_id) == theirs

"""REST API v1: authentication, every resource, pages, filters, errors, pause/resume."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.accounts import api_keys
from app.accounts.models import ApiKey
from app.audit.models import AuditEntry
from app.extensions import db
from app.insights.models import InsightDaily
from app.recovery.models import PENDING, RETRY, Campaign, Step
from app.recovery.planning import add_step

from . import seed

API = "/api/v1"


@pytest.fixture
def shop(ctx):
    made = seed.shop("Shop A", "cus_a")
    db.session.commit()
    return made


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert set(error) == {"type", "code", "message", "param"}
    return error


# -- authentication ---------------------------------------------------------------------------


def test_no_key_bad_key_and_revoked_key_are_401(web, shop) -> None:
    _error(web.get(f"{API}/campaigns"), 401, "api_key_missing")
    bad = {"Authorization": "Bearer bk_live_nope"}
    _error(web.get(f"{API}/campaigns", headers=bad), 401, "api_key_invalid")
    basic = {"Authorization": "Basic " + shop.write_key}
    _error(web.get(f"{API}/campaigns", headers=basic), 401, "api_key_missing")
    assert web.get(f"{API}/campaigns", headers=shop.auth()).status_code == 200

    key = db.session.execute(select(ApiKey).where(ApiKey.name == "Server")).scalar_one()
    api_keys.revoke(db.session, key, now=seed.NOW)
    db.session.commit()
    error = _error(web.get(f"{API}/campaigns", headers=shop.auth()), 401, "api_key_revoked")
    assert error["type"] == "authentication_error"


def test_keys_are_stored_hashed_and_last_use_is_written_at_most_once_a_minute(web, shop) -> None:
    key = db.session.execute(select(ApiKey).where(ApiKey.name == "Assistant")).scalar_one()
    assert shop.read_key not in (key.secret_hash, key.prefix)
    assert shop.read_key.startswith(key.prefix) and key.prefix.startswith("bk_test_")
    assert key.last_used_at is None
    web.get(f"{API}/campaigns", headers=shop.auth(write=False))
    db.session.refresh(key)
    first = key.last_used_at
    assert first is not None
    later = first + dt.timedelta(seconds=30)
    assert not api_keys.touch(db.session, key, now=later)
    assert api_keys.touch(db.session, key, now=first + dt.timedelta(minutes=2))


def test_a_live_mode_workspace_makes_live_keys(ctx) -> None:
    from tests.app import factories as f

    ws = f.workspace()
    f.connection(ws).livemode = True
    _, secret = api_keys.create(db.session, ws.id, name="x", scope="read", created_by_id=None)
    assert secret.startswith("bk_live_") and len(secret) == len("bk_live_") + 43


def test_a_read_only_key_reads_but_gets_403_on_post(web, shop) -> None:
    read = shop.auth(write=False)
    assert web.get(f"{API}/campaigns/{shop.ids['campaign_id']}", headers=read).status_code == 200
    url = f"{API}/campaigns/{shop.ids['campaign_id']}/pause"
    error = _error(web.post(url, headers=read), 403, "read_only_key")
    assert error["type"] == "permission_error"
    assert not db.session.execute(select(Campaign).where(Campaign.is_paused)).first()


# -- resources --------------------------------------------------------------------------------


def test_campaigns_list_retrieve_and_filter(web, shop) -> None:
    page = web.get(f"{API}/campaigns", headers=shop.auth()).get_json()
    assert page["object"] == "list" and page["url"] == f"{API}/campaigns"
    assert [c["id"] for c in page["data"]] == [
        shop.ids["campaign_id"],
        shop.ids["lost_campaign_id"],
    ]
    first = page["data"][0]
    assert first["amount"] == 2900 and first["currency"] == "usd"
    assert first["status"] == "in_flight" and first["customer"] == "cus_a"
    assert first["opened_at"] == "2026-03-10T12:00:00Z"
    lost = web.get(f"{API}/campaigns?status=lost", headers=shop.auth()).get_json()["data"]
    assert [c["id"] for c in lost] == [shop.ids["lost_campaign_id"]]
    recent = web.get(f"{API}/campaigns?created_gte=2026-03-01T00:00:00Z", headers=shop.auth())
    assert [c["id"] for c in recent.get_json()["data"]] == [shop.ids["campaign_id"]]
    older = web.get(f"{API}/campaigns?created_lt=2026-03-01T00:00:00%2B00:00", headers=shop.auth())
    assert [c["id"] for c in older.get_json()["data"]] == [shop.ids["lost_campaign_id"]]
    one = web.get(f"{API}/campaigns/{shop.ids['campaign_id']}", headers=shop.auth()).get_json()
    assert one == first


def test_pages_follow_the_cursor_newest_first(web, shop) -> None:
    # Two at the same time as the open one (ties go by id), one later, two earlier.
    made = [
        seed.campaign(shop.workspace, "cus_a", opened=seed.NOW + dt.timedelta(minutes=m)).id
        for m in (0, 0, 5, -5, -10)
    ]
    db.session.commit()
    opened = dict(
        db.session.execute(
            select(Campaign.id, Campaign.opened_at).where(
                Campaign.workspace_id == shop.workspace.id
            )
        ).all()
    )
    assert len(opened) == len(made) + 2
    everything = sorted(opened, key=lambda i: (opened[i], i), reverse=True)
    seen, cursor, pages = [], None, 0
    while True:
        url = f"{API}/campaigns?limit=3" + (f"&starting_after={cursor}" if cursor else "")
        page = web.get(url, headers=shop.auth()).get_json()
        seen += [int(c["id"][4:]) for c in page["data"]]
        pages += 1
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert seen == everything and pages == 3


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=won", "status"),
        ("starting_after=cs_1", "starting_after"),
        ("starting_after=cmp_99999999999999999999", "starting_after"),
        ("created_gte=9999-12-31T23:59:59-23:59", "created_gte"),
        ("created_gte=yesterday", "created_gte"),
        ("created_gte=1700000000", "created_gte"),
        ("created_lt=2026-03-01", "created_lt"),
        ("colour=blue", "colour"),
    ],
)
def test_bad_parameters_get_400_naming_the_parameter(web, shop, query, param) -> None:
    error = _error(
        web.get(f"{API}/campaigns?{query}", headers=shop.auth()),
        400,
        "parameter_unknown" if param == "colour" else "parameter_invalid",
    )
    assert error["param"] == param and error["type"] == "invalid_request_error"


@pytest.mark.parametrize("bad", ["cmp_0", "cmp_x", "cs_1", "123", "cmp_9223372036854775808"])
def test_unknown_or_malformed_ids_are_404(web, shop, bad) -> None:
    _error(web.get(f"{API}/campaigns/{bad}", headers=shop.auth()), 404, "resource_missing")
    _error(web.post(f"{API}/campaigns/{bad}/pause", headers=shop.auth()), 404, "resource_missing")


def test_a_cursor_naming_no_object_is_404(web, shop) -> None:
    error = _error(
        web.get(f"{API}/events?starting_after=ev_999999", headers=shop.auth()),
        404,
        "resource_missing",
    )
    assert error["param"] == "starting_after"


def test_unknown_urls_and_methods_answer_in_the_api_shape(web, shop) -> None:
    _error(web.get(f"{API}/nothing-here", headers=shop.auth()), 404, "resource_missing")
    response = web.delete(f"{API}/campaigns", headers=shop.auth())
    _error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_customer_with_campaigns_sessions_and_winbacks(web, shop) -> None:
    body = web.get(f"{API}/customers/cus_a", headers=shop.auth()).get_json()
    assert body["id"] == "cus_a" and body["email"] == "cus_a@example.com"
    assert [c["id"] for c in body["campaigns"]] == [
        shop.ids["campaign_id"],
        shop.ids["lost_campaign_id"],
    ]
    assert [s["id"] for s in body["cancel_sessions"]] == [shop.ids["session_id"]]
    assert body["cancel_sessions"][0]["offer_accepted"] == {"type": "pause", "months": 1}
    assert [w["id"] for w in body["winback_campaigns"]] == [shop.ids["winback_id"]]
    _error(web.get(f"{API}/customers/cus_nobody", headers=shop.auth()), 404, "resource_missing")


def test_cancel_sessions_leave_simulations_out_and_filter_by_outcome(web, shop) -> None:
    seed.cancel_session(shop.workspace, "cus_a", is_simulation=True, outcome="saved")
    open_ = seed.cancel_session(shop.workspace, "cus_a")
    db.session.commit()
    listed = web.get(f"{API}/cancel_sessions", headers=shop.auth()).get_json()["data"]
    assert [s["id"] for s in listed] == [f"cs_{open_.id}", shop.ids["session_id"]]
    opened = web.get(f"{API}/cancel_sessions?status=open", headers=shop.auth()).get_json()
    assert [s["status"] for s in opened["data"]] == ["open"]
    one = web.get(f"{API}/cancel_sessions/{shop.ids['session_id']}", headers=shop.auth())
    assert one.get_json()["status"] == "saved"


def test_winback_campaigns_and_events(web, shop) -> None:
    wb = web.get(f"{API}/winback_campaigns?status=active", headers=shop.auth()).get_json()
    assert [w["id"] for w in wb["data"]] == [shop.ids["winback_id"]]
    assert (
        web.get(f"{API}/winback_campaigns?status=won", headers=shop.auth()).get_json()["data"] == []
    )
    one = web.get(f"{API}/winback_campaigns/{shop.ids['winback_id']}", headers=shop.auth())
    assert one.get_json()["mrr"] == 4900
    seed.event(shop.workspace, "cancel.session.saved", "session:1")
    db.session.commit()
    typed = web.get(f"{API}/events?type=recovery.campaign.started", headers=shop.auth())
    assert [e["id"] for e in typed.get_json()["data"]] == [shop.ids["event_id"]]
    event = web.get(f"{API}/events/{shop.ids['event_id']}", headers=shop.auth()).get_json()
    assert event["type"] == "recovery.campaign.started" and event["data"] == {"amount_minor": 2900}


def test_insights_per_currency_never_summed(web, shop) -> None:
    today = dt.datetime.now(dt.UTC).date()
    for currency, amount in (("usd", 5000), ("eur", 7000)):
        db.session.add(
            InsightDaily(
                workspace_id=shop.workspace.id,
                day=today,
                metric="recovered",
                key="retry",
                currency=currency,
                count=2,
                amount_minor=amount,
            )
        )
    db.session.add(
        InsightDaily(
            workspace_id=shop.workspace.id,
            day=today,
            metric="lost",
            key="",
            currency="usd",
            count=2,
            amount_minor=100,
        )
    )
    db.session.commit()
    body = web.get(f"{API}/insights?period=7", headers=shop.auth()).get_json()
    assert body["period_days"] == 7 and body["end"] == today.isoformat()
    recovered = body["metrics"]["recovered"]
    assert recovered["count"] == 4
    assert recovered["amounts"] == [
        {"currency": "eur", "amount": 7000, "count": 2},
        {"currency": "usd", "amount": 5000, "count": 2},
    ]
    assert body["recovery_rate"] == pytest.approx(4 / 6)
    assert body["at_risk"] == [{"currency": "usd", "campaigns": 1, "amount": 2900}]
    _error(web.get(f"{API}/insights?period=14", headers=shop.auth()), 400, "parameter_invalid")


# -- pause and resume one campaign -------------------------------------------------------------


def test_pause_cancels_the_campaigns_retries_and_resume_plans_again(web, shop) -> None:
    now = dt.datetime.now(dt.UTC)
    row = seed.campaign(shop.workspace, "cus_a", opened=now - dt.timedelta(hours=1))
    step = add_step(db.session, row, RETRY, now + dt.timedelta(days=2), "later")
    db.session.commit()
    url = f"{API}/campaigns/cmp_{row.id}"
    body = web.post(f"{url}/pause", headers=shop.auth()).get_json()
    assert body["is_paused"] is True and body["paused_at"] is not None
    db.session.refresh(step)
    assert step.status == "cancelled" and "API key bk_test_" in step.outcome_detail
    again = web.post(f"{url}/pause", headers=shop.auth())
    assert again.status_code == 200 and again.get_json()["paused_at"] == body["paused_at"]

    resumed = web.post(f"{url}/resume", headers=shop.auth()).get_json()
    assert resumed["is_paused"] is False
    planned = db.session.execute(
        select(func.count()).where(
            Step.campaign_id == row.id, Step.kind == RETRY, Step.status == PENDING
        )
    ).scalar_one()
    assert planned >= 1
    actions = db.session.execute(
        select(AuditEntry.action, AuditEntry.actor_label).order_by(AuditEntry.id)
    ).all()
    assert [a for a, _ in actions] == [
        "recovery.campaign.pause",
        "recovery.campaign.pause",
        "recovery.campaign.resume",
    ]
    assert all(label.startswith("API key bk_test_") for _, label in actions)


def test_a_closed_campaign_cannot_be_paused(web, shop) -> None:
    url = f"{API}/campaigns/{shop.ids['lost_campaign_id']}/pause"
    error = _error(web.post(url, headers=shop.auth()), 409, "resource_state_conflict")
    assert "lost" in error["message"]
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


# -- the document -----------------------------------------------------------------------------


def test_the_openapi_document_and_its_reference_page(web) -> None:
    spec = web.get(f"{API}/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    ops = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert {"list_campaigns", "pause_campaign", "retrieve_customer", "retrieve_insights"} <= ops
    page = web.get(f"{API}/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/campaigns/{campaign_id}/pause" in html and "<script" not in html
    assert 'id="schema-Campaign"' in html

"""``Idempotency-Key`` replays and refusals; the per-key rate limit (429, Retry-After)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from app.api.v1.models import IdempotentRequest
from app.audit.models import AuditEntry
from app.extensions import db
from app.recovery.models import Campaign

from . import seed

API = "/api/v1"


@pytest.fixture
def shop(ctx):
    made = seed.shop("Shop A", "cus_a")
    db.session.commit()
    return made


def _audits() -> int:
    return db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_same_key_same_request_replays_the_first_answer(web, shop) -> None:
    url = f"{API}/campaigns/{shop.ids['campaign_id']}/pause"
    headers = {**shop.auth(), "Idempotency-Key": "pause-1"}
    first = web.post(url, headers=headers)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    # Resumed by someone else meanwhile: the replay still answers what the pause did.
    web.post(f"{API}/campaigns/{shop.ids['campaign_id']}/resume", headers=shop.auth())
    replay = web.post(url, headers=headers)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json() and replay.get_json()["is_paused"] is True
    campaign = db.session.get(Campaign, int(shop.ids["campaign_id"][4:]))
    assert campaign.is_paused is False  # the replay did not pause again
    assert _audits() == 2  # pause, resume: nothing for the replay


def test_same_key_other_request_is_400_and_changes_nothing(web, shop) -> None:
    headers = {**shop.auth(), "Idempotency-Key": "k-1"}
    assert (
        web.post(f"{API}/campaigns/{shop.ids['campaign_id']}/pause", headers=headers).status_code
        == 200
    )
    other = web.post(f"{API}/campaigns/{shop.ids['campaign_id']}/resume", headers=headers)
    assert other.status_code == 400
    error = other.get_json()["error"]
    assert error["code"] == "idempotency_key_reused" and error["type"] == "idempotency_error"
    assert error["param"] == "Idempotency-Key"
    body = web.post(
        f"{API}/campaigns/{shop.ids['campaign_id']}/pause", headers=headers, data=b'{"x": 1}'
    )
    assert body.status_code == 400
    assert db.session.get(Campaign, int(shop.ids["campaign_id"][4:])).is_paused is True
    assert _audits() == 1


def test_a_refused_request_keeps_no_answer_and_keys_are_per_workspace(web, shop, ctx) -> None:
    other = seed.shop("Shop B", "cus_b")
    db.session.commit()
    headers = {"Idempotency-Key": "shared-key"}
    lost = web.post(
        f"{API}/campaigns/{shop.ids['lost_campaign_id']}/pause", headers={**shop.auth(), **headers}
    )
    assert lost.status_code == 409
    assert db.session.execute(select(func.count()).select_from(IdempotentRequest)).scalar_one() == 0
    ours = web.post(
        f"{API}/campaigns/{shop.ids['campaign_id']}/pause", headers={**shop.auth(), **headers}
    )
    theirs = web.post(
        f"{API}/campaigns/{other.ids['campaign_id']}/pause", headers={**other.auth(), **headers}
    )
    assert ours.status_code == theirs.status_code == 200
    assert ours.get_json()["id"] != theirs.get_json()["id"]


@pytest.mark.parametrize("key", ["", " padded", "x" * 256, "tab\there"])
def test_a_malformed_idempotency_key_is_400(web, shop, key) -> None:
    response = web.post(
        f"{API}/campaigns/{shop.ids['campaign_id']}/pause",
        headers={**shop.auth(), "Idempotency-Key": key},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "idempotency_key_invalid"
    assert db.session.get(Campaign, int(shop.ids["campaign_id"][4:])).is_paused is False


def test_an_answer_expires_after_24_hours(web, shop) -> None:
    url = f"{API}/campaigns/{shop.ids['campaign_id']}/pause"
    headers = {**shop.auth(), "Idempotency-Key": "old"}
    web.post(url, headers=headers)
    kept = db.session.execute(select(IdempotentRequest)).scalar_one()
    kept.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    again = web.post(f"{API}/campaigns/{shop.ids['campaign_id']}/resume", headers=headers)
    assert again.status_code == 200 and again.get_json()["is_paused"] is False


@pytest.fixture
def three_a_minute(app):
    settings = app.config["BACKSTOP"]
    app.config["BACKSTOP"] = dataclasses.replace(settings, api_rate_limit="3 per minute")
    yield
    app.config["BACKSTOP"] = settings


def test_each_key_has_its_own_budget_then_429_with_retry_after(web, shop, three_a_minute) -> None:
    url = f"{API}/campaigns"
    for _ in range(3):
        assert web.get(url, headers=shop.auth()).status_code == 200
    refused = web.get(url, headers=shop.auth())
    assert refused.status_code == 429
    assert refused.get_json()["error"]["type"] == "rate_limit_error"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # The budget is the key's, across every operation, not the address's.
    assert web.get(f"{API}/insights", headers=shop.auth()).status_code == 429
    assert web.get(url, headers=shop.auth(write=False)).status_code == 200
    # The description stays readable.
    assert web.get(f"{API}/openapi.json").status_code == 200


def test_requests_without_a_valid_key_are_refused_before_counting(
    web, shop, three_a_minute
) -> None:
    for _ in range(5):
        assert web.get(f"{API}/campaigns").status_code == 401
    assert web.get(f"{API}/campaigns", headers=shop.auth()).status_code == 200

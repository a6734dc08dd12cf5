"""The merchant's recovery pages: campaigns by state, the recovered figure, a campaign's
timeline, the customer page, the retry policy form with its preview, the pause switch."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.money import format_money
from app.recovery import config, planning, queries
from app.recovery.models import Campaign, ChargeAttempt, RecoverySettings, Step
from app.recovery.policy import DEFAULT_POLICY, LEGAL_MAXIMA
from app.stripe import mirror

from .. import factories as f
from ..forms import submit

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
_n = itertools.count(1)


def campaign(ws, *, state: str = "in_flight", opened: dt.datetime | None = None, **kw: Any):
    """A campaign row as the recovery loop leaves it (flushed, not committed)."""
    n = next(_n)
    opened = opened or NOW - DAY
    closed = kw.pop("closed_at", None if state == "in_flight" else NOW)
    row = Campaign(
        workspace_id=ws.id,
        invoice_stripe_id=kw.pop("invoice", f"in_page{n}"),
        customer_stripe_id=kw.pop("customer", f"cus_page{n}"),
        subscription_stripe_id=f"sub_page{n}",
        amount_minor=kw.pop("amount", 2900),
        currency=kw.pop("currency", "usd"),
        decline_code=kw.pop("code", "insufficient_funds"),
        decline_class=kw.pop("cls", "scheduled"),
        customer_tz=kw.pop("tz", "Europe/Paris"),
        state=state,
        opened_at=opened,
        last_failure_at=opened,
        window_ends_at=opened + 30 * DAY,
        closed_at=closed,
        recovered_minor=kw.pop("recovered", kw.get("amount_minor", 0)),
        **kw,
    )
    if state == "recovered" and not row.recovered_minor:
        row.recovered_minor = row.amount_minor
    db.session.add(row)
    db.session.flush()
    return row


def customer(ws, stripe_id: str, name: str) -> None:
    mirror.upsert(
        db.session,
        ws.id,
        {"id": stripe_id, "object": "customer", "name": name, "email": f"{stripe_id}@ex.com"},
        1,
    )


@pytest.fixture
def shop(web, ctx):
    owner = f.user("owner@shop.example")
    ws = f.workspace(owner, "Shop")
    ws.timezone = "Europe/Paris"
    f.connection(ws)
    viewer = f.member(ws, "viewer", "viewer@shop.example")
    db.session.commit()
    f.login(web, owner)
    return {"ws": ws, "owner": owner, "viewer": viewer}


def page(web, url: str, status: int = 200) -> str:
    response = web.get(url)
    assert response.status_code == status, (url, response.status_code)
    return unescape(response.get_data(as_text=True))


def tab_count(html: str, state: str) -> int:
    match = re.search(rf'data-tab="{state}">[^<]*<span class="count">(\d+)</span>', html)
    assert match, state
    return int(match.group(1))


# -- /recovery ------------------------------------------------------------------------------


def test_tabs_count_and_list_each_state_newest_first(web, shop) -> None:
    ws = shop["ws"]
    customer(ws, "cus_old", "Old Flight")
    customer(ws, "cus_new", "New Flight")
    campaign(ws, customer="cus_old", opened=NOW - 3 * DAY)
    campaign(ws, customer="cus_new", opened=NOW - DAY, amount=129900, currency="eur")
    campaign(ws, state="recovered", customer="cus_rec", attribution="card_update")
    campaign(ws, state="lost", customer="cus_lost", close_reason="30 days passed without payment")
    campaign(ws, state="abandoned", customer="cus_ab", close_reason="the merchant voided it")
    other = f.workspace(name="Other shop")
    campaign(other, customer="cus_theirs")
    db.session.commit()

    html = page(web, "/recovery")
    counts = {s: tab_count(html, s) for s in ("in_flight", "recovered", "lost", "abandoned")}
    assert counts == {"in_flight": 2, "recovered": 1, "lost": 1, "abandoned": 1}
    assert html.index("New Flight") < html.index("Old Flight")
    assert "1,299.00 EUR" in html and "29.00 USD" in html
    assert "insufficient_funds" in html and "Retried on a cadence" in html
    assert "cus_rec" not in html and "cus_theirs" not in html
    assert "cus_theirs" not in page(web, "/recovery?state=in_flight&page=2")

    recovered = page(web, "/recovery?state=recovered")
    assert "cus_rec" in recovered and "Card update" in recovered and "Old Flight" not in recovered
    assert "30 days passed without payment" in page(web, "/recovery?state=lost")
    assert "The merchant voided it" in page(web, "/recovery?state=abandoned")
    page(web, "/recovery?state=everything", 400)


def test_empty_tabs_explain_themselves(web, shop) -> None:
    html = page(web, "/recovery")
    assert "No failed payment is being recovered right now" in html
    assert tab_count(html, "in_flight") == 0
    assert "Nothing recovered in the last 30 days yet" in html
    assert "No campaign lost" in page(web, "/recovery?state=lost")


def test_pages_of_campaigns(shop) -> None:
    ws = shop["ws"]
    rows = [campaign(ws, opened=NOW - i * DAY) for i in range(5)]
    first = queries.campaigns(db.session, ws.id, "in_flight", page=1, per_page=2)
    last = queries.campaigns(db.session, ws.id, "in_flight", page=3, per_page=2)
    assert [r.campaign.id for r in first.rows] == [rows[0].id, rows[1].id] and first.has_more
    assert [r.campaign.id for r in last.rows] == [rows[4].id] and not last.has_more


def test_recovered_in_30_days_sums_per_currency_and_drops_older(web, shop) -> None:
    ws = shop["ws"]
    campaign(ws, state="recovered", amount=4900, closed_at=NOW - 5 * DAY)
    campaign(ws, state="recovered", amount=1000, closed_at=NOW - 29 * DAY)
    campaign(ws, state="recovered", amount=99900, closed_at=NOW - 31 * DAY)
    campaign(ws, state="recovered", amount=2000, currency="eur", closed_at=NOW - DAY)
    campaign(ws, state="lost", amount=7700, closed_at=NOW - DAY)
    campaign(ws, amount=8800)
    campaign(f.workspace(), state="recovered", amount=5000, closed_at=NOW - DAY)
    db.session.commit()

    assert queries.recovered_since(db.session, ws.id, now=NOW) == [
        queries.Money(2000, "eur"),
        queries.Money(5900, "usd"),
    ]
    html = page(web, "/recovery")
    figure = html[html.index('data-figure="recovered-30d"') : html.index('data-figure="at-stake"')]
    assert "59.00 USD" in figure and "20.00 EUR" in figure
    assert "999" not in figure and "1,058.00" not in figure and "77.00" not in figure
    assert "88.00 USD" in html[html.index('data-figure="at-stake"') :]


def test_next_planned_step_is_shown_for_open_campaigns(web, shop) -> None:
    ws = shop["ws"]
    row = campaign(ws, opened=dt.datetime(2026, 3, 6, 14, 30, tzinfo=dt.UTC))
    planning.add_step(db.session, row, "retry", dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC), "r")
    planning.add_window_end(db.session, row)
    db.session.commit()
    html = page(web, "/recovery")
    assert "Mon 9 Mar 2026, 10:00" in html  # 09:00 UTC is 10:00 in Paris


# -- one campaign -----------------------------------------------------------------------------


def test_campaign_timeline_shows_past_and_planned_steps_with_their_reasons(web, shop) -> None:
    ws = shop["ws"]
    customer(ws, "cus_ada", "Ada Lovelace")
    opened = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    row = campaign(ws, customer="cus_ada", opened=opened, amount=4900, card_brand="visa")
    db.session.add(
        ChargeAttempt(
            workspace_id=ws.id,
            campaign_id=row.id,
            invoice_stripe_id=row.invoice_stripe_id,
            charge_stripe_id="ch_first",
            at=opened,
            source="stripe",
            decline_code="insufficient_funds",
        )
    )
    done = planning.add_step(db.session, row, "retry", opened + DAY, "why: one day later")
    done.status, done.outcome, done.outcome_detail = "done", "declined", "do_not_honor now"
    done.executed_at = opened + DAY + dt.timedelta(minutes=1)
    planning.add_step(db.session, row, "retry", opened + 14 * DAY, "why: the fifteenth is payday")
    gone = planning.add_step(db.session, row, "retry", opened + 7 * DAY, "why: a week later")
    gone.status, gone.outcome, gone.outcome_detail = "cancelled", "cancelled", "paused by x"
    planning.add_window_end(db.session, row)
    db.session.commit()

    entries = queries.timeline(db.session, row)
    assert [(e.kind, e.status) for e in entries] == [
        ("stripe_attempt", "done"),
        ("retry", "done"),
        ("retry", "cancelled"),
        ("retry", "pending"),
        ("window_end", "pending"),
    ]
    html = page(web, f"/recovery/campaigns/{row.id}")
    order = [
        "Stripe charged the card",
        "why: one day later",
        "Declined: do_not_honor now",
        "why: a week later",
        "Cancelled: paused by x",
        "why: the fifteenth is payday",
        "the 30-day recovery window ends",
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert "Planned" in html and "49.00 USD from Ada Lovelace" in html
    assert 'href="/customers/cus_ada"' in html
    assert "Tue 3 Mar 2026, 09:01" in html  # executed_at, in the workspace's timezone


def test_a_closed_campaign_ends_its_timeline_with_the_close(web, shop) -> None:
    row = campaign(shop["ws"], state="recovered", attribution="retry", close_reason="paid")
    db.session.commit()
    html = page(web, f"/recovery/campaigns/{row.id}")
    assert "Campaign recovered" in html and "Backstop retry" in html


def test_another_workspaces_campaign_is_not_found(web, shop) -> None:
    theirs = campaign(f.workspace(name="Theirs"), customer="cus_secret")
    db.session.commit()
    assert web.get(f"/recovery/campaigns/{theirs.id}").status_code == 404
    assert web.get("/recovery/campaigns/999999").status_code == 404


def test_customer_page_lists_every_campaign_of_the_customer(web, shop) -> None:
    ws = shop["ws"]
    customer(ws, "cus_many", "Many Failures")
    first = campaign(ws, customer="cus_many", state="lost", opened=NOW - 60 * DAY)
    second = campaign(ws, customer="cus_many", state="recovered", attribution="retry")
    third = campaign(ws, customer="cus_many")
    campaign(ws, customer="cus_someone_else")
    db.session.commit()
    html = page(web, "/customers/cus_many")
    links = re.findall(r'href="/recovery/campaigns/(\d+)"', html)
    assert links == [str(third.id), str(second.id), str(first.id)]


# -- the stripe-managed warning and the checklist -----------------------------------------------


def test_stripe_retries_warning_and_the_campaign_step(web, shop) -> None:
    ws = shop["ws"]
    overview = page(web, "/dashboard")
    assert "Smart Retries" not in overview and "Smart Retries" not in page(web, "/recovery")
    assert 'data-step="campaign">\n      <span class="tick "' in overview

    campaign(ws, state="lost", is_stripe_managed=True, opened=NOW - 40 * DAY)
    db.session.commit()
    assert "Smart Retries" not in page(web, "/dashboard")  # an old one says nothing now
    overview = page(web, "/dashboard")
    assert 'data-step="campaign">\n      <span class="tick done"' in overview

    campaign(ws, is_stripe_managed=True)
    db.session.commit()
    for url in ("/dashboard", "/recovery"):
        html = page(web, url)
        assert "Turn off Smart Retries in Stripe's Billing settings" in html
        assert "only counts Stripe's attempts" in html


# -- the retry policy -------------------------------------------------------------------------


def policy_fields(**changes: str) -> dict[str, str]:
    fields = {
        "cadence-0-code": "default",
        "cadence-0-steps": "3d, 5d, 7d",
        "cadence-1-code": "insufficient_funds",
        "cadence-1-steps": "1d, payday, 7d, 14d",
        "immediate": "10m, 1h, 4h",
        **{name: str(value) for name, value in LEGAL_MAXIMA.items()},
    }
    return {**fields, **changes}


def stored(ws) -> dict | None:
    db.session.expire_all()
    return db.session.execute(
        select(RecoverySettings.policy).where(RecoverySettings.workspace_id == ws.id)
    ).scalar_one_or_none()


def test_a_valid_policy_is_saved_and_shown(web, shop) -> None:
    ws = shop["ws"]
    response = submit(
        web,
        "/settings/recovery",
        policy_fields(
            **{
                "cadence-1-steps": "2d, payday, 1d12h",
                "cadence-2-code": "try_again_later",
                "cadence-2-steps": "12h, 2 days",
                "override-0-code": "generic_decline",
                "override-0-class": "immediate",
                "max_auto_retries": "3",
                "immediate": "5m",
            }
        ),
    )
    assert response.status_code == 302
    policy = config.policy_for(db.session, ws.id)
    assert policy.cadences["insufficient_funds"] == (2 * DAY, "payday", dt.timedelta(hours=36))
    assert policy.cadences["try_again_later"] == (dt.timedelta(hours=12), 2 * DAY)
    assert "do_not_honor" not in policy.cadences  # not submitted: removed
    assert policy.overrides == {"generic_decline": "immediate"}
    assert policy.max_auto_retries == 3
    assert policy.immediate_offsets == (dt.timedelta(minutes=5),)
    html = page(web, "/settings/recovery")
    assert 'value="2d, payday, 1d12h"' in html and 'value="12h, 2d"' in html
    assert 'name="max_auto_retries" value="3"' in html

    assert submit(web, "/settings/recovery/reset", {}, page="/settings/recovery").status_code == 302
    assert config.policy_for(db.session, ws.id) == DEFAULT_POLICY


def test_a_cap_above_the_legal_maximum_is_refused_and_nothing_changes(web, shop) -> None:
    ws = shop["ws"]
    submit(web, "/settings/recovery", policy_fields(max_auto_retries="2"))
    before = stored(ws)
    response = submit(
        web,
        "/settings/recovery",
        policy_fields(max_attempts_per_invoice_30d="7", visa_max_30d="16", max_auto_retries="3"),
    )
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert "Nothing was saved" in html
    assert "Max attempts per invoice 30d is 7, above the legal maximum of 6" in html
    assert "Visa max 30d is 16, above the legal maximum of 15" in html
    assert 'value="7"' in html  # the merchant's input is kept to fix
    assert stored(ws) == before and before["max_auto_retries"] == 2


def test_bad_durations_are_refused_with_every_problem_at_once(web, shop) -> None:
    ws = shop["ws"]
    response = submit(
        web,
        "/settings/recovery",
        policy_fields(**{"cadence-1-steps": "1d, soonish", "mastercard_max_24h": "11"}),
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Cadence for insufficient_funds: &#34;soonish&#34; is not a duration" in html
    assert "mastercard max 24h is 11, above the legal maximum of 10" in html.lower()
    assert 'aria-invalid="true" class="invalid"' in html
    assert stored(ws) is None


def test_preview_plans_retries_at_ten_local_on_weekdays(web, shop) -> None:
    html = page(
        web,
        "/settings/recovery?code=insufficient_funds&brand=visa&tz=America/New_York"
        "&at=2026-03-06T15:30",
    )
    plan = html[html.index('id="preview-plan"') :]
    times = re.findall(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d+ \w+ \d{4}), (\d\d:\d\d)", plan)
    assert len(times) == 3
    assert all(weekday not in ("Sat", "Sun") and hhmm == "10:00" for weekday, _, hhmm in times)
    assert [day for _, day, _ in times] == ["9 Mar 2026", "16 Mar 2026", "23 Mar 2026"]
    assert "moved past the weekend" in plan and "next payday" in plan

    assert "Visa: at most 15 attempts on one card in 30 days" in html

    mastercard = page(web, "/settings/recovery?code=do_not_honor&brand=mastercard&tz=UTC")
    assert "Mastercard: at most 10 attempts on one card in 24 hours" in mastercard
    visa_cat1 = page(web, "/settings/recovery?code=transaction_not_allowed&brand=visa")
    assert "No retries on this card: Visa category 1 decline" in visa_cat1
    assert 'id="preview-plan"' in page(
        web, "/settings/recovery?code=transaction_not_allowed&brand=amex"
    )
    assert "No retries on this card" in page(web, "/settings/recovery?code=stolen_card")
    assert "No automatic retries" in page(web, "/settings/recovery?code=expired_card")
    page(web, "/settings/recovery?tz=Mars/Olympus", 400)
    page(web, "/settings/recovery?at=yesterday", 400)
    page(web, "/settings/recovery?code=%3Cscript%3E", 400)


def test_preview_uses_the_saved_policy(web, shop) -> None:
    submit(web, "/settings/recovery", policy_fields(**{"cadence-1-steps": "2d"}))
    html = page(web, "/settings/recovery?code=insufficient_funds&tz=UTC&at=2026-03-02T08:00")
    plan = html[html.index('id="preview-plan"') :]
    assert plan.count("<tr><td>") == 1 and "Wed 4 Mar 2026, 10:00" in plan


# -- pause and resume -------------------------------------------------------------------------


def planned(row) -> list[Step]:
    db.session.expire_all()
    return list(
        db.session.execute(select(Step).where(Step.campaign_id == row.id, Step.kind == "retry"))
        .scalars()
        .all()
    )


def test_pause_cancels_the_plan_and_resume_plans_again(web, shop) -> None:
    ws = shop["ws"]
    row = campaign(ws)
    planning.replan(db.session, row, now=NOW, policy=DEFAULT_POLICY, paused=None)
    db.session.commit()
    assert {s.status for s in planned(row)} == {"pending"}
    assert "paused" not in page(web, "/recovery").lower().split("pause all recovery")[1]

    response = submit(web, "/recovery/pause", {}, page="/recovery")
    assert response.status_code == 302
    steps = planned(row)
    assert steps and {s.status for s in steps} == {"cancelled"}
    assert {s.outcome_detail for s in steps} == {"recovery paused by owner@shop.example"}
    html = page(web, "/recovery")
    assert "Recovery is paused for this workspace." in html and "owner@shop.example" in html
    assert "Resume" in html

    response = submit(web, "/recovery/resume", {"back": "settings"}, page="/recovery")
    assert response.status_code == 302 and response.location.endswith("/settings/recovery")
    assert any(s.status == "pending" for s in planned(row))
    assert 'data-banner="paused"' not in page(web, "/recovery")


def test_a_service_wide_pause_shows_on_the_page(web, shop) -> None:
    config.set_paused(db.session, None, True, actor="oncall", now=NOW)
    db.session.commit()
    html = page(web, "/recovery")
    assert "Recovery is paused for the whole service" in html
    assert 'data-banner="paused"' in html


def test_viewers_see_read_only_pages_and_cannot_change_anything(web, shop) -> None:
    ws = shop["ws"]
    row = campaign(ws)
    planning.replan(db.session, row, now=NOW, policy=DEFAULT_POLICY, paused=None)
    db.session.commit()
    f.login(web, shop["viewer"])
    html = page(web, "/settings/recovery")
    assert "Save retry policy" not in html and "disabled" in html
    assert "Pause all recovery" not in html and "Reset to defaults" not in html
    assert "Pause all recovery" not in page(web, "/recovery")
    page(web, f"/recovery/campaigns/{row.id}")
    for url, data in [
        ("/settings/recovery", policy_fields(max_auto_retries="1")),
        ("/settings/recovery/reset", {}),
        ("/recovery/pause", {}),
        ("/recovery/resume", {}),
    ]:
        assert submit(web, url, data, page="/recovery").status_code == 403, url
    assert stored(ws) is None
    assert {s.status for s in planned(row)} == {"pending"}


# -- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (123456, "usd", "1,234.56 USD"),
        (5, "eur", "0.05 EUR"),
        (500000, "jpy", "500,000 JPY"),
        (1234, "kwd", "1.234 KWD"),
        (-2900, "usd", "-29.00 USD"),
        (0, "gbp", "0.00 GBP"),
    ],
)
def test_money_is_formatted_from_minor_units(minor, currency, text) -> None:
    assert format_money(minor, currency) == text


def test_pause_shows_only_once_there_is_something_to_pause(web, ctx) -> None:
    owner = f.user("owner@pausable.example")
    ws = f.workspace(owner, "Pausable")
    db.session.commit()
    f.login(web, owner)
    assert "Pause all recovery" not in page(web, "/recovery")  # not connected
    f.connection(ws)
    db.session.commit()
    assert "Pause all recovery" not in page(web, "/recovery")  # nothing open
    assert "Pause all recovery" not in page(web, "/settings/recovery")
    campaign(ws)
    db.session.commit()
    assert "Pause all recovery" in page(web, "/recovery")
    assert "Pause all recovery" in page(web, "/settings/recovery")

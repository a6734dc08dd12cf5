"""The overview: set-up checklist, the banner, import progress."""

from __future__ import annotations

from app.dashboard import checklist
from app.extensions import db

from .. import factories as f
from ..forms import submit


def facts(**kw) -> checklist.Facts:
    base = {
        "stripe_connected": False,
        "send_domain_verified": False,
        "cancel_flow_published": False,
        "portal_cancel_disabled": False,
        "has_campaign": False,
    }
    return checklist.Facts(**{**base, **kw})


def test_checklist_ticks_from_facts_and_ignores_optional_steps_in_progress() -> None:
    steps = checklist.steps(facts(stripe_connected=True, send_domain_verified=True))
    assert [s.key for s in steps] == ["stripe", "send_domain", "cancel_flow", "portal", "campaign"]
    assert {s.key for s in steps if s.done} == {"stripe", "send_domain"}
    assert checklist.progress(steps) == (1, 4)
    assert [s.key for s in steps if s.manual] == ["portal"]


def test_warnings_while_stripe_retries_itself_or_a_send_domain_waits() -> None:
    assert checklist.warnings(facts()) == []
    [(key, warning)] = checklist.warnings(facts(stripe_retries_on=True))
    assert key == "stripe-retries"
    assert "Smart Retries" in warning and "decline-aware retries take over" in warning
    assert checklist.steps(facts(has_campaign=True))[-1].done
    [(key, warning)] = checklist.warnings(facts(unverified_domain="mail.shop.example"))
    assert key == "send-domain" and "on hold" in warning and "mail.shop.example" in warning


def test_an_unverified_send_domain_shows_on_the_overview(web, ctx) -> None:
    from app.outbox.models import SendDomain

    owner = f.user()
    ws = f.workspace(owner)
    db.session.add(SendDomain(workspace_id=ws.id, domain="mail.shop.example"))
    db.session.commit()
    f.login(web, owner)
    page = web.get("/dashboard").get_data(as_text=True)
    assert 'data-warning="send-domain"' in page and "mail.shop.example" in page


def test_navigation_has_recovery_and_the_retry_policy(web, ctx) -> None:
    owner = f.user()
    f.workspace(owner)
    db.session.commit()
    f.login(web, owner)
    page = web.get("/dashboard").get_data(as_text=True)
    nav = page[page.index("<nav>") : page.index("</nav>")]
    assert 'href="/recovery"' in nav and 'href="/settings/recovery"' in nav
    assert "Retry policy" in nav and nav.index("Settings") < nav.index("Retry policy")


def test_overview_banner_until_connected_and_import_progress(web, ctx) -> None:
    owner = f.user()
    ws = f.workspace(owner)
    db.session.commit()
    f.login(web, owner)
    page = web.get("/dashboard").get_data(as_text=True)
    assert "Backstop does nothing until Stripe is connected" in page
    assert web.get("/dashboard/import-status").json == {"status": "none"}
    conn = f.connection(ws)
    conn.import_status = "running"
    conn.import_progress = {
        "customers": {"count": 40, "done": True, "cursor": "cus_x"},
        "subscriptions": {"count": 10, "done": False, "cursor": "sub_x"},
    }
    db.session.commit()
    status = web.get("/dashboard/import-status").json
    assert status["status"] == "running" and status["percent"] == 50  # 1.5 of 3 phases
    assert (status["phase"], status["step"], status["steps"]) == ("subscriptions", 2, 3)
    assert status["counts"] == {"customers": 40, "subscriptions": 10, "invoices": 0}
    page = web.get("/dashboard").get_data(as_text=True)
    assert 'role="progressbar"' in page and "Stripe is connected" not in page
    assert "Backstop does nothing until" not in page


def test_portal_step_is_ticked_by_hand_by_admins_only(web, ctx) -> None:
    owner = f.user()
    ws = f.workspace(owner)
    viewer = f.member(ws, "viewer")
    db.session.commit()
    f.login(web, viewer)
    assert (
        submit(web, "/dashboard/checklist/portal", {"done": "1"}, page="/dashboard").status_code
        == 403
    )
    f.login(web, owner)
    assert (
        submit(web, "/dashboard/checklist/portal", {"done": "1"}, page="/dashboard").status_code
        == 302
    )
    db.session.refresh(ws)
    assert ws.is_portal_cancel_disabled


def test_import_summary_moves_within_a_phase() -> None:
    from app.stripe.connection import import_summary

    assert import_summary({}, "pending")["percent"] == 0
    started = import_summary({"customers": {"count": 5, "done": False}}, "running")
    assert (started["percent"], started["phase"], started["step"]) == (17, "customers", 1)
    two = import_summary(
        {"customers": {"count": 5, "done": True}, "subscriptions": {"count": 0, "done": True}},
        "running",
    )
    assert (two["percent"], two["phase"]) == (67, "invoices")
    assert import_summary({}, "done")["percent"] == 100

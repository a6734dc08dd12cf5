"""The cancel flow in headless Chromium, on a phone-sized screen, against the sandbox.

The law (FTC click-to-cancel, California's ARL, the EU's cancel button) in one test:
for every template, from every step a customer can reach, "Cancel anyway" is on the
screen without scrolling, enabled, and one tap cancels the subscription in Stripe.
The app is served for real (threaded werkzeug, tasks in-process); the links come from
``POST /api/embed/cancel`` signed as a merchant's server signs them.
"""

from __future__ import annotations

from typing import Any

import pytest

from .cancel_site import CancelSite

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
PHONE = {"width": 390, "height": 700}


def live_flow(site: CancelSite, template: str) -> dict[str, Any]:
    """``template`` made the workspace's only live flow, with the merchant's own link and
    plan filled in where the template asks for them; returns its definition."""
    import copy

    from app.extensions import db
    from app.retain import drafts, flows

    for flow in flows.flows_of(db.session, site.shop.workspace.id):
        flows.archive(db.session, flow, actor_id=None, actor_label="test", now=site.shop.now)
    flow = flows.create_from_template(
        db.session,
        site.shop.workspace.id,
        template,
        actor_id=None,
        actor_label="test",
        support_email="help@shop.example",
    )
    for step in flow.draft["steps"]:
        offer = step.get("offer") or {}
        if offer.get("type") == "book_call" or offer.get("type") == "plan_switch":
            step = copy.deepcopy(step)
            step["offer"]["url" if offer["type"] == "book_call" else "price"] = (
                "https://shop.example/call" if offer["type"] == "book_call" else site.cheaper_price
            )
            drafts.update_step(db.session, flow, step)
    if not flows.versions_of(db.session, flow):
        flows.publish(db.session, flow, actor_id=None, actor_label="test")
    flows.set_targeting(db.session, flow, is_default=True, price_ids=[], share_percent=100)
    db.session.commit()
    return flow.draft


def paths(definition: dict[str, Any]) -> dict[str, list[tuple[str, str | None]]]:
    """For each step, the shortest walk that reaches it: (step id, reason key or None)."""
    from app.retain import definition as d

    first = d.first_step(definition)["id"]
    found: dict[str, list[tuple[str, str | None]]] = {first: []}
    queue = [first]
    while queue:
        step = d.steps_by_id(definition)[queue.pop(0)]
        if step["kind"] == "confirm":
            continue
        moves = [
            (r["key"], d.next_step(definition, step["id"], reason_key=r["key"]))
            for r in step.get("reasons", [])
        ]
        if step["kind"] != "survey":
            moves = [(None, d.next_step(definition, step["id"]))]
        for reason, target in moves:
            if target["id"] not in found:
                found[target["id"]] = [*found[step["id"]], (step["id"], reason)]
                queue.append(target["id"])
    return found


def walk(page: Any, definition: dict[str, Any], route: list[tuple[str, str | None]]) -> None:
    from playwright.sync_api import expect

    from app.retain import definition as d

    for step_id, reason in route:
        step = d.steps_by_id(definition)[step_id]
        expect(page.locator(f'input[name="step"][value="{step_id}"]').first).to_be_attached()
        if step["kind"] == "survey":
            label = d.reason(step, reason)["label"]
            page.get_by_label(label, exact=True).check()
            page.locator("#survey").get_by_role("button", name="Continue").click()
        elif step["kind"] == "offer":
            page.get_by_role("button", name="No thanks").click()
        else:
            page.get_by_role("button", name="Continue").click()


TEMPLATES = [
    "saas_standard", "pause_instead", "annual_upsell", "discount_ladder", "downgrade_first",
    "agency_pro_service", "fitness_wellness", "b2b_account_teams", "student_nonprofit",
    "seasonal_pause", "usage_based", "feedback_only",
]  # fmt: skip


@pytest.mark.parametrize("template", TEMPLATES)
def test_from_every_step_one_tap_cancels(
    cancel_site: CancelSite, chromium_browser: Any, template: str
) -> None:
    site, browser = cancel_site, chromium_browser
    from playwright.sync_api import expect

    from app.retain import definition as d

    definition = live_flow(site, template)
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        for step_id, route in paths(definition).items():
            sub = site.shop.subscribe("pm_card_visa")
            page.goto(site.link(sub))
            walk(page, definition, route)
            final = d.steps_by_id(definition)[step_id]["kind"] == "confirm"
            button = page.get_by_role(
                "button", name="Cancel subscription" if final else "Cancel anyway"
            )
            expect(button).to_be_visible()
            expect(button).to_be_enabled()
            box = button.bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["height"], (
                template,
                step_id,
                box,
            )
            button.click()
            expect(page.locator("#outcome")).to_have_attribute("data-state", "cancelled")
            expect(
                page.get_by_role("heading", name="Your subscription is cancelled")
            ).to_be_visible()
            stripe_sub = site.shop.client.v1.subscriptions.retrieve(sub.id)
            assert stripe_sub.cancel_at_period_end is True, (template, step_id)
    finally:
        context.close()
    assert not errors, errors

"""Cancel flows in the dashboard, in headless Chromium: a template goes live in one
click, the flow is drawn as a graph, clicking the offer's box opens its form, and the
preview beside it follows what is typed before anything is saved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import CHROMIUM_ARGS, log_in, serve_dashboard

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


@pytest.fixture
def live(tmp_path, sandbox_url: str) -> Iterator[str]:
    with serve_dashboard(tmp_path, sandbox_url, "owner@gym.example", "Harbour Gym") as (url, _):
        yield url


def test_a_template_goes_live_and_the_offer_is_edited_with_a_live_preview(live, chromium) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log_in(page, live, "owner@gym.example")

        checklist = page.locator('li[data-step="cancel_flow"]')
        expect(checklist.locator(".tick")).not_to_have_class("tick done")
        page.get_by_role("link", name="Cancel flows").click()
        page.get_by_role("link", name="New flow").click()
        page.locator('button[data-template="saas_standard"]').click()
        expect(
            page.get_by_text("SaaS Standard is live: version 1 at 100 % traffic.")
        ).to_be_visible()
        expect(page.get_by_text("Version 1 is the draft as it stands.")).to_be_visible()

        graph = page.get_by_role("img", name="Steps of SaaS Standard")
        # No support address in this workspace: the template leaves its support offer out.
        expect(graph.locator("a.node")).to_have_count(5)
        graph.locator('a[data-step="offer_discount"]').click()
        expect(page.get_by_role("heading", name="Offer step offer_discount")).to_be_visible()
        preview = page.frame_locator("#step-preview")
        expect(preview.get_by_text("25 % off for 3 months")).to_be_visible()
        expect(preview.get_by_role("button", name="Cancel anyway")).to_be_visible()

        page.locator("#f-percent").fill("30")
        page.locator("#f-accept").fill("Take 30 % off")
        expect(preview.get_by_text("30 % off for 3 months")).to_be_visible()
        expect(preview.get_by_role("button", name="Take 30 % off")).to_be_visible()
        expect(preview.locator(".saving")).to_have_text("You save 26.10 USD")
        page.locator("#f-type").select_option("pause")
        expect(page.locator("#f-percent")).to_be_hidden()
        page.locator("#f-type").select_option("discount")
        page.get_by_role("button", name="Save step").click()
        expect(page.get_by_text("Step saved.")).to_be_visible()
        page.screenshot(path="/tmp/cancel_builder.png", full_page=True)

        page.get_by_role("button", name="Publish version 2").click()
        expect(page.get_by_text("Published version 2 at 100 % traffic.")).to_be_visible()
        page.get_by_label("Traffic for version 1").fill("50")
        page.get_by_label("Traffic for version 2").fill("50")
        page.get_by_role("button", name="Save the split").click()
        expect(page.get_by_text("Traffic split saved.")).to_be_visible()

        page.get_by_role("link", name="Overview").click()
        expect(checklist.locator(".tick")).to_have_class("tick done")
        assert not errors, errors
        browser.close()

"""Settings → Win back in headless Chromium: one email and reason's copy shown at a time,
the emails offered follow the sequence, and the live preview follows the copy typed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import CHROMIUM_ARGS, log_in, serve_dashboard

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


@pytest.fixture
def live(tmp_path, sandbox_url: str) -> Iterator[str]:
    with serve_dashboard(tmp_path, sandbox_url, "owner@pottery.example", "Pottery Barn") as (
        base_url,
        _,
    ):
        yield base_url


def test_switching_email_and_reason_and_the_preview_follow_the_copy(live, chromium) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        log_in(page, live, "owner@pottery.example")
        page.goto(live + "/settings/winback")

        subject = page.locator("#preview-subject")
        frame = page.frame_locator("#preview-frame")
        expect(subject).to_have_text("A better price to come back to Pottery Barn")
        expect(page.locator("#copy-1-too_expensive-subject")).to_be_visible()
        expect(page.locator("#copy-1-switched-subject")).to_be_hidden()

        page.locator("#copy-reason").select_option("switched")
        expect(page.locator("#copy-1-switched-subject")).to_be_visible()
        expect(page.locator("#copy-1-too_expensive-subject")).to_be_hidden()
        expect(subject).to_have_text("How Pottery Barn compares")

        # Two emails by default: the third can't be chosen until it has days.
        expect(page.locator('#copy-touch option[value="3"]')).to_be_disabled()
        page.locator("#copy-touch").select_option("2")
        expect(page.locator("#copy-2-switched-subject")).to_be_visible()
        expect(page.locator("#copy-2-switched-subject")).to_have_attribute(
            "placeholder", "Still thinking about {merchant}?"
        )
        page.locator("#delay_3").fill("10")
        expect(page.locator("#copy-2-switched-subject")).to_have_attribute(
            "placeholder", "Still thinking about {merchant}?"
        )
        page.locator("#copy-touch").select_option("3")
        expect(page.locator("#copy-3-switched-subject")).to_be_visible()
        expect(subject).to_have_text("Last chance to restart Pro at Pottery Barn")

        page.locator("#copy-3-switched-subject").fill("{name}, one last word from {merchant}")
        expect(subject).to_have_text("Jordan, one last word from Pottery Barn")
        page.locator("#copy-3-switched-message").fill("Back to {plan}, {nickname}?")
        expect(page.locator("#preview-warning")).to_contain_text("unknown placeholder {nickname}")
        page.locator("#copy-3-switched-message").fill("Back to {plan} at {price}?")
        expect(page.locator("#preview-warning")).to_be_hidden()
        expect(frame.get_by_text("Back to Pro at $49.00 a month?")).to_be_visible()

        page.locator("#offer_percent").fill("30")
        page.locator("#offer_months").fill("2")
        page.get_by_role("radio", name="Everyone").check()
        expect(frame.get_by_text("30% off for 2 months")).to_be_visible()

        # The test send itself is covered over HTTP (this served app runs no email task).
        expect(page.get_by_role("button", name="Send me a test")).to_be_visible()
        page.screenshot(path="/tmp/winback_settings_preview.png", full_page=True)

        page.get_by_role("button", name="Save win-back settings").click()
        expect(page.get_by_text("Win-back settings saved")).to_be_visible()
        expect(page.locator("#delay_3")).to_have_value("10")
        expect(page.locator("#copy-3-switched-subject")).to_have_value(
            "{name}, one last word from {merchant}"
        )
        browser.close()

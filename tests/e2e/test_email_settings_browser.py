"""Settings → Emails in headless Chromium: the touches follow the chosen sequence, and
the live preview follows the copy being typed, the touch and the decline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import CHROMIUM_ARGS, log_in, serve_dashboard

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


@pytest.fixture
def live(tmp_path, sandbox_url: str) -> Iterator[str]:
    with serve_dashboard(tmp_path, sandbox_url, "owner@yoga.example", "Yoga Loft") as (base_url, _):
        yield base_url


def test_the_preview_follows_the_copy_the_touch_and_the_decline(live, chromium) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        log_in(page, live, "owner@yoga.example")
        page.goto(live + "/settings/emails")

        subject = page.locator("#preview-subject")
        frame = page.frame_locator("#preview-frame")
        expect(subject).to_have_text("Your Yoga Loft payment didn't go through")
        expect(frame.get_by_text("lack of funds")).to_be_visible()
        expect(page.locator('fieldset[data-touch="d30"]')).to_be_hidden()
        expect(page.locator("#pause-row")).to_be_hidden()

        page.get_by_role("radio", name="Extended").check()
        expect(page.locator('fieldset[data-touch="d30"]')).to_be_visible()
        expect(page.locator("#pause-row")).to_be_visible()

        page.locator("#copy-d7-subject").fill("{name}, a quick word about {merchant}")
        expect(page.locator("#preview-touch")).to_have_value("d7")
        expect(subject).to_have_text("Jordan, a quick word about Yoga Loft")
        page.locator("#preview-variant").select_option("authentication_required")
        expect(frame.get_by_role("link", name="Confirm the payment")).to_be_visible()
        page.locator("#copy-d7-message").fill("See you soon, {nickname}")
        expect(page.locator("#preview-warning")).to_contain_text("unknown placeholder {nickname}")
        page.screenshot(path="/tmp/email_settings_preview.png", full_page=True)

        page.locator("#copy-d7-message").fill("See you soon, {name}")
        expect(page.locator("#preview-warning")).to_be_hidden()
        page.get_by_role("button", name="Save email settings").click()
        expect(page.get_by_text("Email settings saved")).to_be_visible()
        expect(page.get_by_role("radio", name="Extended")).to_be_checked()
        expect(page.locator("#copy-d7-subject")).to_have_value(
            "{name}, a quick word about {merchant}"
        )
        browser.close()


def test_a_b_subject_is_previewed_saved_and_its_test_shown(live, chromium) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        log_in(page, live, "owner@yoga.example")
        page.goto(live + "/settings/emails")

        subject = page.locator("#preview-subject")
        page.locator("#copy-d3-subject").fill("A word from {merchant}")
        expect(subject).to_have_text("A word from Yoga Loft")
        page.locator("#copy-d3-subject_b").fill("{name}, your card needs a look")
        expect(page.locator("#preview-subject-label")).to_have_text("Subject B:")
        expect(subject).to_have_text("Jordan, your card needs a look")
        page.locator("#copy-d3-message").focus()  # back to the touch's own subject
        expect(page.locator("#preview-subject-label")).to_have_text("Subject:")
        expect(subject).to_have_text("A word from Yoga Loft")

        page.get_by_role("button", name="Save email settings").click()
        expect(page.get_by_text("Email settings saved")).to_be_visible()
        panel = page.locator("#subject-test-d3")
        expect(panel).to_contain_text("A/B test running")
        expect(panel).to_contain_text("No difference yet: about 60 more ended campaigns")
        page.screenshot(path="/tmp/email_settings_subject_test.png", full_page=True)
        panel.get_by_role("button", name="Keep subject B only").click()
        expect(page.get_by_text("Subject B is now the only subject of d3")).to_be_visible()
        expect(page.locator("#copy-d3-subject")).to_have_value("{name}, your card needs a look")
        expect(page.locator("#copy-d3-subject_b")).to_have_value("")
        expect(page.locator("#finished-subject-tests")).to_contain_text("B promoted by")
        browser.close()

"""Settings → Webhooks and Notifications in headless Chromium: add an endpoint, reveal
and rotate its secret (through the confirm dialog), send a test event and read its
delivery; add a Slack channel and send it a test message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import CHROMIUM_ARGS, log_in, serve_dashboard

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


@pytest.fixture
def live(tmp_path, sandbox_url: str) -> Iterator[tuple[str, Any]]:
    with serve_dashboard(tmp_path, sandbox_url, "owner@hooks.example", "Hook Shop",
                         outbound_allow_loopback=True) as served:  # fmt: skip
        yield served


def test_webhook_endpoint_and_slack_channel_from_the_browser(live, chromium, receiver) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, _flask_app = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, base_url, "owner@hooks.example")

        page.get_by_role("link", name="Webhooks").click()
        page.get_by_label("Endpoint URL").fill(receiver.url)
        page.get_by_label("All events, including those added later").check()
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_text("Endpoint added.")).to_be_visible()
        page.get_by_role("button", name="Reveal").click()
        secret = page.locator("#webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        page.get_by_role("button", name="Rotate (old one valid 24 h)").click()  # confirm()
        expect(page.get_by_text("Rotation under way")).to_be_visible()
        page.screenshot(path="/tmp/webhook_endpoint.png", full_page=True)
        page.get_by_label("Event type").select_option("winback.reactivated")
        page.get_by_role("button", name="Send test event").click()
        expect(page.locator(".tries li").first).to_contain_text("HTTP 200")
        page.get_by_text("Request").first.click()
        expect(page.get_by_text("Backstop-Signature: t=")).to_be_visible()
        page.screenshot(path="/tmp/webhook_delivery.png", full_page=True)
        body = json.loads(receiver.requests[-1]["body"])
        assert body["type"] == "winback.reactivated" and body["test"] is True
        assert receiver.requests[-1]["headers"]["Backstop-Signature"].count("v1=") == 2

        page.get_by_role("link", name="Webhooks", exact=True).click()
        expect(page.locator("table.endpoints")).to_contain_text("Delivered")
        page.screenshot(path="/tmp/webhooks_list.png", full_page=True)

        page.get_by_role("link", name="Notifications").click()
        page.get_by_label("Slack").check()
        page.get_by_label("Incoming-webhook URL").fill(receiver.url)
        page.get_by_label("High-value amount").fill("300")
        page.get_by_label("Currency").fill("usd")
        page.get_by_role("button", name="Add channel").click()
        expect(page.get_by_text("Slack channel added.")).to_be_visible()
        page.get_by_role("button", name="Send test message").click()
        expect(page.locator(".channel .pill.delivered")).to_be_visible()
        assert "blocks" in json.loads(receiver.requests[-1]["body"])
        receiver.status = 404  # the webhook was removed in Slack
        page.get_by_role("button", name="Send test message").click()
        expect(page.locator(".channel")).to_have_attribute("data-state", "revoked")
        expect(page.get_by_role("alert")).to_contain_text("no longer exists")
        expect(page.get_by_role("button", name="Send test message")).to_be_disabled()
        page.screenshot(path="/tmp/notifications.png", full_page=True)
        browser.close()

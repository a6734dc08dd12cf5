"""Settings → Workspace in headless Chromium: the timezone picker is grouped by region
and narrows as the merchant types; the chosen zone is saved."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import CHROMIUM_ARGS, log_in, serve_dashboard

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


@pytest.fixture
def live(tmp_path, sandbox_url: str) -> Iterator[tuple[str, Any]]:
    with serve_dashboard(tmp_path, sandbox_url, "owner@tz.example", "Zone Shop") as served:
        yield served


def test_the_timezone_picker_narrows_as_you_type_and_saves(live, chromium) -> None:
    from playwright.sync_api import expect, sync_playwright

    from app.accounts.models import Workspace
    from app.extensions import db

    base_url, flask_app = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        log_in(page, base_url, "owner@tz.example")
        page.goto(base_url + "/settings/workspace")

        select = page.locator("select#timezone")
        assert page.locator("select#timezone optgroup").count() >= 10
        assert select.locator('optgroup[label="Europe"] option[value="Europe/Paris"]').count() == 1
        search = page.get_by_role("searchbox", name="Search a city or region")
        search.fill("argentina buenos")
        expect(page.get_by_text("2 zones match")).to_be_visible()  # UTC, still chosen, stays
        assert select.input_value() == "America/Argentina/Buenos_Aires"
        visible = select.evaluate("s => [...s.options].filter(o => !o.hidden).map(o => o.value)")
        assert visible == ["UTC", "America/Argentina/Buenos_Aires"]
        search.fill("europe lisbon")
        expect(page.get_by_text("2 zones match")).to_be_visible()
        assert select.input_value() == "Europe/Lisbon"
        page.screenshot(path="/tmp/workspace_timezone.png", full_page=True)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Settings saved.")).to_be_visible()
        browser.close()

    with flask_app.app_context():
        assert db.session.execute(db.select(Workspace.timezone)).scalar_one() == "Europe/Lisbon"

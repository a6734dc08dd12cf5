"""Settings → Data & privacy in headless Chromium: an export being built turns "Ready",
with its download link, while the page stays open, and what the owner typed in the
erase form is kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import CHROMIUM_ARGS, log_in, serve_dashboard

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000


@pytest.fixture
def live(tmp_path, sandbox_url: str) -> Iterator[tuple[str, Any]]:
    with serve_dashboard(tmp_path, sandbox_url, "owner@privacy.example", "Privacy Shop") as served:
        yield served


def queued_export(flask_app) -> int:
    """An export asked for whose build has not run yet (as when the worker is busy)."""
    from app.accounts.models import Workspace
    from app.extensions import db
    from app.privacy import requests

    with flask_app.app_context():
        ws = db.session.execute(db.select(Workspace)).scalar_one()
        row = requests.start(db.session, ws.id, requested_by_id=None, via="dashboard",
                             now=dt.datetime.now(dt.UTC))  # fmt: skip
        db.session.info.clear()  # the build task is not sent: the test runs it below
        db.session.commit()
        return row.id


def build(flask_app, export_id: int) -> None:
    from app.extensions import db
    from app.privacy import requests

    with flask_app.app_context():
        requests.build(db.session, export_id, now=lambda: dt.datetime.now(dt.UTC),
                       checkpoint=db.session.commit)  # fmt: skip


def test_an_export_turns_ready_in_place_and_the_erase_form_keeps_its_text(live, chromium) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, flask_app = live
    export_id = queued_export(flask_app)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log_in(page, base_url, "owner@privacy.example")
        page.goto(base_url + "/settings/data-privacy")

        row = page.locator(f'#workspace-exports tr[data-export="{export_id}"]')
        expect(row.locator(".export-state")).to_have_text("Waiting")
        typed = page.get_by_label("Email or Stripe customer id")
        typed.fill("jo@example.com")
        build(flask_app, export_id)  # the worker's turn
        expect(row.locator(".export-state")).to_have_text("Ready")
        expect(row.get_by_role("link", name="Download")).to_be_visible()
        assert row.locator(".export-rows").inner_text().strip().isdigit()
        assert typed.input_value() == "jo@example.com"
        page.screenshot(path="/tmp/data_privacy_export.png", full_page=True)
        assert errors == []
        browser.close()

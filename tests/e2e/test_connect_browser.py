"""A merchant signs up, connects Stripe on the sandbox's consent page and watches the
import fill the dashboard — in headless Chromium, against the app served for real
(threaded werkzeug) with a real Celery worker consuming an in-memory broker.

How the new account gets data: authorizing on the consent page always creates a new,
empty sandbox account, and the callback enqueues the import right away. So the worker
runs from the start but holds every ``stripe.import_page`` task at a gate (a
``task_prerun`` hook in this test, no change to the app): after the callback the test
reads the connected ``acct_`` from the database, fills that account with customers and
subscriptions through the SDK (platform key + ``stripe_account``), then lets the very
import the callback enqueued run, one page at a time first, so the browser can be seen
showing real intermediate progress, then the rest. Nothing sleeps: every wait is a
Playwright expectation or a bounded semaphore.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from sqlalchemy import select

from ..conftest import make_client
from .conftest import CHROMIUM_ARGS, serve

pytestmark = pytest.mark.browser

CUSTOMERS = 30
SUBSCRIBED = 6
PAGE_SIZE = 5
SHOTS = Path("/tmp")
TIMEOUT_MS = 20_000


class Gate:
    """Holds ``stripe.import_page`` tasks in the worker until the test lets them pass."""

    def __init__(self) -> None:
        self.permits = threading.Semaphore(0)
        self.passed = 0
        self.opened = False

    def __call__(self, sender: Any = None, **_: Any) -> None:
        if getattr(sender, "name", None) != "stripe.import_page" or self.opened:
            return
        assert self.permits.acquire(timeout=60), "the test never let the import run"
        self.passed += 1

    def allow(self, pages: int) -> None:
        for _ in range(pages):
            self.permits.release()

    def open(self) -> None:
        self.opened = True
        self.allow(1000)


@pytest.fixture
def platform_key() -> str:
    return "sk_test_e2e_browser_" + secrets.token_hex(6)


@pytest.fixture
def live(tmp_path, sandbox_url: str, platform_key: str) -> Iterator[tuple[str, Any, Gate]]:
    """The app on a free loopback port, a worker thread consuming memory://, a gate."""
    from app import create_app
    from app.extensions import db
    from workers.celery_app import init_celery

    def build(base_url: str) -> Any:
        flask_app = create_app(
            {
                "env": "test",
                "database_url": "sqlite:///" + str(tmp_path / "backstop.sqlite"),
                "broker_url": "memory://",
                "task_always_eager": False,
                "base_url": base_url,
                "stripe_api_base": sandbox_url,
                "stripe_connect_base": sandbox_url,
                "stripe_secret_key": platform_key,
                "stripe_client_id": "ca_" + platform_key.removeprefix("sk_test_"),
                "stripe_webhook_secret": "whsec_e2e_browser_unused",
                "import_page_size": PAGE_SIZE,
            }
        )
        with flask_app.app_context():
            db.create_all()
        return flask_app

    gate = Gate()
    task_prerun.connect(gate, weak=False)
    try:
        with serve(build) as (base_url, flask_app):
            celery = init_celery(flask_app)
            # The in-memory transport polls; keep the hand-offs quick.
            celery.conf.broker_transport_options = {"polling_interval": 0.05}
            try:
                with start_worker(
                    celery, pool="solo", perform_ping_check=False, shutdown_timeout=15
                ):
                    try:
                        yield base_url, flask_app, gate
                    finally:
                        gate.open()  # never leave the worker blocked at teardown
            finally:
                with flask_app.app_context():
                    db.session.remove()
                    db.engine.dispose()
    finally:
        task_prerun.disconnect(gate)


def _seed(sandbox_url: str, platform_key: str, account: str) -> None:
    """The merchant's Stripe history, made in the account the consent page created."""
    client = make_client(sandbox_url, platform_key, stripe_account=account)
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Studio"},
        }
    )
    for i in range(CUSTOMERS):
        params: dict[str, Any] = {"email": f"member{i:02d}@example.com", "name": f"Member {i:02d}"}
        if i < SUBSCRIBED:
            params["payment_method"] = "pm_card_visa"
        customer = client.v1.customers.create(params=params)
        if i < SUBSCRIBED:
            pm = client.v1.payment_methods.list(params={"customer": customer.id}).data[0]
            client.v1.subscriptions.create(
                params={
                    "customer": customer.id,
                    "items": [{"price": price.id}],
                    "default_payment_method": pm.id,
                }
            )


def test_connect_with_stripe_and_watch_the_import(
    chromium: str, live, sandbox_url: str, platform_key: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from app.extensions import db
    from app.stripe.models import StripeConnection

    base_url, flask_app, gate = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)

            # Sign up: a fresh owner of a fresh workspace lands on the overview.
            page.goto(base_url + "/signup")
            page.get_by_label("Work email").fill("founder@example.com")
            page.get_by_label("Password").fill("correct horse battery")
            page.get_by_label("Company or workspace name").fill("Studio Nine")
            page.get_by_role("button", name="Create workspace").click()
            page.wait_for_url(base_url + "/dashboard")
            expect(page.get_by_role("heading", name="Overview")).to_be_visible()

            # Stripe settings -> Connect with Stripe -> the sandbox's consent page.
            page.goto(base_url + "/settings/stripe")
            page.get_by_role("link", name="Connect with Stripe").click()
            page.wait_for_url(sandbox_url + "/oauth/authorize?**")
            expect(page.get_by_role("heading", level=1)).to_contain_text(
                "would like to connect to your Stripe account"
            )
            expect(page.get_by_label("Email")).to_have_value("founder@example.com")
            page.screenshot(path=str(SHOTS / "e2e_consent.png"), full_page=True)
            page.get_by_role("button", name="Authorize access").click()

            # Back on Backstop through the callback: connected, the import is queued.
            page.wait_for_url(base_url + "/dashboard")
            expect(page.get_by_role("status").first).to_contain_text("Stripe is connected")
            expect(page.get_by_text("Test mode")).to_be_visible()
            bar = page.get_by_role("progressbar")
            expect(bar).to_be_visible()
            expect(page.locator("#import strong")).to_have_text("Importing from Stripe")
            expect(page.locator("#import-counts")).to_contain_text("0 customers")

            with flask_app.app_context():
                connection = db.session.execute(select(StripeConnection)).scalar_one()
                account = connection.stripe_account_id
                assert connection.mode == "oauth" and account.startswith("acct_")
                assert connection.import_status == "pending"
            _seed(sandbox_url, platform_key, account)

            # One page through: the page's polling shows it while the import runs.
            gate.allow(1)
            expect(page.locator("#import-counts")).to_contain_text(f"{PAGE_SIZE} customers")
            expect(bar).to_have_attribute("aria-valuenow", "17")  # a phase under way: half
            expect(page.locator("#import-phase")).to_have_text("· customers, step 1 of 3")
            page.screenshot(path=str(SHOTS / "e2e_overview_progress.png"), full_page=True)
            with flask_app.app_context():
                running = db.session.execute(select(StripeConnection)).scalar_one()
                assert running.import_status == "running"

            # Every customer page through: one kind of three is done.
            gate.allow(CUSTOMERS // PAGE_SIZE - 1)
            expect(page.locator("#import-counts")).to_contain_text(f"{CUSTOMERS} customers")
            expect(bar).to_have_attribute("aria-valuenow", "33")

            # The rest, without holding the worker back any more.
            gate.open()
            expect(page.locator("#import strong")).to_have_text("Import finished")
            expect(bar).to_have_attribute("aria-valuenow", "100")
            expect(page.locator("#import-counts")).to_have_text(
                f"{CUSTOMERS} customers · {SUBSCRIBED} subscriptions · {SUBSCRIBED} invoices"
            )
            page.wait_for_function(  # the bar's CSS transition has finished
                "() => { const bar = document.querySelector('#import .progress');"
                " return bar.firstElementChild.getBoundingClientRect().width"
                " >= bar.getBoundingClientRect().width - 1; }"
            )
            page.screenshot(path=str(SHOTS / "e2e_overview_done.png"), full_page=True)

            # The customers page lists what was imported.
            page.get_by_role("navigation").get_by_role("link", name="Customers").click()
            page.wait_for_url(base_url + "/customers")
            rows = page.locator("table tbody tr")
            expect(rows).to_have_count(CUSTOMERS)
            expect(page.get_by_role("cell", name="member00@example.com")).to_be_visible()
            expect(page.get_by_role("link", name=f"Member {CUSTOMERS - 1:02d}")).to_be_visible()
            page.screenshot(path=str(SHOTS / "e2e_customers.png"), full_page=True)

            # A reload shows the settled state rendered by the server.
            page.goto(base_url + "/dashboard")
            expect(page.get_by_role("progressbar")).to_have_count(0)
            expect(page.get_by_text("Imported from Stripe:")).to_be_visible()
        finally:
            browser.close()

    with flask_app.app_context():
        done = db.session.execute(select(StripeConnection)).scalar_one()
        assert done.import_status == "done" and done.import_error is None
        assert done.import_progress["customers"]["count"] == CUSTOMERS

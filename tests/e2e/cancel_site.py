"""A served app with a connected sandbox account for the cancel-flow browser tests: the
app for real on loopback (threaded werkzeug, tasks in-process), a Shop (the merchant's
Stripe account on a test clock), its embed secret, and a cheaper plan to switch to."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ..conftest import service_unavailable
from .conftest import CHROMIUM, CHROMIUM_ARGS, serve


@dataclass
class CancelSite:
    app_url: str
    flask_app: Any
    shop: Any
    secret: str
    cheaper_price: str

    def link(self, sub: Any) -> str:
        from app.api.signing import sign

        ts = int(time.time())
        body = {
            "workspace": self.shop.workspace.slug,
            "customer": sub.customer,
            "subscription": sub.id,
            "timestamp": ts,
            "signature": sign(self.secret, sub.customer, ts, sub.id),
        }
        request = urllib.request.Request(
            self.app_url + "/api/embed/cancel",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["url"]


def build_app(database: Any, sandbox_url: str, **settings: Any) -> Any:
    """Build the app, knowing its served URL, on its own SQLite file against the
    sandbox through the tests' platform key; ``settings`` add to or override these."""
    from app import create_app
    from app.extensions import db
    from workers.celery_app import init_celery

    from ..app.recovery.shop import PLATFORM_KEY

    def build(base_url: str) -> Any:
        flask_app = create_app(
            {
                "env": "test",
                "database_url": f"sqlite:///{database}",
                "broker_url": "memory://",
                "task_always_eager": True,
                "base_url": base_url,
                "stripe_api_base": sandbox_url,
                "stripe_connect_base": sandbox_url,
                "stripe_secret_key": PLATFORM_KEY,
                "stripe_client_id": "ca_backstop_tests",
                "stripe_webhook_secret": "whsec_e2e_unused",
                **settings,
            }
        )
        init_celery(flask_app)
        with flask_app.app_context():
            db.create_all()
        return flask_app

    return build


@pytest.fixture(scope="module")
def cancel_site(tmp_path_factory: pytest.TempPathFactory, sandbox_url: str) -> Iterator[CancelSite]:
    from app.api import embed_secrets
    from app.extensions import db

    from ..app.recovery.shop import Shop

    database = tmp_path_factory.mktemp("cancel") / "backstop.sqlite"
    with serve(build_app(database, sandbox_url)) as (app_url, flask_app):
        ctx = flask_app.app_context()
        ctx.push()
        try:
            shop = Shop(sandbox_url)
            secret = embed_secrets.ensure(db.session, shop.workspace)
            cheaper = shop.client.v1.prices.create(
                params={
                    "currency": "usd",
                    "unit_amount": 1900,
                    "recurring": {"interval": "month"},
                    "product_data": {"name": "Studio Lite"},
                }
            ).id
            db.session.commit()
            yield CancelSite(app_url, flask_app, shop, secret, cheaper)
        finally:
            db.session.remove()
            db.engine.dispose()
            ctx.pop()


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()

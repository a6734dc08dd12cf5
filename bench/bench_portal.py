"""The customer portal's page view, against the card-update page in the same run.

    .venv/bin/python bench/bench_portal.py      (from the repo root; about a minute)

Customers on a test clock each hold 5 subscriptions (5 plans) and, after 5 monthly
renewals, 30 invoices (the page shows the newest 24). ``GET /portal/<token>`` is timed
warm (the first view of each customer filled the portal's cache of Stripe's answers)
against ``GET /update-card/<token>`` for the same customers (a card-expiry link: the page
reads its SetupIntent from Stripe on every view), alternating request by request
through Flask's test client in this process, with the Stripe sandbox as a subprocess.
p50 and p95 of each are printed, the ratio of the medians, and how many Stripe calls
the warm portal views made (the aim: none; a cold view's calls are counted too).

See bench/README.md.
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _support import connect, sandbox, served_app

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PLATFORM_KEY = "sk_test_bench_" + secrets.token_hex(8)
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
CUSTOMERS = 8
PLANS = 5
RENEWALS = 5
ROUNDS = 200


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def shop(flask_app: Any, sandbox_url: str) -> tuple[list[str], list[str]]:
    """Customers with 5 subscriptions and 30 invoices each; their portal paths and
    card-update paths."""
    import stripe

    from app.accounts import services as accounts
    from app.dunning import links as card_links
    from app.extensions import db
    from app.models import utcnow
    from app.portal import links as portal_links
    from app.portal import settings as portal_settings
    from app.portal import sync

    def client(**kw: Any) -> stripe.StripeClient:
        bases = {"api": sandbox_url, "connect": sandbox_url, "files": sandbox_url}
        return stripe.StripeClient(PLATFORM_KEY, base_addresses=bases, **kw)

    account = client().v1.accounts.create(params={"type": "standard"}).id
    merchant = client(stripe_account=account)
    clock = merchant.v1.test_helpers.test_clocks.create(
        params={"frozen_time": int(START.timestamp())}
    ).id
    prices = [
        merchant.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": 900 + 1000 * n,
                "recurring": {"interval": "month"},
                "product_data": {"name": f"Plan {n + 1}"},
            }
        ).id
        for n in range(PLANS)
    ]
    customers = []
    for n in range(CUSTOMERS):
        customer = merchant.v1.customers.create(
            params={
                "email": f"c{n}@example.com",
                "test_clock": clock,
                "payment_method": "pm_card_visa",
            }
        )
        pm = merchant.v1.payment_methods.list(params={"customer": customer.id}).data[0]
        for price in prices:
            merchant.v1.subscriptions.create(
                params={
                    "customer": customer.id,
                    "items": [{"price": price}],
                    "default_payment_method": pm.id,
                }
            )
        customers.append(customer.id)
    for month in range(1, RENEWALS + 1):
        merchant.v1.test_helpers.test_clocks.advance(
            clock, params={"frozen_time": int((START + dt.timedelta(days=31 * month)).timestamp())}
        )
    portal_paths, card_paths = [], []
    with flask_app.app_context():
        owner = accounts.create_user(db.session, "owner@bench.example", secrets.token_urlsafe(16))
        workspace = accounts.create_workspace(db.session, owner, "Bench shop")
        connect(db.session, workspace.id, account)
        db.session.commit()
        portal_settings.save(
            db.session,
            workspace.id,
            {
                "switch_price_ids": prices,
                "pause_months": ["1", "2"],
                "can_cancel": True,
                "shows_invoices": True,
                "detail_fields": ["email", "name", "address"],
                "shows_powered_by": True,
            },
            known_price_ids=None,
        )
        from app.stripe import connection as stripe_connection

        connection = stripe_connection.connected(db.session, workspace.id)
        for customer_id in customers:
            sync.refresh_customer(db.session, connection, workspace.id, customer_id, now=utcnow())
            _, token = portal_links.issue(db.session, workspace.id, customer_id, now=utcnow())
            portal_paths.append(f"/portal/{token}")
            _, card_token = card_links.issue(
                db.session, workspace.id, purpose="expiry", customer_id=customer_id, now=utcnow()
            )
            card_paths.append(f"/update-card/{card_token}")
        db.session.commit()
    return portal_paths, card_paths


class Counter:
    """Counts the Stripe clients made (one per call site) while on."""

    def __init__(self) -> None:
        import app.stripe.client as stripe_client

        self.calls = 0
        self.original = stripe_client.client_for
        counter = self

        def counting(connection: Any) -> Any:
            counter.calls += 1
            return counter.original(connection)

        for module in ("client", "portal", "subscriptions", "billing", "cards"):
            target = sys.modules.get(f"app.stripe.{module}")
            if target is not None and hasattr(target, "client_for"):
                target.client_for = counting


def main() -> None:
    with sandbox() as sandbox_url, tempfile.TemporaryDirectory() as tmp:
        flask_app = served_app(f"sqlite:///{tmp}/bench.sqlite", sandbox_url, PLATFORM_KEY)
        portal_paths, card_paths = shop(flask_app, sandbox_url)
        web = flask_app.test_client()
        counter = Counter()
        for path in card_paths:
            assert web.get(path).status_code == 200
        before = counter.calls
        for path in portal_paths:
            page = web.get(path)
            assert page.status_code == 200, page.get_data(as_text=True)[:500]
            html = page.get_data(as_text=True)
            assert html.count('class="subscription"') == PLANS and html.count("data-invoice=") == 24
        cold_calls = (counter.calls - before) / len(portal_paths)
        portal_ms: list[float] = []
        card_ms: list[float] = []
        portal_calls = card_calls = 0
        for n in range(ROUNDS):
            for paths, times, kind in (
                (portal_paths, portal_ms, "portal"),
                (card_paths, card_ms, "card"),
            ):
                calls = counter.calls
                started = time.perf_counter()
                assert web.get(paths[n % len(paths)]).status_code == 200
                times.append((time.perf_counter() - started) * 1000)
                if kind == "portal":
                    portal_calls += counter.calls - calls
                else:
                    card_calls += counter.calls - calls
    portal_p50, card_p50 = statistics.median(portal_ms), statistics.median(card_ms)
    print(
        f"portal (5 subscriptions, 24 of 30 invoices, warm): p50 {portal_p50:.1f} ms, "
        f"p95 {pct(portal_ms, 95):.1f} ms"
    )
    print(f"card-update page, same customers: p50 {card_p50:.1f} ms, p95 {pct(card_ms, 95):.1f} ms")
    print(f"ratio portal / card-update (medians): {portal_p50 / card_p50:.2f}")
    print(
        f"Stripe calls per view: portal cold {cold_calls:.1f}, portal warm "
        f"{portal_calls / ROUNDS:.2f}, card-update {card_calls / ROUNDS:.1f}"
    )


if __name__ == "__main__":
    main()

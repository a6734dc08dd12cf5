"""The Retain loop's two speeds that matter, each against a baseline in the same run.

    .venv/bin/python bench/bench_cancel.py      (from the repo root; about a minute)

**(a) A customer clicks Cancel.** ``POST /api/embed/cancel`` (signature, a Stripe read of
the subscription and the customer, the flow's routing, the session row) followed by
``GET /cancel/<token>`` (the first step rendered), against the payment wall's same two
requests for the same customers in the same run: ``POST /api/embed/payment-wall`` then
``GET /wall/<token>`` (which creates its SetupIntent on Stripe). Both go through
Flask's test client in this process (the app's own time, Stripe included), against the
Stripe sandbox as a subprocess; the customers' renewals really failed on a test clock,
so each has an open campaign (the wall) and a past-due subscription (the flow). The two
sides alternate request by request; p50 and p95 of each are printed, and the ratio of
the medians.

**(b) The cancel analytics page** (``GET /cancel-flows/results?days=90``, the whole page
rendered) for a workspace with 1,000 ended sessions and for one with 100,000, in the same
tables (which also hold 100,000 sessions of a third workspace), on PostgreSQL (database
``backstop_bench_cancel``, ``BACKSTOP_BENCH_CANCEL_DATABASE_URL``; its public schema is
rebuilt). The sessions, spread over 90 days, are bulk-loaded with ``generate_series``,
and the daily counts the page reads are built from them with the same grouping the
services use when a session ends. The aim: under 100 ms at 100,000 sessions, and the
same time as at 1,000 (the page reads the daily counts, never the sessions).
Without PostgreSQL part (b) is skipped with a note; part (a) then runs on SQLite.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _support import account_events, connect, fresh_database, reachable, sandbox, served_app

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get(
    "BACKSTOP_BENCH_CANCEL_DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/backstop_bench_cancel",
)
PLATFORM_KEY = "sk_test_bench_" + secrets.token_hex(8)
CARD = "pm_card_sandbox_visa_insufficient_funds"
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
AIM_MS = 100


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- (a) the click on Cancel, against the payment wall ---------------------------------------------


def failed_renewals(flask_app: Any, sandbox_url: str, customers: int) -> dict[str, Any]:
    """A connected workspace with a live cancel flow, whose ``customers`` renewals failed
    on a test clock and were processed as Stripe's events arrive."""
    import stripe

    from app.accounts import services as accounts
    from app.api import embed_secrets
    from app.extensions import db
    from app.retain import flows
    from app.stripe import intake
    from workers import stripe_tasks

    def client(**kw: Any) -> stripe.StripeClient:
        bases = {"api": sandbox_url, "connect": sandbox_url, "files": sandbox_url}
        return stripe.StripeClient(PLATFORM_KEY, base_addresses=bases, **kw)

    account = client().v1.accounts.create(params={"type": "standard"}).id
    merchant = client(stripe_account=account)
    clock = merchant.v1.test_helpers.test_clocks.create(
        params={"frozen_time": int(START.timestamp())}
    ).id
    price = merchant.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Studio"},
        }
    ).id
    subs = []
    for n in range(customers):
        customer = merchant.v1.customers.create(
            params={
                "email": f"c{n}@example.com",
                "name": f"Customer {n}",
                "test_clock": clock,
                "payment_method": CARD,
            }
        )
        pm = merchant.v1.payment_methods.list(params={"customer": customer.id}).data[0]
        subs.append(
            merchant.v1.subscriptions.create(
                params={
                    "customer": customer.id,
                    "items": [{"price": price}],
                    "default_payment_method": pm.id,
                }
            )
        )
    merchant.v1.test_helpers.test_clocks.advance(
        clock, params={"frozen_time": int((START + dt.timedelta(days=30, hours=2)).timestamp())}
    )
    with flask_app.app_context():
        owner = accounts.create_user(db.session, "owner@bench.example", secrets.token_urlsafe(16))
        workspace = accounts.create_workspace(db.session, owner, "Bench shop")
        connect(db.session, workspace.id, account)
        secret = embed_secrets.ensure(db.session, workspace)
        flows.create_from_template(
            db.session,
            workspace.id,
            "saas_standard",
            actor_id=None,
            actor_label="bench",
            support_email=None,
        )
        db.session.commit()
        with db.engine.begin() as conn:
            for body in account_events(sandbox_url, PLATFORM_KEY, account):
                intake.store(conn, body, json.dumps(body).encode(), workspace_id=workspace.id)
        stripe_tasks.process_pending.run()
        slug = workspace.slug
    return {"slug": slug, "secret": secret, "subs": [(s.customer, s.id) for s in subs]}


def click_to_page(flask_app: Any, shop: dict[str, Any], rounds: int) -> dict[str, list[float]]:
    from app.api.signing import sign

    web = flask_app.test_client()
    times: dict[str, list[float]] = {"cancel": [], "wall": []}

    def one(kind: str, customer: str, subscription: str) -> float:
        ts = int(time.time())
        body = {"workspace": shop["slug"], "customer": customer, "timestamp": ts}
        if kind == "cancel":
            body.update(
                subscription=subscription,
                signature=sign(shop["secret"], customer, ts, subscription),
            )
        else:
            body["signature"] = sign(shop["secret"], customer, ts)
        started = time.perf_counter()
        answer = web.post(
            f"/api/embed/{'cancel' if kind == 'cancel' else 'payment-wall'}", json=body
        )
        assert answer.status_code == 200 and answer.json.get("url"), (
            kind,
            answer.status_code,
            answer.json,
        )
        page = web.get(answer.json["url"].removeprefix("http://localhost"))
        elapsed = time.perf_counter() - started
        assert page.status_code == 200, (kind, page.status_code)
        return elapsed

    subs = shop["subs"]
    for i in range(10):  # warm-up
        for kind in ("cancel", "wall"):
            one(kind, *subs[i % len(subs)])
    for i in range(rounds):
        customer, subscription = subs[i % len(subs)]
        for kind in ("cancel", "wall") if i % 2 == 0 else ("wall", "cancel"):
            times[kind].append(one(kind, customer, subscription))
    return times


# -- (b) the analytics page at 1k and 100k sessions -----------------------------------------------

_SESSIONS = """
INSERT INTO retain_session (
    workspace_id, token_hash, customer_stripe_id, subscription_stripe_id, flow_id, version_id,
    is_simulation, plan_name, amount_minor, currency, interval, interval_count, mrr_minor,
    created_at, expires_at, steps_seen, offers_shown, reason_key, reason_label, reason_text,
    offer_step, outcome, outcome_at, cancelled_by, still_paying)
SELECT :ws, md5(:ws || '-' || g), 'cus_' || g, 'sub_' || g, :flow,
       CASE WHEN g % 2 = 0 THEN :v1 ELSE :v2 END, false, 'Studio', 2900, 'usd', 'month', 1, 2900,
       :t0 - make_interval(secs => (g * 7919) % 7776000), :t0, '[]', '["offer_discount"]',
       (ARRAY['too_expensive', 'not_using', 'missing_features', 'technical_issues',
              'switching', 'other'])[1 + g % 6],
       (ARRAY['It''s too expensive', 'I''m not using it enough',
              'It''s missing something I need', 'Something isn''t working',
              'I''m switching to another product', 'Something else'])[1 + g % 6],
       CASE WHEN g % 6 = 5 THEN 'a few words ' || g END,
       CASE WHEN g % 10 < 3 THEN 'offer_discount' END,
       CASE WHEN g % 10 < 3 THEN 'saved' WHEN g % 10 < 9 THEN 'cancelled' ELSE 'abandoned' END,
       :t0, CASE WHEN g % 10 BETWEEN 3 AND 8 THEN 'flow' END,
       CASE WHEN g % 10 < 3 THEN g % 4 <> 0 END
FROM generate_series(1, :n) AS g
"""
# The daily counts, grouped exactly as app.retain.stats counts an ended session.
_STATS = """
INSERT INTO retain_stat (workspace_id, day, flow_id, version_id, reason_key, offer_step, outcome,
                         currency, sessions, mrr_minor, still_paying, checked)
SELECT workspace_id, (created_at AT TIME ZONE 'UTC')::date, flow_id, version_id,
       coalesce(reason_key, ''),
       CASE WHEN outcome = 'saved' THEN coalesce(offer_step, '') ELSE '' END,
       outcome, currency, count(*), sum(mrr_minor),
       count(*) FILTER (WHERE still_paying), count(*) FILTER (WHERE still_paying IS NOT NULL)
FROM retain_session WHERE workspace_id = :ws
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""
_OFFERS = """
INSERT INTO retain_offer_stat (workspace_id, day, flow_id, version_id, step_id, shown)
SELECT workspace_id, (created_at AT TIME ZONE 'UTC')::date, flow_id, version_id,
       'offer_discount', count(*)
FROM retain_session WHERE workspace_id = :ws GROUP BY 1, 2, 3, 4
"""


def analytics(flask_app: Any, sizes: dict[str, int], rounds: int) -> dict[str, list[float]]:
    """The page's time for each workspace of ``sizes`` (name -> ended sessions); a
    workspace whose name starts with ``other`` only fills the tables."""
    import copy

    from sqlalchemy import text

    from app.accounts import services as accounts
    from app.extensions import db
    from app.retain import flows

    logins = {}
    with flask_app.app_context():
        for name, n in sizes.items():
            email = f"{name}@bench.example"
            owner = accounts.create_user(db.session, email, "bench-password-1")
            workspace = accounts.create_workspace(db.session, owner, f"Bench {name}")
            flow = flows.create_from_template(
                db.session,
                workspace.id,
                "saas_standard",
                actor_id=None,
                actor_label="bench",
                support_email=None,
            )
            draft = copy.deepcopy(flow.draft)
            draft["steps"][0]["title"] = "Why are you leaving?"
            flows.save_draft(db.session, flow, draft)
            flows.publish(db.session, flow, actor_id=None, actor_label="bench")
            v1, v2 = flows.versions_of(db.session, flow)
            db.session.commit()
            params = {
                "ws": workspace.id,
                "flow": flow.id,
                "v1": v1.id,
                "v2": v2.id,
                "n": n,
                "t0": dt.datetime.now(dt.UTC),
            }
            for statement in (_SESSIONS, _STATS, _OFFERS):
                db.session.execute(text(statement), params)
            db.session.commit()
            if not name.startswith("other"):
                logins[name] = owner.id
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    times: dict[str, list[float]] = {name: [] for name in logins}
    clients = {}
    for name, user_id in logins.items():
        web = flask_app.test_client()
        with flask_app.app_context():  # signed in as the workspace's owner: a session row
            from app.accounts import user_sessions
            from app.accounts.access import SESSION_KEY
            from app.accounts.models import User

            owner = db.session.get(User, user_id)
            now = dt.datetime.now(dt.UTC)
            record = user_sessions.start(db.session, owner, ip="::1", user_agent="bench", now=now)
            db.session.commit()
            session_id = record.id
        with web.session_transaction() as cookie:
            cookie["_user_id"], cookie["_fresh"] = str(user_id), True
            cookie[SESSION_KEY] = session_id
        assert web.get("/cancel-flows/results?days=90").status_code == 200
        clients[name] = web
    for _ in range(rounds):
        for name, web in clients.items():
            started = time.perf_counter()
            page = web.get("/cancel-flows/results?days=90")
            times[name].append(time.perf_counter() - started)
            assert page.status_code == 200 and b"Cancel flow results" in page.data
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=150)
    args = parser.parse_args()
    on_pg = reachable(PG_URL, 5432)
    if on_pg:
        fresh_database(PG_URL)
        database = PG_URL
    else:
        database = f"sqlite:///{tempfile.mkdtemp(prefix='bench-cancel-')}/bench.sqlite"
    with sandbox() as sandbox_url:
        flask_app = served_app(database, sandbox_url, PLATFORM_KEY)
        shop = failed_renewals(flask_app, sandbox_url, args.customers)
        with flask_app.app_context():
            times = click_to_page(flask_app, shop, args.rounds)
    where = "PostgreSQL" if on_pg else "SQLite (PostgreSQL not reachable)"
    print(f"database: {where}; the sandbox as a subprocess")
    p50 = {k: statistics.median(v) * 1000 for k, v in times.items()}
    labels = {
        "cancel": "cancel: POST /api/embed/cancel + GET /cancel/<token>",
        "wall": "wall:   POST /api/embed/payment-wall + GET /wall/<token>",
    }
    for kind, label in labels.items():
        p95 = pct(times[kind], 95) * 1000
        print(f"    {label}: p50 {p50[kind]:.1f} ms, p95 {p95:.1f} ms ({len(times[kind])} clicks)")
    print(f"(a) click to first page: cancel / wall = {p50['cancel'] / p50['wall']:.2f}")
    if not on_pg:
        print(f"(b) skipped: PostgreSQL is not reachable at {PG_URL}")
        return 0
    sizes = {"small": 1_000, "big": 100_000, "other": 100_000}
    with flask_app.app_context():
        page_times = analytics(flask_app, sizes, rounds=30)
    small = statistics.median(page_times["small"]) * 1000
    big = statistics.median(page_times["big"]) * 1000
    big95 = pct(page_times["big"], 95) * 1000
    print(
        f"    results page, 90 days: 1,000 sessions p50 {small:.1f} ms; "
        f"100,000 sessions p50 {big:.1f} ms, p95 {big95:.1f} ms (tables: 201,000 sessions)"
    )
    verdict = "meets" if big95 < AIM_MS else "MISSES"
    ratio = big / small
    aim = f"{verdict} the aim of < {AIM_MS} ms"
    print(f"(b) analytics 100k / 1k = {ratio:.2f}; p95 {big95:.0f} ms {aim}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The REST API's list at scale: ``GET /api/v1/campaigns?limit=100`` for a workspace with
1,000,000 recovery campaigns on PostgreSQL, against a bare Flask JSON endpoint answering
100 objects of the same shape in the same run, printed as a ratio.

    .venv/bin/python bench/bench_api.py      (from the repo root; about a minute)

Options: ``--rounds N`` (timed requests per case, default 300), ``--reuse`` (keep the
data the last run loaded when it is there: skips the load).

PostgreSQL only: database ``backstop_bench_api`` (``BACKSTOP_BENCH_API_DATABASE_URL``),
created if missing, its public schema emptied and rebuilt with ``db.create_all()`` on
every run (unless ``--reuse``) and left in place for inspection; the tests' ``test``
database is not touched.

The load, ``INSERT ... SELECT generate_series`` in one transaction (indexes dropped for
it and built after): workspace 1 holds exactly 1,000,000 campaigns and 10 small
workspaces a further 100,000, interleaved (every 11th row), so the per-workspace index
has to pick workspace 1's out; a third of workspace 1's are ``lost``; then ``VACUUM
ANALYZE``. One read-only API key for workspace 1.

Timed in-process through the WSGI test client (what a request costs the web process,
without the network): the first page, a page deep in the list (``starting_after`` half
way), a page filtered by status, and a page filtered by date (created a year ago and
before); the baseline
is a bare Flask app whose one view ``jsonify``s 100 dicts of the campaign's fields. The
API's rate limit is lifted for the run. The ratio is the case's p50 over the baseline's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

from _support import ROOT, fresh_database, reachable

PG_URL = os.environ.get(
    "BACKSTOP_BENCH_API_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/backstop_bench_api"
)
BIG, SMALL_TOTAL, SMALL_WORKSPACES = 1_000_000, 100_000, 10
SECRET = "bk_test_bench0000000000000000000000000000000000000000"
ROUNDS, WARMUP = 300, 20


def make_app() -> Any:
    from app import create_app

    return create_app(
        {
            "env": "development",
            "log_level": "WARNING",
            "database_url": PG_URL,
            "broker_url": "memory://localhost/",
            "api_rate_limit": "1000000 per second",
        }
    )


def load(flask_app: Any) -> None:
    from sqlalchemy import text

    from app.accounts import api_keys
    from app.accounts.models import ApiKey
    from app.extensions import db
    from app.recovery.models import Campaign

    with flask_app.app_context():
        db.create_all()
        started = time.perf_counter()
        indexes = list(Campaign.__table__.indexes)
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO workspace (id, slug, name, timezone, brand_color,"
                    " is_embed_signature_required, is_portal_cancel_disabled,"
                    " is_two_factor_required, created_at)"
                    " SELECT n, 'shop-' || n, 'Shop ' || n, 'UTC', '#4f46e5', false, false, false,"
                    " now()"
                    " FROM generate_series(1, :count) AS n"
                ),
                {"count": SMALL_WORKSPACES + 1},
            )
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for index in indexes:
                index.drop(conn)
            # Every 11th row is a small workspace's: 1.1M rows, 1M of workspace 1.
            conn.execute(
                text(
                    """
                    INSERT INTO recovery_campaign (
                        id, workspace_id, invoice_stripe_id, customer_stripe_id,
                        subscription_stripe_id, amount_minor, currency, decline_code,
                        decline_class, customer_tz, is_stripe_managed, is_holdout, state,
                        attribution, auto_retries, opened_at, last_failure_at, window_ends_at,
                        closed_at, recovered_minor, refunded_minor, is_paused, updated_at)
                    SELECT n,
                        CASE WHEN n % 11 = 0 THEN 2 + (n / 11) % :small ELSE 1 END,
                        'in_' || n, 'cus_' || (n % 50000), 'sub_' || (n % 50000),
                        1900 + (n % 7) * 1000, 'usd', 'insufficient_funds', 'scheduled', 'UTC',
                        false, false,
                        CASE WHEN n % 3 = 0 THEN 'lost' WHEN n % 3 = 1 THEN 'recovered'
                             ELSE 'in_flight' END,
                        CASE WHEN n % 3 = 1 THEN 'retry' END, n % 4,
                        now() - make_interval(secs => (:total - n) * 57),
                        now() - make_interval(secs => (:total - n) * 57),
                        now() - make_interval(secs => (:total - n) * 57) + interval '30 days',
                        CASE WHEN n % 3 <> 2 THEN now() - make_interval(secs => (:total - n) * 57)
                             + interval '5 days' END,
                        CASE WHEN n % 3 = 1 THEN 1900 + (n % 7) * 1000 ELSE 0 END, 0, false,
                        now()
                    FROM generate_series(1, :total) AS n
                    """
                ),
                {"total": BIG + SMALL_TOTAL, "small": SMALL_WORKSPACES},
            )
            for index in indexes:
                index.create(conn)
            conn.execute(
                text("SELECT setval('recovery_campaign_id_seq', :n)"), {"n": BIG + SMALL_TOTAL}
            )
            conn.execute(text("SELECT setval('workspace_id_seq', :n)"), {"n": SMALL_WORKSPACES + 1})
        db.session.add(
            ApiKey(
                workspace_id=1,
                name="bench",
                prefix=SECRET[:12],
                secret_hash=api_keys.hash_secret(SECRET),
                scope="read",
            )
        )
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        count = db.session.execute(
            text("SELECT count(*) FROM recovery_campaign WHERE workspace_id = 1")
        ).scalar_one()
        db.session.remove()
        print(f"loaded {count:,} campaigns of workspace 1 in {time.perf_counter() - started:.0f} s")


def loaded(flask_app: Any) -> bool:
    from sqlalchemy import text

    from app.extensions import db

    with flask_app.app_context(), db.engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('api_key')")).scalar() is None:
            return False
        return bool(conn.execute(text("SELECT count(*) FROM api_key")).scalar())


def bare_app(sample: dict[str, Any]) -> Any:
    """The baseline: Flask answering 100 such objects with ``jsonify``, no database."""
    from flask import Flask, jsonify

    bare = Flask("bare")
    page = {"object": "list", "url": "/bare", "has_more": True, "data": [sample] * 100}

    @bare.get("/bare")
    def listing() -> Any:
        return jsonify(page)

    return bare


def timed(client: Any, url: str, headers: dict[str, str], rounds: int) -> list[float]:
    for _ in range(WARMUP):
        assert client.get(url, headers=headers).status_code == 200
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
    return samples


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--reuse", action="store_true", help="keep the last run's data if there")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not reachable(PG_URL, 5432):
        raise SystemExit(f"PostgreSQL is not reachable at {PG_URL}")
    from app.extensions import db

    flask_app = make_app()
    if not (args.reuse and loaded(flask_app)):
        with flask_app.app_context():
            db.engine.dispose()
        fresh_database(PG_URL)
        flask_app = make_app()
        load(flask_app)
    else:
        print("reusing the data the last run loaded")
    api = flask_app.test_client()
    auth = {"Authorization": f"Bearer {SECRET}"}
    first = api.get("/api/v1/campaigns?limit=100", headers=auth).get_json()
    assert len(first["data"]) == 100 and first["has_more"], first
    middle = f"cmp_{(BIG + SMALL_TOTAL) // 2 + 1}"  # workspace 1's (not every 11th)
    cases = {
        "first page": "/api/v1/campaigns?limit=100",
        "half way (starting_after)": f"/api/v1/campaigns?limit=100&starting_after={middle}",
        "status=lost": "/api/v1/campaigns?limit=100&status=lost",
        "created_lt a year ago": "/api/v1/campaigns?limit=100&created_lt="
        + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 365 * 86400)),
    }
    bare = bare_app(first["data"][0]).test_client()
    print(
        f"timing {args.rounds} requests per case after {WARMUP} warm-up "
        f"(load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    results = {"bare Flask jsonify, 100 objects": timed(bare, "/bare", {}, args.rounds)}
    for name, url in cases.items():
        results[f"GET {name}"] = timed(api, url, auth, args.rounds)
    base = statistics.median(results["bare Flask jsonify, 100 objects"])
    print(f"{'case':<36} {'p50 ms':>8} {'p95 ms':>8} {'p50 / bare':>11}")
    for name, values in results.items():
        mid = statistics.median(values)
        print(f"{name:<36} {mid:>8.2f} {p95(values):>8.2f} {mid / base:>11.1f}")
    with flask_app.app_context():
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

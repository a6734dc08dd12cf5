"""``/healthz`` (the process answers; touches nothing) and ``/readyz`` (it can reach the
database and the broker, each within :data:`READY_TIMEOUT` seconds).

Both are for load balancers and orchestrators: no session, no login, no CSRF, no rate
limit, and (``hosted/hosts.py``) no custom-domain lookup. A readiness check that hangs
(a database that accepts connections and never answers) holds one of two threads and
is reported as timed out; further probes queue behind it and time out too, so a hung
dependency never piles up threads."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..extensions import csrf, db, limiter

bp = Blueprint("health", __name__)
READY_TIMEOUT = 2.0
#: The paths of the machine probes (sessions, custom domains and rate limits skip them).
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")
_checks = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")


@bp.get("/healthz")
@csrf.exempt
@limiter.exempt
def healthz():
    return current_app.response_class("ok", mimetype="text/plain")


def database_ok(app: Any) -> None:
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def broker_ok(app: Any) -> None:
    from kombu import Connection

    url = app.extensions["celery"].conf.broker_url
    with Connection(url, connect_timeout=READY_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=READY_TIMEOUT)


def run_checks(
    checks: dict[str, Callable[[], None]], timeout: float = READY_TIMEOUT
) -> dict[str, str]:
    """Each check at once on the shared pool: "ok", or what went wrong in a word or two
    (the exception's class, never its text, which may hold an address or a password)."""
    futures = {name: _checks.submit(check) for name, check in checks.items()}
    done, _ = concurrent.futures.wait(futures.values(), timeout=timeout)
    results = {}
    for name, future in futures.items():
        if future not in done:
            future.cancel()
            results[name] = "timed out"
        elif future.exception() is not None:
            results[name] = f"failed: {type(future.exception()).__name__}"
        else:
            results[name] = "ok"
    return results


@bp.get("/readyz")
@csrf.exempt
@limiter.exempt
def readyz():
    app = current_app._get_current_object()
    results = run_checks({"database": lambda: database_ok(app), "broker": lambda: broker_ok(app)})
    failed = [name for name, result in results.items() if result != "ok"]
    body = {"status": "unavailable" if failed else "ok", "checks": results}
    if failed:
        body["failed"] = failed
    return jsonify(body), 503 if failed else 200

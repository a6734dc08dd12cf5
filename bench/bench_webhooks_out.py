"""Outbound webhooks: fan-out of 10,000 domain events to an endpoint and their delivery
to a local receiver, against posting the same 10,000 bodies directly (issue 17).

    .venv/bin/python bench/bench_webhooks_out.py      (from the repo root; about 1 minute)

Options: ``--events N`` (default 10000), ``--database-url URL`` (default: a temporary
SQLite file; with a PostgreSQL URL, e.g.
``postgresql://postgres@127.0.0.1:5432/backstop_bench_hooks``, that database is created if
missing and its public schema emptied first).

Setup: the app on the embedded defaults (tasks not eager, ``memory://`` broker, so the
hand-over after each commit is a real ``send_task``), one workspace with one endpoint
subscribed to every event, and N ``recovery.campaign.recovered`` domain events inserted
in bulk (already dispatched, so nothing else consumes them). The receiver is a separate
process (``http.server`` with HTTP/1.1 keep-alive, reads the body, answers 200 with an
empty body), so it does not share the benchmark's GIL.

Measured, one after the other:

- **fan-out**: ``fanout.fan_out`` for every event (the consumer's work: find the
  endpoints, build the payload, insert the delivery, claim it, enqueue after commit),
  committing every 500 events;
- **delivery**: the worker task's body (``workers.integration_tasks.deliver``) for every
  delivery, one after the other: take the row, re-check the endpoint, sign, commit, post
  through ``app.integrations.transport`` (SSRF check on the resolved address, pinned
  keep-alive connection), log the attempt, commit;
- **baseline**: the same N signed bodies and headers posted with one plain
  ``requests.Session`` (keep-alive), no database; run before and after the delivery,
  the faster of the two kept;
- **transport only**: the same posts through ``transport.post``, no database: what the
  SSRF check and pinning cost by themselves.

Prints the times, per-event costs and the ratios delivery/baseline and
(fan-out + delivery)/baseline. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BATCH = 500


def _receiver(port_out) -> None:  # in the child process
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_port)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_receiver, args=(queue,), daemon=True)
    child.start()
    url = f"http://127.0.0.1:{queue.get(timeout=10)}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        if database_url.startswith("postgres"):
            from _support import fresh_database

            fresh_database(database_url)
        try:
            run(args.events, database_url, url)
        finally:
            child.terminate()
            child.join()


def run(n: int, database_url: str, url: str) -> None:
    import requests
    from sqlalchemy import insert, select

    from app import create_app
    from app.accounts import services as accounts
    from app.events.models import DONE, DomainEvent
    from app.extensions import db
    from app.integrations import catalogue, endpoints, fanout, outbound, transport
    from app.integrations.endpoints import Rules
    from app.integrations.models import Delivery
    from workers import integration_tasks
    from workers.celery_app import init_celery

    app = create_app({"env": "test", "database_url": database_url, "broker_url": "memory://",
                      "task_always_eager": False, "outbound_allow_loopback": True,
                      "base_url": "http://localhost"})  # fmt: skip
    init_celery(app)
    with app.app_context():
        db.drop_all()
        db.create_all()
        owner = accounts.create_user(db.session, "bench@example.com", "correct horse battery")
        ws = accounts.create_workspace(db.session, owner, "Bench")
        hook = endpoints.create(db.session, ws.id, url=url, event_types=["*"], description="",
                                rules=Rules(allow_loopback=True))  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        data = catalogue.SAMPLES["recovery.campaign.recovered"]
        db.session.execute(
            insert(DomainEvent),
            [{"workspace_id": ws.id, "name": "recovery.campaign.recovered",
              "subject": f"campaign:{i}", "data": {**data, "campaign_id": i},
              "occurred_at": now, "status": DONE, "due_at": now, "attempts": 1}
             for i in range(n)],
        )  # fmt: skip
        db.session.commit()
        ws_id, hook_id = ws.id, hook.id

        ctx = fanout.context()
        ids = db.session.execute(select(DomainEvent.id).order_by(DomainEvent.id)).scalars().all()
        started = time.perf_counter()
        for i in range(0, len(ids), BATCH):
            chunk = ids[i : i + BATCH]
            rows = db.session.execute(select(DomainEvent).where(DomainEvent.id.in_(chunk)))
            for event in rows.scalars():
                fanout.fan_out(db.session, event, ctx, now=dt.datetime.now(dt.UTC))
            db.session.commit()
        fan_out_s = time.perf_counter() - started
        db.session.remove()

        delivery_ids = db.session.execute(select(Delivery.id).order_by(Delivery.id)).scalars().all()
        assert len(delivery_ids) == n, len(delivery_ids)
        # What the baselines post: the same bodies, signed the same way.
        secret = endpoints.signing_secrets(db.session.get(type(hook), hook_id), now)
        bodies = [
            outbound.encode(p)
            for p in db.session.execute(select(Delivery.payload).order_by(Delivery.id)).scalars()
        ]
        db.session.remove()

        def headers(body: bytes) -> dict[str, str]:
            from app.integrations import signing

            return {"Content-Type": "application/json",
                    signing.HEADER: signing.header(body, secret, int(time.time()))}  # fmt: skip

        def baseline() -> float:
            session = requests.Session()
            begun = time.perf_counter()
            for body in bodies:
                response = session.post(url, data=body, headers=headers(body), timeout=5,
                                        allow_redirects=False)  # fmt: skip
                assert response.status_code == 200
            session.close()
            return time.perf_counter() - begun

        def transport_only() -> float:
            begun = time.perf_counter()
            for body in bodies:
                answer = transport.post(url, body, headers(body), timeout=5, allow_loopback=True,
                                        require_https=False)  # fmt: skip
                assert answer.ok
            return time.perf_counter() - begun

        base_before = baseline()
        transport_s = transport_only()
        started = time.perf_counter()
        for delivery_id in delivery_ids:
            assert integration_tasks.deliver.run(delivery_id) == "delivered"
        deliver_s = time.perf_counter() - started
        base_after = baseline()
        base_s = min(base_before, base_after)
        delivered = db.session.execute(
            select(Delivery.id).where(
                Delivery.workspace_id == ws_id, Delivery.status == "delivered"
            )
        ).all()
        assert len(delivered) == n

    engine = database_url.split(":", 1)[0]
    print(f"outbound webhooks, {n} events, one endpoint, {engine}, receiver in another process")
    print(
        f"  fan-out: {n} events -> {n} deliveries in {fan_out_s:.2f} s "
        f"({fan_out_s / n * 1e6:.0f} µs/event, {n / fan_out_s:.0f} events/s)"
    )
    print(
        f"  delivery: {n} posts in {deliver_s:.2f} s ({deliver_s / n * 1e3:.2f} ms/post, "
        f"{n / deliver_s:.0f} posts/s)"
    )
    print(
        f"  baseline (requests.Session, no database): {base_s:.2f} s "
        f"({base_s / n * 1e3:.2f} ms/post; runs {base_before:.2f} s and {base_after:.2f} s)"
    )
    print(
        f"  transport alone (SSRF check + pinned connection, no database): {transport_s:.2f} s "
        f"({transport_s / n * 1e3:.2f} ms/post)"
    )
    print(f"  ratio delivery/baseline {deliver_s / base_s:.2f}; transport/baseline "
          f"{transport_s / base_s:.2f}; (fan-out + delivery)/baseline "
          f"{(fan_out_s + deliver_s) / base_s:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()

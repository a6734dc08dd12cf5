"""Webhook intake throughput and latency, against a bare Flask endpoint as the baseline.

    .venv/bin/python bench/bench_webhooks.py      (from the repo root; 1-2 minutes)

Both servers run under the same gunicorn settings as the Procfile's ``web`` (2 gthread
workers of 4 threads; one access line per request: Backstop's own ``http.request`` line
for intake, gunicorn's access log for the bare app), pinned to CPU 0 when there are two
or more CPUs; the load comes from this process, pinned to CPU 1, through a few closed-loop client
threads that keep their connections alive (gthread workers keep them open between
requests, as they would in production). Every request is a unique,
correctly signed ``customer.created`` event of a different customer of one
OAuth-connected workspace, so intake really verifies, inserts and enqueues each one.

The intake server is ``create_app()`` configured by environment variables like
``wsgi.py``, in production mode, on PostgreSQL (database ``backstop_bench``, made fresh
here; the tests' ``test`` database is not touched) and RabbitMQ when reachable, else
``memory://``. Nothing consumes the tasks: they go to a queue of their own
(``backstop_bench``), deleted at the end. PostgreSQL itself is not pinned: it shares
the machine's CPUs with both sides, as a co-located database would.

Prints::

    intake: N req/s, p99 X ms; bare flask: M req/s, p99 Y ms; ratio N/M = R
    paced at half the intake rate (H req/s, K requests): intake p50/p99; bare flask p50/p99

Aim: ratio >= 0.6 and intake p99 < 20 ms at half rate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _support import fresh_database as _fresh_database
from _support import reachable

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_URL = os.environ.get(
    "BACKSTOP_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/backstop_bench"
)
AMQP_URL = os.environ.get("BACKSTOP_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = "backstop_bench"
WORKERS = 2  # the Procfile's defaults: --workers, --threads
THREADS = 4
CLIENT_THREADS = 4
REQUESTS = 2000  # per saturated run
WARMUP = 300
ROUNDS = 3  # saturated runs per server; the median is reported
PACED_SECONDS = 12  # the paced run's length (600 to 3000 requests)
ACCOUNT = "acct_1BenchWebhooks00"
SECRET = "whsec_bench_" + secrets.token_hex(16)
SERVER_CPU, CLIENT_CPU = 0, 1


# -- the two WSGI apps (gunicorn imports this module with --chdir bench) ----------------------


def intake_app() -> Any:
    """Backstop exactly as ``wsgi.py`` builds it, with the bench's own task queue."""
    from app import create_app

    flask_app = create_app()
    flask_app.extensions["celery"].conf.task_default_queue = QUEUE
    return flask_app


def bare_app() -> Any:
    """The baseline: read the body, answer JSON."""
    from flask import Flask, jsonify, request

    flask_app = Flask("bare")

    @flask_app.post("/webhooks/stripe")
    def webhook() -> Any:
        request.get_data()
        return jsonify(ok=True)

    return flask_app


# -- stores ------------------------------------------------------------------------------------


def seed(env: dict[str, str]) -> None:
    """Tables, and one workspace connected through OAuth to ``ACCOUNT``."""
    os.environ.update(env)
    from app import create_app
    from app.accounts import services
    from app.crypto import encrypt
    from app.extensions import db
    from app.stripe.models import StripeConnection

    flask_app = create_app()
    with flask_app.app_context():
        db.create_all()
        user = services.sign_up(db.session, "bench@example.com", "bench-password-123", "Bench Co")
        db.session.add(
            StripeConnection(
                workspace_id=user.memberships[0].workspace_id,
                mode="oauth",
                stripe_account_id=ACCOUNT,
                livemode=False,
                secret_enc=encrypt("sk_test_bench"),
                scope="read_write",
                status="connected",
                import_status="done",
                import_progress={},
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def stored_events() -> int:
    import psycopg

    with psycopg.connect(PG_URL) as conn:
        return conn.execute("SELECT count(*) FROM stripe_event").fetchone()[0]


def drop_queue(broker: str) -> None:
    if not broker.startswith("amqp"):
        return
    from kombu import Connection

    with Connection(broker) as conn:
        conn.default_channel.queue_delete(QUEUE)


# -- servers -----------------------------------------------------------------------------------


def environment(broker: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    from app.settings import describe

    ours = {name for name, _, _ in describe()}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env.update(
        {
            "BACKSTOP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "BACKSTOP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": PG_URL,
            "BROKER_URL": broker,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "BACKSTOP_BASE_URL": "http://127.0.0.1",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _pin_server() -> None:
    os.sched_setaffinity(0, {SERVER_CPU})


class Server:
    """A running gunicorn: its port, and the CPU time its master and workers used."""

    def __init__(self, port: int, pid: int) -> None:
        self.port, self.pid = port, pid

    def cpu_seconds(self) -> float:
        """user + system CPU of the master and its workers, from /proc."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # the process ended meanwhile
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.pid in (pid, ppid):
                total += int(fields[11]) + int(fields[12])
        return total / tick


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], pin: bool, access_log: bool) -> Iterator[Server]:
    """``access_log``: gunicorn writes the access line (the bare app); Backstop writes its
    own ``http.request`` line, so the Procfile leaves gunicorn's off."""
    import gunicorn.config

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    extra = ["--no-control-socket"] if hasattr(gunicorn.config, "ControlSocketDisable") else []
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            app_spec,
            "--chdir",
            str(ROOT / "bench"),
            "-b",
            f"fd://{listener.fileno()}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(THREADS),
            *(["--access-logfile", "-"] if access_log else []),
            "--backlog",
            "1024",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        pass_fds=(listener.fileno(),),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_pin_server if pin else None,
    )
    listener.close()
    try:
        deadline = time.monotonic() + 30
        while not _answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn {app_spec} did not start")
            time.sleep(0.1)
        yield Server(port, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing-here", timeout=2):
            return True
    except urllib.error.HTTPError as exc:
        exc.close()
        return True
    except OSError:
        return False


# -- load --------------------------------------------------------------------------------------


def customer(n: int, now: int) -> dict[str, Any]:
    """A customer object of Stripe's usual shape and size."""
    return {
        "id": f"cus_bench{n:010d}",
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": f"customer{n}@example.com",
        "invoice_prefix": f"B{n:07X}",
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {"plan": "studio", "signup_source": "web"},
        "name": f"Customer {n}",
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": ["en"],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def requests_for(port: int, count: int, start: int) -> list[bytes]:
    """``count`` unique, signed event deliveries as raw HTTP/1.1 requests."""
    now = int(time.time())
    out = []
    for n in range(start, start + count):
        event = {
            "id": f"evt_bench{n:012d}_{secrets.token_hex(4)}",
            "object": "event",
            "account": ACCOUNT,
            "api_version": "2026-10-28.endive",
            "created": now,
            "data": {"object": customer(n, now)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": f"req_bench{n}", "idempotency_key": None},
            "type": "customer.created",
        }
        body = json.dumps(event).encode()
        mac = hmac.new(SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256)
        head = (
            f"POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n"
            f"Content-Type: application/json; charset=utf-8\r\n"
            f"Stripe-Signature: t={now},v1={mac.hexdigest()}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


class Client:
    """One keep-alive connection (reopened whenever the server closes it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buf = b""

    def send(self, raw: bytes) -> int:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        self.sock.sendall(raw)
        while b"\r\n\r\n" not in self.buf:
            self._read()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            self.buf = rest
            self._read()
            rest = self.buf
        self.buf = rest[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status

    def _read(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection mid-response")
        self.buf += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def run(port: int, raws: list[bytes], rate: float | None = None) -> dict[str, Any]:
    """Send every request from ``CLIENT_THREADS`` threads: as fast as answers come back
    (closed loop), or each at its slot of a fixed ``rate`` (latency then counts from the
    slot, so a slow answer that delays the next request is not hidden)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(raws)))
    start = time.perf_counter() + 0.05

    def worker() -> None:
        client = Client(port)
        mine: list[float] = []
        try:
            while True:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    break
                due = start + i / rate if rate else time.perf_counter()
                if rate:
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                try:
                    status = client.send(raws[i])
                except OSError as exc:
                    client.close()
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                mine.append(time.perf_counter() - due)
                if status != 200:
                    errors.append(f"HTTP {status}")
        finally:
            client.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - max(began, start if rate else began)
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": _pct(latencies, 50) * 1000,
        "p99": _pct(latencies, 99) * 1000,
        "errors": errors,
        "n": len(latencies),
    }


def _pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(p / 100 * len(sorted_values)) - 1)]


def measure(
    name: str, server: Server, sent: list[int], rate: float | None = None, count: int = REQUESTS
) -> dict[str, Any]:
    raws = requests_for(server.port, count, sent[0])
    sent[0] += count
    cpu = server.cpu_seconds()
    result = run(server.port, raws, rate)
    result["cpu_ms"] = (server.cpu_seconds() - cpu) / max(1, result["n"]) * 1000
    if result["errors"]:
        raise SystemExit(
            f"{name}: {len(result['errors'])} failed requests, e.g. {result['errors'][:3]}"
        )
    return result


def main() -> int:
    sys.path.insert(0, str(ROOT))
    pin = len(os.sched_getaffinity(0)) >= 2 and {SERVER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0)
    if not reachable(PG_URL, 5432):
        raise SystemExit(f"PostgreSQL is not reachable at {PG_URL}")
    broker = AMQP_URL if reachable(AMQP_URL, 5672) else "memory://"
    _fresh_database(PG_URL)
    env = environment(broker)
    # As the Procfile's web: counters in prometheus_client's multiprocess files.
    metrics_dir = tempfile.mkdtemp(prefix="backstop-bench-metrics-")
    intake_env = {**env, "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
    seed(env)
    drop_queue(broker)
    if pin:
        os.sched_setaffinity(0, {CLIENT_CPU})  # threads started later inherit it
    print(
        f"gunicorn: {WORKERS} gthread workers x {THREADS} threads, one access line per "
        f"request (the app's for intake, gunicorn's for bare flask); server CPU "
        f"{SERVER_CPU if pin else 'any'}, client CPU {CLIENT_CPU if pin else 'any'} "
        f"({CLIENT_THREADS} threads); database {PG_URL}; broker "
        f"{broker.split('@')[-1] if '@' in broker else broker}; load average "
        f"{os.getloadavg()[0]:.1f} (other work on the machine skews every number)",
        flush=True,
    )
    intake_sent, bare_sent = [0], [0]
    try:
        with (
            gunicorn("bench_webhooks:intake_app()", intake_env, pin, False) as intake_server,
            gunicorn("bench_webhooks:bare_app()", env, pin, True) as bare_server,
        ):
            measure("intake warm-up", intake_server, intake_sent, count=WARMUP)
            measure("bare warm-up", bare_server, bare_sent, count=WARMUP)
            intake_runs, bare_runs = [], []
            for round_ in range(1, ROUNDS + 1):
                bare_runs.append(measure("bare", bare_server, bare_sent))
                intake_runs.append(measure("intake", intake_server, intake_sent))
                i, b = intake_runs[-1], bare_runs[-1]
                print(
                    f"  round {round_}: intake {i['rps']:.0f} req/s, p99 {i['p99']:.1f} ms, "
                    f"gunicorn CPU {i['cpu_ms']:.2f} ms/req; bare {b['rps']:.0f} req/s, "
                    f"p99 {b['p99']:.1f} ms, gunicorn CPU {b['cpu_ms']:.2f} ms/req",
                    flush=True,
                )
            intake = _median(intake_runs)
            bare = _median(bare_runs)
            half = intake["rps"] / 2
            paced = max(600, min(3000, round(half * PACED_SECONDS)))
            paced_intake = measure(
                "paced intake", intake_server, intake_sent, rate=half, count=paced
            )
            paced_bare = measure("paced bare", bare_server, bare_sent, rate=half, count=paced)
        stored = stored_events()
    finally:
        drop_queue(broker)
        shutil.rmtree(metrics_dir, ignore_errors=True)
    if stored != intake_sent[0]:
        raise SystemExit(f"intake answered 200 to {intake_sent[0]} events but stored {stored}")
    ratio = intake["rps"] / bare["rps"]
    print(
        f"intake: {intake['rps']:.0f} req/s, p99 {intake['p99']:.1f} ms; "
        f"bare flask: {bare['rps']:.0f} req/s, p99 {bare['p99']:.1f} ms; "
        f"ratio N/M = {ratio:.2f}"
    )
    print(
        f"gunicorn CPU per request (median run): intake {intake['cpu_ms']:.2f} ms, "
        f"bare flask {bare['cpu_ms']:.2f} ms; one-core capacity ratio "
        f"{bare['cpu_ms'] / intake['cpu_ms']:.2f} (PostgreSQL's and RabbitMQ's CPU not "
        f"included)"
    )
    print(
        f"paced at half the intake rate ({half:.0f} req/s, {paced} requests): "
        f"intake p50 {paced_intake['p50']:.1f} ms, p99 {paced_intake['p99']:.1f} ms; "
        f"bare flask p50 {paced_bare['p50']:.1f} ms, p99 {paced_bare['p99']:.1f} ms"
    )
    verdict = [
        f"ratio {'>=' if ratio >= 0.6 else '<'} 0.6",
        f"p99 at half rate {'<' if paced_intake['p99'] < 20 else '>='} 20 ms",
    ]
    print(f"aim: ratio >= 0.6 and p99 < 20 ms at half rate -> {', '.join(verdict)}")
    return 0


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median throughput (its own p99 goes with it)."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


if __name__ == "__main__":
    sys.exit(main())

"""Stripe sandbox throughput, against a bare werkzeug app as the baseline, and the cost of
advancing a test clock with many subscriptions on it.

    .venv/bin/python bench/bench_sandbox.py      (from the repo root; about a minute)

The sandbox runs as ``python -m stripe_sandbox --port 0`` and the baseline as a bare WSGI
app returning a small JSON under the same server (werkzeug ``make_server(threaded=True)``,
request logging off); each server is pinned to CPU 0 and this process, the load, to
CPU 1 when there are two or more CPUs. The load is a few closed-loop threads, each with
its own ``requests.Session`` (keep-alive where the server allows it; werkzeug's server
closes after every response, so each request opens a new loopback connection, for both
servers alike). Loopback only; bounded request counts.

Prints::

    sandbox simple GET: N req/s (baseline M req/s, ratio R)     GET /v1/customers/<id>
        ... latencies, CPU busy shares, server CPU per request and one-core capacity
    sandbox simple POST: N req/s (baseline M req/s, ratio R)    POST /v1/customers
    billing: 1000 subscriptions on one test clock, advanced 30 days in S s: X ms/subscription

Aim: at least 300 simple requests/s on one core. See bench/README.md.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
CLIENT_THREADS = 8
REQUESTS = 1500  # per measured run
WARMUP = 200
ROUNDS = 3  # measured runs per server and request; the median is reported
RUN_SECONDS_CAP = 10.0  # a run stops early after this long (slow machines)
AIM_RPS = 300
BILLING_SUBSCRIPTIONS = 1000
BILLING_SETUP_THREADS = 4
DAY = 86400
BILLING_T0 = calendar.timegm((2027, 2, 1, 0, 0, 0))  # a 28-day month: renews within 30 days


# -- CPU pinning --------------------------------------------------------------------------------


def cores() -> tuple[int | None, set[int] | None]:
    """(server core, client cores), or (None, None) when there is only one CPU."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return available[0], {available[1]}


SERVER_CORE, CLIENT_CORES = cores()


def _pin_server() -> None:  # runs in the child between fork and exec
    if SERVER_CORE is not None:
        os.sched_setaffinity(0, {SERVER_CORE})


# -- servers ------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process (all its threads) so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(argv: list[str], banner: str) -> Iterator[Server]:
    """Start a server subprocess pinned to the server core; yield its URL and pid."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, *argv],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        preexec_fn=_pin_server,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if banner not in line:
            raise RuntimeError(f"{argv} did not start: {line!r}")
        yield Server(line.rsplit(" ", 1)[1].strip(), proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def sandbox() -> Any:
    return server(["-m", "stripe_sandbox", "--port", "0"], "stripe sandbox listening on")


def baseline() -> Any:
    return server([str(Path(__file__).resolve()), "--baseline-server"], "baseline listening on")


def run_baseline_server() -> None:
    """A bare WSGI app under the sandbox's server setup: small JSON for every request."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    body = json.dumps(
        {
            "id": "cus_baseline",
            "object": "customer",
            "email": None,
            "livemode": False,
            "metadata": {},
        }
    ).encode()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    srv = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    srv.daemon_threads = True
    print(f"baseline listening on http://127.0.0.1:{srv.server_port}", flush=True)
    srv.serve_forever()


# -- load -----------------------------------------------------------------------------------------


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    closed: float  # share of responses that said Connection: close
    errors: int
    server_cpu: float  # share of the run's wall time the server process was on a CPU
    client_cpu: float  # the same for this process (the load generator)

    @property
    def server_ms_per_request(self) -> float:
        return 1000 * self.server_cpu / self.rps

    @property
    def capacity(self) -> float:
        """Requests/s the server could answer with its one core 100% busy."""
        return 1000 / self.server_ms_per_request


def load(
    target: Server,
    send: Callable[[requests.Session], requests.Response],
    total: int,
    threads: int = CLIENT_THREADS,
) -> Result:
    """``total`` requests from ``threads`` closed-loop clients, each on its own Session."""
    lock = threading.Lock()
    remaining = [total]
    latencies: list[float] = []
    counts = {"closed": 0, "errors": 0}
    deadline = time.perf_counter() + RUN_SECONDS_CAP
    start_gate = threading.Barrier(threads + 1)

    def worker() -> None:
        session = requests.Session()
        mine: list[float] = []
        closed = errors = 0
        start_gate.wait()
        while True:
            with lock:
                if remaining[0] <= 0 or time.perf_counter() > deadline:
                    break
                remaining[0] -= 1
            t = time.perf_counter()
            response = send(session)
            mine.append(time.perf_counter() - t)
            errors += response.status_code != 200
            closed += response.headers.get("Connection", "").lower() == "close"
        session.close()
        with lock:
            latencies.extend(mine)
            counts["closed"] += closed
            counts["errors"] += errors

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    server_cpu, client_cpu = target.cpu_seconds(), time.process_time()
    start_gate.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    server_cpu, client_cpu = target.cpu_seconds() - server_cpu, time.process_time() - client_cpu
    latencies.sort()
    done = len(latencies)
    return Result(
        rps=done / elapsed,
        p50_ms=1000 * latencies[done // 2],
        p99_ms=1000 * latencies[min(done - 1, int(done * 0.99))],
        closed=counts["closed"] / done,
        errors=counts["errors"],
        server_cpu=server_cpu / elapsed,
        client_cpu=client_cpu / elapsed,
    )


def median(runs: list[Result]) -> Result:
    return sorted(runs, key=lambda r: r.rps)[len(runs) // 2]


def compare(
    ours: Server,
    base: Server,
    send: Callable[[Server], Callable[[requests.Session], requests.Response]],
) -> tuple[Result, Result]:
    """Warm both up, then alternate measured runs (sandbox, baseline, ...) so that drift
    on the machine (other load, TIME_WAIT sockets piling up) hits both alike."""
    load(ours, send(ours), WARMUP)
    load(base, send(base), WARMUP)
    mine, theirs = [], []
    for _ in range(ROUNDS):
        mine.append(load(ours, send(ours), REQUESTS))
        theirs.append(load(base, send(base), REQUESTS))
    return median(mine), median(theirs)


def bench_simple() -> None:
    key = "sk_test_bench_" + secrets.token_hex(8)
    auth = {"Authorization": f"Bearer {key}"}
    with sandbox() as ours, baseline() as base:
        created = requests.post(
            f"{ours.url}/v1/customers",
            data={"email": "bench@example.com"},
            headers=auth,
            timeout=10,
        )
        created.raise_for_status()
        customer_ids = {ours.url: created.json()["id"], base.url: "cus_baseline"}

        def get(target: Server) -> Callable[[requests.Session], requests.Response]:
            url = f"{target.url}/v1/customers/{customer_ids[target.url]}"
            return lambda s: s.get(url, headers=auth, timeout=10)

        def post(target: Server) -> Callable[[requests.Session], requests.Response]:
            url = f"{target.url}/v1/customers"
            data = {"email": "bench@example.com", "metadata[source]": "bench"}
            return lambda s: s.post(url, headers=auth, data=data, timeout=10)

        for verb, path, send in (
            ("GET", "GET /v1/customers/<id>", get),
            ("POST", "POST /v1/customers", post),
        ):
            mine, theirs = compare(ours, base, send)
            print(
                f"sandbox simple {verb}: {mine.rps:.0f} req/s (baseline {theirs.rps:.0f} "
                f"req/s, ratio {mine.rps / theirs.rps:.2f})"
            )
            print(
                f"    {path}: p50 {mine.p50_ms:.1f} ms, p99 {mine.p99_ms:.1f} ms "
                f"(baseline p50 {theirs.p50_ms:.1f} ms, p99 {theirs.p99_ms:.1f} ms); "
                f"errors {mine.errors}; Connection: close on {mine.closed:.0%}"
            )
            print(
                f"    CPU busy: sandbox {mine.server_cpu:.0%}, client {mine.client_cpu:.0%} "
                f"(baseline run: server {theirs.server_cpu:.0%}, "
                f"client {theirs.client_cpu:.0%})"
            )
            print(
                f"    server CPU per request: sandbox {mine.server_ms_per_request:.2f} ms, "
                f"baseline {theirs.server_ms_per_request:.2f} ms; one-core capacity "
                f"~{mine.capacity:.0f} vs ~{theirs.capacity:.0f} req/s "
                f"(ratio {mine.capacity / theirs.capacity:.2f})"
            )
            verdict = "meets" if mine.rps >= AIM_RPS else "BELOW"
            print(f"    {verdict} the aim of {AIM_RPS} req/s on one core", flush=True)


# -- billing: one test clock, many subscriptions --------------------------------------------------


def bench_billing(count: int = BILLING_SUBSCRIPTIONS) -> None:
    import stripe

    key = "sk_test_bench_" + secrets.token_hex(8)
    with sandbox() as target:
        client = stripe.StripeClient(
            key,
            base_addresses={"api": target.url},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=600),
        )
        clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": BILLING_T0})
        product = client.v1.products.create(params={"name": "Bench plan"})
        price = client.v1.prices.create(
            params={
                "product": product.id,
                "currency": "usd",
                "unit_amount": 1500,
                "recurring": {"interval": "month"},
            }
        )

        def subscribe(_: int) -> str:
            pm = client.v1.payment_methods.create(
                params={"type": "card", "card": {"token": "tok_visa"}}
            )
            customer = client.v1.customers.create(
                params={
                    "test_clock": clock.id,
                    "payment_method": pm.id,
                    "invoice_settings": {"default_payment_method": pm.id},
                }
            )
            sub = client.v1.subscriptions.create(
                params={"customer": customer.id, "items": [{"price": price.id}]}
            )
            return sub.status

        began = time.perf_counter()
        with ThreadPoolExecutor(BILLING_SETUP_THREADS) as pool:
            statuses = list(pool.map(subscribe, range(count)))
        setup = time.perf_counter() - began
        active = statuses.count("active")
        print(
            f"billing setup: {count} customers with a monthly subscription in {setup:.1f} s "
            f"({3 * count / setup:.0f} req/s; {active} active)",
            flush=True,
        )

        began = time.perf_counter()
        client.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": BILLING_T0 + 30 * DAY}
        )
        polls = 0
        while client.v1.test_helpers.test_clocks.retrieve(clock.id).status != "ready":
            polls += 1
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
        renewals = sum(
            1
            for inv in client.v1.invoices.list(
                params={"limit": 100, "created": {"gt": BILLING_T0}}
            ).auto_paging_iter()
            if inv.billing_reason == "subscription_cycle"
        )
        print(
            f"billing: {count} subscriptions on one test clock, advanced 30 days in "
            f"{elapsed:.2f} s: {1000 * elapsed / count:.2f} ms/subscription "
            f"({renewals} renewal invoices; {polls} polls)",
            flush=True,
        )


# -- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-billing", action="store_true", help="only (a) and (b)")
    parser.add_argument("--subscriptions", type=int, default=BILLING_SUBSCRIPTIONS)
    args = parser.parse_args()
    if args.baseline_server:
        run_baseline_server()
        return 0
    if CLIENT_CORES is None:
        print("warning: one CPU only; server and client share it (no pinning)")
    else:
        os.sched_setaffinity(0, CLIENT_CORES)
        print(
            f"servers pinned to CPU {SERVER_CORE}, client to CPU "
            f"{','.join(map(str, sorted(CLIENT_CORES)))}; {CLIENT_THREADS} client threads, "
            f"{REQUESTS} requests per run, median of {ROUNDS} runs",
            flush=True,
        )
    bench_simple()
    if args.skip_billing:
        return 0
    try:
        bench_billing(args.subscriptions)
    except Exception as exc:  # billing may not exist yet on this checkout
        print(f"billing: failed: {type(exc).__name__}: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

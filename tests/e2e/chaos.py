"""The chaos the month of tests/e2e/test_chaos.py goes through: restarts of the
database and the broker (through :mod:`.chaos_proxy`), a worker killed, a touch that
outlives its lease, each while a Stripe call the sandbox holds is under way; and a day of
webhooks delivered in a duplicated, shuffled burst."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..conftest import account_events
from .chaos_proxy import ChaosProxy
from .merchant import Merchant
from .stack import Proc, Stack, post, stripe_call, stripe_post, wait_until

SEED = 19  # the burst's order
PAY, INVOICE = r"/v1/invoices/[^/]+/pay", r"/v1/invoices/[^/]+"


@dataclass
class Chaos:
    stack: Stack
    database: ChaosProxy
    broker: ChaosProxy
    steps_worker: Proc
    """The worker that runs events and steps (the other one delivers mail)."""
    hold: str = ""
    """The sandbox's hold of the moment."""


@contextmanager
def held(chaos: Chaos, sandbox_url: str, method: str, path: str) -> Iterator[None]:
    """Stripe holds every ``method`` call on ``path`` (a regular expression) meanwhile,
    or until :func:`release`."""
    hold = stripe_post(
        sandbox_url,
        chaos.stack.platform_key,
        "/v1/test_helpers/sandbox/holds",
        {"method": method, "path": path},
    )
    chaos.hold = hold["id"]
    try:
        yield
    finally:
        release(chaos, sandbox_url)


def release(chaos: Chaos, sandbox_url: str) -> None:
    if chaos.hold:
        path = f"/v1/test_helpers/sandbox/holds/{chaos.hold}/release"
        stripe_call(sandbox_url, chaos.stack.platform_key, path, b"")
        chaos.hold = ""


def wait_for_held(chaos: Chaos, sandbox_url: str) -> None:
    path = f"/v1/test_helpers/sandbox/holds/{chaos.hold}"
    wait_until(
        "a worker to be in a held Stripe call",
        lambda: stripe_call(sandbox_url, chaos.stack.platform_key, path)["waiting"],
        diagnose=chaos.stack.diagnose,
    )


def restart_broker(chaos: Chaos, let_go: Callable[[], None]) -> None:
    """The workers' consumers notice at once and come back on their own."""
    chaos.broker.restart(turned_away=2)


def restart_database(chaos: Chaos, let_go: Callable[[], None]) -> None:
    """The worker held mid-transaction goes on (Stripe answers) and finds the server gone."""
    chaos.database.restart(turned_away=1, while_down=let_go)


def kill_steps_worker(chaos: Chaos, let_go: Callable[[], None]) -> None:
    """SIGKILL the worker of events and steps, let Stripe charge, and start another."""
    doomed = chaos.steps_worker
    doomed.proc.kill()  # no cleanup: its messages are not acknowledged
    doomed.proc.wait(timeout=10)
    doomed.log.close()
    chaos.stack.procs.remove(doomed)
    let_go()  # the worker died after asking, before hearing back
    chaos.steps_worker = chaos.stack.worker(concurrency=2, queues="celery")


#: Each act gets what lets the held Stripe call go on (called by the act, or after it).
ACTS: dict[str, Callable[[Chaos, Callable[[], None]], None]] = {
    "broker": restart_broker,
    "kill": kill_steps_worker,
    "database": restart_database,
}


def stall_a_touch_past_its_lease(chaos: Chaos, merchant: Merchant, sandbox_url: str) -> int:
    """Move to the next email touch with Stripe slow to answer about its customer until
    the sweeper has handed the step out again (its lease ran out): two runs of one step
    at once. Returns the step's id."""
    from app.recovery.models import Campaign, Step

    db = merchant.db
    db.session.remove()
    step_id, due_at, customer = db.session.execute(
        select(Step.id, Step.due_at, Campaign.customer_stripe_id)
        .join(Campaign, Campaign.id == Step.campaign_id)
        .where(Step.kind == "email", Step.status == "pending", Step.due_at > merchant.now)
        .order_by(Step.due_at)
        .limit(1)
    ).one()

    def claimed_again() -> bool:
        db.session.remove()
        return db.session.get(Step, step_id).attempts >= 2

    with held(chaos, sandbox_url, "GET", f"/v1/customers/{customer}"):
        merchant.advance(due_at)
        wait_for_held(chaos, sandbox_url)
        wait_until("the lease to run out", claimed_again, diagnose=chaos.stack.diagnose)
    return step_id


def endpoint_id(stack: Any, sandbox_url: str) -> str:
    endpoints = stripe_call(sandbox_url, stack.platform_key, "/v1/webhook_endpoints?limit=100")
    return next(
        e["id"] for e in endpoints["data"] if e["url"] == stack.web_url + "/webhooks/stripe"
    )


def merchant_events(merchant: Merchant, sandbox_url: str) -> list[dict[str, Any]]:
    """Every event of the merchant's account, as the sandbox would deliver it."""
    return account_events(sandbox_url, merchant.key, merchant.account)


def day_of_webhooks_in_a_burst(
    stack: Any, merchant: Merchant, at: dt.datetime, sandbox_url: str
) -> dict[str, int]:
    """Move to ``at`` with the webhook endpoint off, then post what that move emitted,
    twice each and shuffled with re-sent events Backstop already has, 8 at a time."""
    from app.stripe.models import StripeEvent
    from app.stripe.signatures import sign

    endpoint = endpoint_id(stack, sandbox_url)
    path = f"/v1/webhook_endpoints/{endpoint}"
    stripe_post(sandbox_url, stack.platform_key, path, {"disabled": "true"})
    merchant.advance(at)
    merchant.db.session.remove()
    stored = set(merchant.db.session.execute(select(StripeEvent.stripe_event_id)).scalars())
    emitted = merchant_events(merchant, sandbox_url)
    missed = [e for e in emitted if e["id"] not in stored]
    assert missed, "the move emitted events"
    rng = random.Random(SEED)
    delivered = [
        e for e in emitted if e["id"] in stored and e["created"] >= int(at.timestamp()) - 3 * 86400
    ]
    burst = missed * 2 + rng.sample(delivered, min(len(delivered), 60))
    rng.shuffle(burst)

    def deliver(event: dict[str, Any]) -> int:
        body = json.dumps(event).encode()
        status, _ = post(
            stack.web_url + "/webhooks/stripe",
            body,
            {
                "Content-Type": "application/json",
                "Stripe-Signature": sign(body, stack.webhook_secret, int(time.time())),
            },
        )
        return status

    with ThreadPoolExecutor(8) as pool:
        statuses = Counter(pool.map(deliver, burst))
    stripe_post(sandbox_url, stack.platform_key, path, {"disabled": "false"})
    assert set(statuses) == {200}, statuses
    return {"missed": len(missed), "posted": len(burst)}

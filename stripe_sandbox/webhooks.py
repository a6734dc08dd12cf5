"""Webhook delivery: each event goes to every endpoint that wants it, signed as Stripe
signs (``Stripe-Signature: t=<unix>,v1=<hmac-sha256 of "t.body">``), retried with
backoff while the receiver fails. One background thread; deliveries in event order.
"""

from __future__ import annotations

import heapq
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from .events import endpoints_for
from .store import Account, State

DEFAULT_RETRY_DELAYS = (5.0, 30.0, 120.0, 600.0, 3600.0)


def sign(payload: str, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(order=True)
class Delivery:
    due: float
    seq: int
    account_id: str = field(compare=False)  # the event's account
    event_id: str = field(compare=False)
    endpoint_account_id: str = field(compare=False)
    endpoint_id: str = field(compare=False)
    attempt: int = field(default=1, compare=False)


class Deliverer:
    def __init__(
        self,
        state: State,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        timeout: float = 10.0,
    ):
        self.state = state
        self.retry_delays = retry_delays
        self.timeout = timeout
        self.queue: list[Delivery] = []
        self.seq = itertools.count()
        self.cond = threading.Condition()
        self.in_flight = 0
        self.attempts: list[dict[str, Any]] = []  # recent delivery attempts, for tests
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="webhook-deliverer", daemon=True)
        state.listeners.append(self.on_event)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def on_event(self, acct: Account, event: dict[str, Any]) -> None:
        """Called under the state lock by ``events.emit``."""
        endpoints = endpoints_for(self.state, acct, event["type"])
        if not endpoints:
            return
        event["pending_webhooks"] = len(endpoints)
        now = time.time()
        with self.cond:
            for endpoint in endpoints:
                owner = acct.id if endpoint["id"] in acct.objects else acct.platform_id
                heapq.heappush(
                    self.queue,
                    Delivery(now, next(self.seq), acct.id, event["id"], owner, endpoint["id"]),
                )
            self.cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is queued for now or in flight (later retries do not count)."""
        deadline = time.time() + timeout
        with self.cond:
            while self.in_flight or (self.queue and self.queue[0].due <= time.time()):
                remaining = deadline - time.time()
                if remaining <= 0:
                    return False
                self.cond.wait(remaining)
        return True

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.stopped and (not self.queue or self.queue[0].due > time.time()):
                    wait = (self.queue[0].due - time.time()) if self.queue else None
                    self.cond.wait(wait)
                if self.stopped:
                    return
                delivery = heapq.heappop(self.queue)
                self.in_flight += 1
            try:
                self._deliver(delivery)
            finally:
                with self.cond:
                    self.in_flight -= 1
                    self.cond.notify_all()

    def _deliver(self, delivery: Delivery) -> None:
        with self.state.lock:
            acct = self.state.accounts.get(delivery.account_id)
            owner = self.state.accounts.get(delivery.endpoint_account_id)
            if acct is None or owner is None:
                return
            event = acct.objects.get(delivery.event_id)
            endpoint = owner.objects.get(delivery.endpoint_id)
            if event is None or endpoint is None or endpoint["status"] != "enabled":
                return
            secret = owner.priv(endpoint["id"])["secret"]
            url = endpoint["url"]
            payload = json.dumps(event, indent=2)
        timestamp = int(time.time())
        request = urllib.request.Request(  # noqa: S310 - endpoints are http(s) only
            url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign(payload, secret, timestamp),
            },
        )
        status, error = 0, None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            error = str(exc)
        ok = 200 <= status < 300
        with self.state.lock:
            self.attempts.append(
                {
                    "event": delivery.event_id,
                    "endpoint": delivery.endpoint_id,
                    "attempt": delivery.attempt,
                    "status": status,
                    "error": error,
                    "at": timestamp,
                }
            )
            del self.attempts[:-1000]
            if ok:
                event["pending_webhooks"] = max(0, event["pending_webhooks"] - 1)
        if not ok and delivery.attempt <= len(self.retry_delays):
            delay = self.retry_delays[delivery.attempt - 1]
            with self.cond:
                heapq.heappush(
                    self.queue,
                    Delivery(
                        time.time() + delay,
                        next(self.seq),
                        delivery.account_id,
                        delivery.event_id,
                        delivery.endpoint_account_id,
                        delivery.endpoint_id,
                        delivery.attempt + 1,
                    ),
                )
                self.cond.notify_all()

"""The sandbox's state: accounts, their objects, keys, idempotency records and time.

One process-wide :class:`State` guarded by one lock; every request and every clock
advance runs under it, so the sandbox behaves as a single serialisable Stripe.
Each account (the platform behind an API key, or a connected ``acct_``) has its own
objects, events and scheduled jobs, isolated from every other account.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import itertools
import json
import os
import secrets
import string
import threading
import time
from collections import OrderedDict
from typing import Any

_ALPHABET = string.ascii_letters + string.digits

DEFAULT_ACCOUNT_SETTINGS: dict[str, Any] = {
    # Stripe's own automatic retries of failed subscription payments: "off" or "default"
    # (Stripe's documented default custom schedule, see SANDBOX_RETRY_SCHEDULE_DAYS).
    "automatic_retries": "off",
    # What Stripe does to the subscription once its retries are exhausted:
    # "past_due" (leave it), "unpaid", or "cancel".
    "subscription_after_retries": "past_due",
}

#: Days after the previous attempt for Stripe's default custom retry schedule
#: ("retry 3, 5 and 7 days after the previous attempt", then give up).
SANDBOX_RETRY_SCHEDULE_DAYS = (3, 5, 7)


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def account_id_for_key(key: str) -> str:
    """Every API key that is not an OAuth token names its own account, stably."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return "acct_1" + digest[:15].upper()


class Account:
    def __init__(self, account_id: str, platform_id: str | None = None):
        self.id = account_id
        self.platform_id = platform_id  # set for accounts connected to a platform
        self.objects: dict[str, dict[str, Any]] = {}
        self.by_type: dict[str, dict[str, None]] = {}
        self.private: dict[str, dict[str, Any]] = {}
        self.events: dict[str, None] = {}
        self.jobs: dict[str, list[tuple[int, int, str, str]]] = {}
        self.settings: dict[str, Any] = dict(DEFAULT_ACCOUNT_SETTINGS)
        self.counters: dict[str, int] = {}
        self.created = int(time.time())

    # -- objects -------------------------------------------------------------------
    def put(self, obj: dict[str, Any], private: dict[str, Any] | None = None) -> dict[str, Any]:
        oid = obj["id"]
        self.objects[oid] = obj
        self.by_type.setdefault(obj["object"], {})[oid] = None
        if private is not None:
            self.private[oid] = private
        return obj

    def get(self, oid: str | None, kind: str | None = None) -> dict[str, Any] | None:
        if not oid:
            return None
        obj = self.objects.get(oid)
        if obj is None or (kind is not None and obj["object"] != kind):
            return None
        return obj

    def remove(self, oid: str) -> None:
        obj = self.objects.pop(oid, None)
        if obj is not None:
            self.by_type.get(obj["object"], {}).pop(oid, None)
        self.private.pop(oid, None)

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Objects of one type, newest first (insertion order, reversed)."""
        ids = self.by_type.get(kind, {})
        return [self.objects[i] for i in reversed(ids)]

    def priv(self, oid: str) -> dict[str, Any]:
        return self.private.setdefault(oid, {})

    def next_number(self, name: str) -> int:
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]

    # -- jobs ------------------------------------------------------------------------
    def schedule(
        self, clock_id: str | None, due: int, kind: str, target: str, seq: itertools.count
    ) -> None:
        heapq.heappush(self.jobs.setdefault(clock_id or "", []), (due, next(seq), kind, target))

    def pop_due(self, clock_id: str | None, until: int) -> tuple[int, str, str] | None:
        heap = self.jobs.get(clock_id or "")
        if heap and heap[0][0] <= until:
            due, _, kind, target = heapq.heappop(heap)
            return due, kind, target
        return None

    def drop_jobs(self, clock_id: str | None) -> None:
        self.jobs.pop(clock_id or "", None)

    # -- persistence -------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform_id": self.platform_id,
            "objects": self.objects,
            "order": {k: list(v) for k, v in self.by_type.items()},
            "private": self.private,
            "events": list(self.events),
            "jobs": self.jobs,
            "settings": self.settings,
            "counters": self.counters,
            "created": self.created,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Account:
        acct = cls(data["id"], data.get("platform_id"))
        acct.objects = data["objects"]
        acct.by_type = {k: dict.fromkeys(v) for k, v in data["order"].items()}
        acct.private = data["private"]
        acct.events = dict.fromkeys(data["events"])
        acct.jobs = {k: [tuple(j) for j in v] for k, v in data["jobs"].items()}
        for heap in acct.jobs.values():
            heapq.heapify(heap)
        acct.settings = {**DEFAULT_ACCOUNT_SETTINGS, **data["settings"]}
        acct.counters = data["counters"]
        acct.created = data["created"]
        return acct


class IdempotencyCache:
    """First response per (account, key), replayed for 24 hours; bounded in size."""

    TTL = 24 * 3600

    def __init__(self, max_entries: int = 200_000):
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple[str, str], tuple[str, int, bytes, float]] = OrderedDict()

    def get(self, account_id: str, key: str) -> tuple[str, int, bytes, float] | None:
        entry = self.entries.get((account_id, key))
        if entry and time.time() - entry[3] > self.TTL:
            del self.entries[(account_id, key)]
            return None
        return entry

    def put(self, account_id: str, key: str, fingerprint: str, status: int, body: bytes) -> None:
        self.entries[(account_id, key)] = (fingerprint, status, body, time.time())
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


class State:
    def __init__(self, path: str | None = None):
        self.lock = threading.RLock()
        self.path = path
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, str] = {}  # OAuth access tokens -> connected account
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.idempotency = IdempotencyCache()
        from .holds import Holds  # not saved with the state: holds live with the process

        self.holds = Holds()
        self.seq = itertools.count()
        self.dirty = False
        self.listeners: list[Any] = []  # callables(account, event) run after each emit

    # -- accounts and keys ---------------------------------------------------------------
    def account(self, account_id: str, platform_id: str | None = None) -> Account:
        acct = self.accounts.get(account_id)
        if acct is None:
            acct = self.accounts[account_id] = Account(account_id, platform_id)
        return acct

    def account_for_key(self, key: str) -> Account:
        connected = self.keys.get(key)
        if connected:
            return self.account(connected)
        return self.account(account_id_for_key(key))

    # -- time --------------------------------------------------------------------------
    def now(self, acct: Account, clock_id: str | None = None) -> int:
        """Current time for an object: its test clock's frozen time, else the wall clock."""
        if clock_id:
            clock = acct.get(clock_id)
            if clock is not None:
                return clock["frozen_time"]
        return int(time.time())

    def now_for_customer(self, acct: Account, customer_id: str | None) -> int:
        return self.now(acct, self.clock_of_customer(acct, customer_id))

    @staticmethod
    def clock_of_customer(acct: Account, customer_id: str | None) -> str | None:
        customer = acct.get(customer_id) if customer_id else None
        return customer.get("test_clock") if customer else None

    # -- persistence ---------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "accounts": {k: v.dump() for k, v in self.accounts.items()},
            "keys": self.keys,
            "oauth_codes": self.oauth_codes,
        }

    def save(self) -> None:
        if not self.path:
            return
        with self.lock:
            payload = json.dumps(self.dump())
            self.dirty = False
        tmp = self.path + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(payload)
        os.replace(tmp, self.path)

    def load(self) -> None:
        if not self.path or not os.path.exists(self.path):
            return
        with open(self.path) as fh:
            data = json.load(fh)
        self.accounts = {k: Account.load(v) for k, v in data["accounts"].items()}
        self.keys = data["keys"]
        self.oauth_codes = data.get("oauth_codes", {})

    def reset(self) -> None:
        with self.lock:
            self.accounts.clear()
            self.keys.clear()
            self.oauth_codes.clear()
            self.idempotency = IdempotencyCache()
            self.dirty = True


def snapshot(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy for events and previous states, so later changes do not leak into them."""
    return copy.deepcopy(obj)

"""Holds: make matching API requests wait until released (sandbox only).

A test that must act while Backstop is in the middle of a call (kill the worker that
is waiting on ``invoices.pay``, say) holds that call, sees it waiting, acts, and
releases it; the request then runs as if the network had been slow.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .store import new_id

MAX_WAIT = 120.0  # seconds: a forgotten hold never wedges the sandbox


@dataclass
class Hold:
    id: str
    method: str
    pattern: re.Pattern[str]
    waiting: int = 0
    released: threading.Event = field(default_factory=threading.Event)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "sandbox.hold",
            "method": self.method,
            "path": self.pattern.pattern,
            "waiting": self.waiting,
            "released": self.released.is_set(),
        }


class Holds:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: dict[str, Hold] = {}

    def add(self, method: str, path: str) -> Hold:
        hold = Hold(new_id("hold"), method.upper(), re.compile(path))
        with self.lock:
            self.active[hold.id] = hold
        return hold

    def get(self, hold_id: str) -> Hold | None:
        return self.active.get(hold_id)

    def release(self, hold_id: str) -> Hold | None:
        with self.lock:
            hold = self.active.pop(hold_id, None)
        if hold is not None:
            hold.released.set()
        return hold

    def wait(self, method: str, path: str) -> None:
        """Block a matching request until its hold is released (or MAX_WAIT passes)."""
        with self.lock:
            matching = [
                h for h in self.active.values() if h.method == method and h.pattern.fullmatch(path)
            ]
            for hold in matching:
                hold.waiting += 1
        for hold in matching:
            hold.released.wait(MAX_WAIT)

"""Building the page Prometheus reads, and deciding who may read it."""

from __future__ import annotations

import hmac
import ipaddress
import os
import shutil
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def multiprocess_dir() -> str | None:
    """prometheus_client's own switch: it reads this variable when it is imported."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def prepare_dir(wipe: bool) -> None:
    """Make the multiprocess directory; ``wipe`` (the parent process, at start, before
    any child counts) clears the files of the previous run."""
    path = multiprocess_dir()
    if not path:
        return
    if wipe and os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path, exist_ok=True)


def process_exited(pid: int) -> None:
    """A child (gunicorn worker, Celery pool process) is gone: drop its live gauges."""
    if multiprocess_dir():
        prometheus_multiprocess.mark_process_dead(pid)


class _ThisProcess:
    """Everything registered in this process (single-process mode)."""

    def collect(self) -> Iterator[Any]:
        return REGISTRY.collect()


def registry(extra: Iterable[Any] = ()) -> CollectorRegistry:
    """Every process's counters (multiprocess mode) or this one's, plus ``extra``."""
    made = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        prometheus_multiprocess.MultiProcessCollector(made)
    else:
        made.register(_ThisProcess())
    for collector in extra:
        made.register(collector)
    return made


def render(extra: Iterable[Any] = ()) -> bytes:
    return generate_latest(registry(extra))


def may_scrape(
    *,
    token: str,
    networks: list[Any],
    authorization: str | None,
    remote_addr: str | None,
) -> bool:
    """A scraper may read the metrics with the bearer ``token`` or from one of
    ``networks``; with neither configured, nobody may."""
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    if networks and remote_addr:
        try:
            address = ipaddress.ip_address(remote_addr)
        except ValueError:
            return False
        return any(address in network for network in networks)
    return False

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


class _Processes:
    """CPU, memory and open files of each live process counting in the multiprocess
    directory (prometheus_client's own process collector, once per process, with a
    ``pid`` label), so a scrape of one process shows its siblings too."""

    def __init__(self, path: str):
        self.path = path

    def pids(self) -> set[int]:
        found = {os.getpid()}
        for name in os.listdir(self.path):
            stem = name.rsplit(".", 1)[0]
            pid = stem.rsplit("_", 1)[-1]
            if pid.isdigit() and os.path.exists(f"/proc/{pid}"):
                found.add(int(pid))
        return found

    def collect(self) -> Iterator[Any]:
        from prometheus_client import ProcessCollector
        from prometheus_client.metrics_core import Metric

        merged: dict[str, Metric] = {}
        for pid in sorted(self.pids()):
            collector = ProcessCollector(pid=lambda pid=pid: pid, registry=None)
            for family in collector.collect():
                into = merged.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    labels = {**sample.labels, "pid": str(pid)}
                    into.add_sample(sample.name, labels, sample.value)
        return iter(merged.values())


class _ThisProcess:
    """Everything registered in this process (single-process mode)."""

    def collect(self) -> Iterator[Any]:
        return REGISTRY.collect()


def registry(extra: Iterable[Any] = ()) -> CollectorRegistry:
    """Every process's counters (multiprocess mode) or this one's, plus ``extra``."""
    made = CollectorRegistry(auto_describe=False)
    path = multiprocess_dir()
    if path:
        prometheus_multiprocess.MultiProcessCollector(made)
        made.register(_Processes(path))
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

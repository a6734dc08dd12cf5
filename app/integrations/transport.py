"""Posting to a merchant's URL safely: every address the name resolves to is checked
(:mod:`.addresses`) and the connection goes to a checked address, keeping the name for
the ``Host`` header and TLS (so DNS rebinding cannot swap in a private address between
the check and the connection); redirects are not followed; time and the answer read are
bounded."""

from __future__ import annotations

import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection

from .addresses import AddressRefused, check_url, refusal

#: What is kept of an answer's body (the delivery log shows it).
MAX_ANSWER = 4096
USER_AGENT = "Backstop-Webhooks/1.0"

#: ``resolve(host, port)``: every address the name has now.
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class Answer:
    """What came of one post: an HTTP status and the start of the body, or an error."""

    status: int | None
    body: str | None
    duration_ms: int
    error: str | None = None
    retry_after: str | None = None  # the answer's Retry-After header, as sent

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    allow_loopback: bool,
    require_https: bool,
    resolver: Resolver = resolve,
) -> Answer:
    """POST ``body`` to ``url``; never raises for anything the far side does."""
    started = time.monotonic()

    def failed(error: str) -> Answer:
        return Answer(None, None, _ms(started), error[:500])

    try:
        host = check_url(url, allow_loopback=allow_loopback, require_https=require_https)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = resolver(host.strip("[]"), port)
        except (OSError, UnicodeError) as exc:
            return failed(f"the name {host} could not be resolved ({exc})")
        if not addresses:
            return failed(f"the name {host} has no address")
        for address in addresses:
            why = refusal(address, allow_loopback=allow_loopback)
            if why:
                raise AddressRefused(f"{host} resolves to {why}")
    except AddressRefused as exc:
        return failed(f"refused: {exc}")
    session = _session(parts.scheme, host, port, addresses[0])
    try:
        response = session.post(
            url,
            data=body,
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=(min(timeout, 3.0), timeout),
            allow_redirects=False,
            stream=True,
        )
    except requests.Timeout:
        return failed(f"no answer within {timeout:g} s")
    except requests.RequestException as exc:
        return failed(f"could not connect: {type(exc).__name__}")
    try:
        raw = response.raw.read(MAX_ANSWER, decode_content=True) or b""
    except Exception as exc:  # a body cut short or undecodable: the status still counts
        raw = f"(the answer's body could not be read: {type(exc).__name__})".encode()
    finally:
        response.close()
    error = None
    if 300 <= response.status_code < 400:
        error = "redirects are not followed: answer with a 2xx at the URL itself"
    body_text = raw.decode("utf-8", "replace")
    retry_after = response.headers.get("Retry-After")
    return Answer(response.status_code, body_text, _ms(started), error, retry_after)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# -- pinned connections ---------------------------------------------------------------------


class _Pinned:
    """Connects to ``pinned_ip`` while ``host`` stays the name (Host header, SNI and
    certificate checks all use the name)."""

    pinned_ip = ""

    def _new_conn(self) -> socket.socket:
        name = self._dns_host  # type: ignore[attr-defined]
        self._dns_host = self.pinned_ip
        try:
            return super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = name


class _PinnedPoolManager(PoolManager):
    def __init__(self, pinned_ip: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.pinned_ip = pinned_ip

    def _new_pool(self, scheme: str, host: str, port: int, request_context: Any = None) -> Any:
        pool = super()._new_pool(scheme, host, port, request_context)
        base = HTTPSConnection if scheme == "https" else HTTPConnection
        pool.ConnectionCls = type(
            "PinnedConnection", (_Pinned, base), {"pinned_ip": self.pinned_ip}
        )
        return pool


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, pinned_ip: str) -> None:
        self.pinned_ip = pinned_ip
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kw: Any):
        self.poolmanager = _PinnedPoolManager(
            self.pinned_ip, num_pools=connections, maxsize=maxsize, block=block, **kw
        )


_SESSIONS: OrderedDict[tuple[str, str, int, str], requests.Session] = OrderedDict()
_LOCK = threading.Lock()
_KEEP = 32


def _session(scheme: str, host: str, port: int, ip: str) -> requests.Session:
    """A session whose connections go to ``ip`` only (kept alive for the next post to
    the same name and address)."""
    key = (scheme, host, port, ip)
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is not None:
            _SESSIONS.move_to_end(key)
            return session
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment: it would do the resolving
        session.mount("http://", _PinnedAdapter(ip))
        session.mount("https://", _PinnedAdapter(ip))
        _SESSIONS[key] = session
        while len(_SESSIONS) > _KEEP:
            _SESSIONS.popitem(last=False)[1].close()
        return session

"""A TCP proxy that can play a server restart, for the chaos test.

The stack's processes reach PostgreSQL and RabbitMQ through one of these. ``restart()``
does to every client what a restart of the server does: each open connection is reset
(the server side sees its client vanish, so PostgreSQL aborts the transaction in
flight and RabbitMQ requeues the unacknowledged messages), then new connections fail at
once (accepted and reset: a client sees the server is not up) until enough of them have
been turned away, then they are forwarded again. Only the connections through the
proxy are touched: the real servers, and the other tests sharing them, never notice.

asyncio in a thread of its own: the test drives it with blocking calls that wait on
the loop's answer (bounded), never on a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")
_LINGER_RESET = struct.pack("ii", 1, 0)  # close() sends RST, not FIN


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already gone
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    writer.transport.abort()


@dataclass(eq=False)  # hashed by identity: kept in a set
class _Link:
    """One client connection and its upstream twin."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter

    def reset(self) -> None:
        _reset(self.client)
        _reset(self.upstream)


@dataclass
class Stats:
    forwarded: int = 0
    """Connections forwarded to the server so far."""
    reset: int = 0
    """Open connections reset by restarts."""
    refused: int = 0
    """Connections turned away while the server was "down"."""
    restarts: list[int] = field(default_factory=list)
    """For each restart, how many open connections it reset."""


class ChaosProxy:
    """Forward 127.0.0.1:<port> to ``upstream`` (host, port) until told to restart."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.stats = Stats()
        self._links: set[_Link] = set()
        self._down = False
        self._refused = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-proxy")
        self._thread.daemon = True
        self._thread.start()
        self._server = self._call(self._listen())
        self.port: int = self._server.sockets[0].getsockname()[1]

    # -- from the test's thread ---------------------------------------------------------

    def url(self, url: str) -> str:
        """``url`` (a database or broker URL) pointed at this proxy instead."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@" if credentials else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{self.port}"))

    def restart(
        self,
        *,
        turned_away: int = 1,
        while_down: Callable[[], object] | None = None,
        timeout: float = 30.0,
    ) -> int:
        """Reset every open connection and refuse new ones until ``turned_away`` clients
        have tried (they noticed and came back), or ``timeout`` passes; ``while_down`` is
        called once the server is down. Returns how many connections were reset."""
        with self._refused:
            target = self.stats.refused + turned_away
        count = self._call(self._go_down())
        try:
            if while_down is not None:
                while_down()
            with self._refused:
                self._refused.wait_for(lambda: self.stats.refused >= target, timeout)
        finally:
            self._call(self._come_up())
        self.stats.restarts.append(count)
        return count

    def close(self) -> None:
        self._call(self._shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    # -- on the loop ----------------------------------------------------------------------

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._accept, "127.0.0.1", 0, backlog=256)

    async def _go_down(self) -> int:
        self._down = True
        links, self._links = self._links, set()
        for link in links:
            link.reset()
        self.stats.reset += len(links)
        return len(links)

    async def _come_up(self) -> None:
        self._down = False

    async def _shut(self) -> None:
        await self._go_down()
        if self._server is not None:
            self._server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._down:
            _reset(writer)
            with self._refused:
                self.stats.refused += 1
                self._refused.notify_all()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _reset(writer)
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        self.stats.forwarded += 1
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            if link in self._links:  # ended by a peer, not by a restart
                self._links.discard(link)
                writer.close()
                up_writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.close()  # one side ended: end the other too (neither protocol half-closes)


@contextmanager
def proxied(url: str, default_port: int) -> Iterator[tuple[ChaosProxy, str]]:
    """A proxy before the server of ``url``, and ``url`` pointed at it."""
    parts = urlsplit(url)
    proxy = ChaosProxy(parts.hostname or "127.0.0.1", parts.port or default_port)
    try:
        yield proxy, proxy.url(url)
    finally:
        proxy.close()

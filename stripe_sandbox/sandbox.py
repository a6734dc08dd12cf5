"""Assemble and run the sandbox: state, WSGI app, webhook deliverer, the real-time clock."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from .server import SandboxApp
from .store import State
from .webhooks import DEFAULT_RETRY_DELAYS, Deliverer


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class Sandbox:
    """One sandbox: ``Sandbox(port=0).start()`` serves it on a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 12111,
        state_path: str | None = None,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        tick: float = 1.0,
        verbose: bool = False,
    ):
        from . import cycle

        self.state = State(state_path)
        self.state.load()
        self.deliverer = Deliverer(self.state, retry_delays)
        self.state.deliverer = self.deliverer  # type: ignore[attr-defined]
        self.app = SandboxApp(self.state)
        self.server = make_server(
            host, port, self.app, threaded=True, request_handler=None if verbose else _QuietHandler
        )
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_port
        self.state.base_url = self.url  # type: ignore[attr-defined]
        self.tick = tick
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._cycle = cycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _clock_loop(self) -> None:
        """Run what is due on the wall clock (objects on no test clock); save state."""
        while not self._stop.wait(self.tick):
            self._cycle.run_wall_clock(self.state)
            if self.state.dirty and self.state.path:
                self.state.save()

    def start(self) -> Sandbox:
        self.deliverer.start()
        for target in (self.server.serve_forever, self._clock_loop):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def serve_forever(self) -> None:
        self.deliverer.start()
        clock = threading.Thread(target=self._clock_loop, daemon=True)
        clock.start()
        try:
            self.server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        self.deliverer.stop()
        self.server.shutdown()
        if self.state.path:
            self.state.save()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

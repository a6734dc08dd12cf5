from __future__ import annotations

from ..message import Message


class OutboxTransport:
    """Sends nothing: the caller stores every message anyway, so in development and
    tests the stored copy is the outbox."""

    name = "outbox"

    def send(self, message: Message) -> str | None:
        return None

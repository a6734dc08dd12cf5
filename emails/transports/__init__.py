"""Transports deliver a ``Message``: SES, Resend, SMTP, or the outbox (sends nothing)."""

from __future__ import annotations

from typing import Any

from .base import Transport, TransportError
from .outbox import OutboxTransport
from .resend import ResendTransport
from .ses import SesTransport
from .smtp import SmtpTransport

TRANSPORTS: dict[str, type[Any]] = {
    cls.name: cls for cls in (OutboxTransport, SesTransport, ResendTransport, SmtpTransport)
}


def build(name: str, **config: Any) -> Transport:
    """The transport called ``name``, built from ``config`` (its constructor's arguments)."""
    try:
        cls = TRANSPORTS[name]
    except KeyError:
        valid = ", ".join(sorted(TRANSPORTS))
        raise ValueError(f"unknown email transport {name!r}; choose one of: {valid}") from None
    return cls(**config)


__all__ = [
    "TRANSPORTS",
    "OutboxTransport",
    "ResendTransport",
    "SesTransport",
    "SmtpTransport",
    "Transport",
    "TransportError",
    "build",
]

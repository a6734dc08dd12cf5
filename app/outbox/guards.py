"""Re-checks at the moment a message leaves (DESIGN §4): a message stored a moment ago
may have lost its reason since (the invoice was paid, the card replaced). The feature
that writes a kind of message registers, for its template, what to check just before
the transport is called, and what to note on its own records (the campaign's timeline,
its domain events) when the message is dropped or sent; ``create_app`` calls the
features' ``register()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from .models import OutboxMessage

#: ``check(session, message, *, now)``: why the message must not leave any more, or None.
Check = Callable[..., str | None]
#: ``on_drop(session, message, reason, *, now)``: note the drop where the sender looks.
OnDrop = Callable[..., None]
#: ``on_sent(session, message, *, now)``: the transport took it.
OnSent = Callable[..., None]
#: ``on_opened(session, message, *, now)``: the provider reported its first open.
OnOpened = Callable[..., None]


@dataclass(frozen=True)
class Guard:
    check: Check
    on_drop: OnDrop | None = None
    on_sent: OnSent | None = None
    on_opened: OnOpened | None = None


_GUARDS: dict[str, Guard] = {}


def register(
    template: str,
    check: Check,
    on_drop: OnDrop | None = None,
    on_sent: OnSent | None = None,
    on_opened: OnOpened | None = None,
) -> None:
    _GUARDS[template] = Guard(check, on_drop, on_sent, on_opened)


def why_not(session: Session, message: OutboxMessage, *, now: dt.datetime) -> str | None:
    """Run the template's re-check; a staff resend is sent as it was (staff chose it)."""
    guard = _GUARDS.get(message.template)
    if guard is None or message.resent_from_id is not None:
        return None
    return guard.check(session, message, now=now)


def dropped(session: Session, message: OutboxMessage, reason: str, *, now: dt.datetime) -> None:
    guard = _GUARDS.get(message.template)
    if guard is not None and guard.on_drop is not None:
        guard.on_drop(session, message, reason, now=now)


def sent(session: Session, message: OutboxMessage, *, now: dt.datetime) -> None:
    guard = _GUARDS.get(message.template)
    if guard is not None and guard.on_sent is not None:
        guard.on_sent(session, message, now=now)


def opened(session: Session, message: OutboxMessage, *, now: dt.datetime) -> None:
    guard = _GUARDS.get(message.template)
    if guard is not None and guard.on_opened is not None:
        guard.on_opened(session, message, now=now)

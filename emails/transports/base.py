"""What every transport promises: a name, ``send`` returning the provider's message id,
and one error type that says whether retrying can help."""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from ..message import Message


class TransportError(Exception):
    """A send that failed; ``permanent`` means the provider refused it and retrying
    the same message cannot succeed (a temporary failure may)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent

    def __reduce__(self) -> tuple[Any, ...]:
        # Task queues and result backends pickle exceptions; keep ``permanent`` across.
        return (partial(type(self), permanent=self.permanent), self.args)


class Transport(Protocol):
    name: str

    def send(self, message: Message) -> str | None:
        """Send ``message``; return the provider's message id (None when there is none)."""
        ...

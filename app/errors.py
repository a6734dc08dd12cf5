"""Refusals: a request that makes sense in shape but not in meaning.

Services raise a :class:`Refusal` (or a subclass named for its domain) with sentences a
merchant can read; the web layer maps every one of them to an HTTP answer in one place
(``app/dashboard/chrome.py`` for the dashboard), rolls the request back, and shows the
sentences. Nothing a refused request did is kept.
"""

from __future__ import annotations


class Refusal(ValueError):
    """A refused request. ``errors`` lists every problem, one sentence each; ``status``
    is the HTTP status the web layer answers with."""

    status: int = 400

    def __init__(self, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


class Conflict(Refusal):
    """Refused because of the state things are in, not what was sent (HTTP 409)."""

    status = 409

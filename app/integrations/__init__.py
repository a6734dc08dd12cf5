"""Integrations: outbound webhooks to the merchant's endpoints, and Slack and Discord
pings (DESIGN §9). Both are fed by the domain-event stream (:mod:`.fanout`), never by
calls from the loops, and delivered by the worker from a database schedule with
backoff (:mod:`.outbound`)."""

from __future__ import annotations


def register() -> None:
    """Called by ``create_app``: consume every event an endpoint or a channel may want."""
    from ..events import services as events
    from . import fanout

    for name in fanout.WANTED:
        events.consume(name, f"integrations.fan_out:{name}", fanout.consume)

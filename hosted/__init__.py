"""The customer-facing pages: the card-update page, the payment wall, one-click
unsubscribe, and ``static/embed.js`` for merchants' sites. ``create_app`` plugs this in
through the ``backstop.extensions`` entry point; ``app/`` never imports it."""

from __future__ import annotations

from flask import Flask, request

from app.extensions import limiter

from . import (  # noqa: F401  (routes join the blueprint)
    cancel_views,
    formatting,
    pause_offer_views,
    portal_details,
    portal_views,
    winback_views,
)
from .csp import apply_csp
from .hosts import route_host
from .views import bp

#: Customer pages are opened by a secret token in the link: guessing tokens means many
#: unknown (404) or spent (410) links from one address, so those are what is counted.
GUESS_LIMIT = "30 per minute"
#: Not customers' links: a TLS proxy asking whether to get a certificate for a name.
UNLIMITED = frozenset({"hosted.custom_domain_check"})
limiter.shared_limit(
    GUESS_LIMIT,
    scope="hosted-links",
    deduct_when=lambda response: response.status_code in (404, 410),
    exempt_when=lambda: request.endpoint in UNLIMITED,
)(bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    formatting.init_app(app)
    app.before_request(route_host)
    app.after_request(apply_csp)

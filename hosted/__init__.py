"""The customer-facing pages: the card-update page, the payment wall, one-click
unsubscribe, and ``static/embed.js`` for merchants' sites. ``create_app`` plugs this in
through the ``backstop.extensions`` entry point; ``app/`` never imports it."""

from __future__ import annotations

from flask import Flask

from . import cancel_views, formatting, portal_details, portal_views  # noqa: F401  (routes join the blueprint)
from .csp import apply_csp
from .hosts import route_host
from .views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    formatting.init_app(app)
    app.before_request(route_host)
    app.after_request(apply_csp)

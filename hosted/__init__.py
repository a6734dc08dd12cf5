"""The customer-facing pages: the card-update page, the payment wall, one-click
unsubscribe, and ``static/embed.js`` for merchants' sites. ``create_app`` plugs this in
through the ``backstop.extensions`` entry point; ``app/`` never imports it."""

from __future__ import annotations

from flask import Flask

from . import cancel_views  # noqa: F401  (its routes join the blueprint)
from .csp import apply_csp
from .views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(apply_csp)

"""REST API v1 (``/api/v1``): bearer API keys, Stripe-like lists and errors, an OpenAPI
document generated from the code. docs/api.md is the guide."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)

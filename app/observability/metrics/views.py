"""``GET /metrics``: for Prometheus only. Anyone else gets 404, as if it did not exist
(see docs/operations.md for the two ways to let a scraper in)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, request

from ...extensions import csrf, db, limiter
from .exposition import CONTENT_TYPE, may_scrape, render
from .gauges import DatabaseCollector

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@csrf.exempt
@limiter.exempt
def metrics():
    settings = current_app.config["BACKSTOP"]
    allowed = may_scrape(
        token=settings.metrics_token,
        networks=settings.metrics_networks,
        authorization=request.headers.get("Authorization"),
        remote_addr=request.remote_addr,
    )
    if not allowed:
        abort(404)
    database = DatabaseCollector(db.engine, db.metadata, dt.datetime.now(dt.UTC))
    return current_app.response_class(render([database]), mimetype=None, content_type=CONTENT_TYPE)

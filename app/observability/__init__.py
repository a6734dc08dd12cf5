"""What the on-call engineer sees of a running Backstop: structured logs carrying the
request id (:mod:`.logs`, :mod:`.context`), the health checks (:mod:`.health`) and the
Prometheus metrics (:mod:`.metrics`). ``create_app`` calls :func:`init_app`; the
Celery worker connects :mod:`.tasks`' signal hooks."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import health, requests, tasks
    from .metrics import exposition
    from .metrics import views as metrics_views

    exposition.prepare_dir(wipe=False)  # gunicorn's master or the worker wiped it at start
    requests.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics_views.bp)
    tasks.connect_publisher()

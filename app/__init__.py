"""Backstop's core: ``create_app`` assembles settings, extensions and blueprints.

Nothing here connects, logs or reads the environment at import time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from . import log_redaction
from . import settings as settings_module
from .request_class import Request, refuse_nul_in_url


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = settings_module.load(**(overrides or {}))
    app = Flask(__name__)
    app.request_class = Request  # deep JSON and NUL text are a 400, never a 500
    app.before_request(lambda: refuse_nul_in_url(request))  # first, before any view reads it
    if settings.proxy_hops > 0:
        # Behind a TLS proxy: the client's address (rate limits), scheme and host
        # (custom domains) come from the proxy's X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.update(
        BACKSTOP=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.sqlalchemy_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure or settings.is_production,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure or settings.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        TESTING=settings.env == "test",
    )
    log_redaction.install()  # the HTTP clients' DEBUG lines carry secrets otherwise
    from . import i18n, observability
    from .observability import logs

    if settings.env != "test":  # pytest captures the tests' own logging
        logs.configure(settings)
    from .extensions import csrf, db, limiter, login_manager, migrate
    from .queue import init_queue
    from .sessions import SessionInterface

    app.session_interface = SessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    init_queue(app)
    observability.init_app(app)
    if settings.sqlalchemy_url.startswith("sqlite"):
        with app.app_context():
            _tune_sqlite(db.engine)
    _register_models()
    _register_features()
    _register_blueprints(app)
    _load_extensions(app)
    return app


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several processes (web, worker, beat) share one file in `make run`.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _tune_sqlite(engine: Any) -> None:
    """WAL lets readers and one writer work at once (web, worker and beat share a file).

    Python's sqlite3 opens a transaction only before an INSERT, UPDATE or DELETE, so a
    SAVEPOINT issued first (``one_per``'s guarded insert, a nested transaction) would
    open one itself and its RELEASE would commit it, early and alone. A BEGIN ahead of
    such a savepoint keeps it inside the session's transaction, as on PostgreSQL."""
    from sqlalchemy import event

    @event.listens_for(engine, "savepoint")
    def _begin_first(conn: Any, _name: Any) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _migrations_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent / "migrations"


def _register_models() -> None:
    # Import every domain's models so metadata (and Alembic) sees all tables.
    from .accounts import models as _accounts  # noqa: F401
    from .api.v1 import models as _api  # noqa: F401
    from .audit import models as _audit  # noqa: F401
    from .checkout_recovery import models as _checkout_recovery  # noqa: F401
    from .disputes import models as _disputes  # noqa: F401
    from .dunning import models as _dunning  # noqa: F401
    from .events import models as _events  # noqa: F401
    from .i18n import models as _i18n  # noqa: F401
    from .insights import models as _insights  # noqa: F401
    from .integrations import models as _integrations  # noqa: F401
    from .outbox import models as _outbox  # noqa: F401
    from .portal import models as _portal  # noqa: F401
    from .privacy import models as _privacy  # noqa: F401
    from .recovery import models as _recovery  # noqa: F401
    from .retain import models as _retain  # noqa: F401
    from .sms import models as _sms  # noqa: F401
    from .stripe import models as _stripe  # noqa: F401
    from .winback import models as _winback  # noqa: F401


def _register_features() -> None:
    """Each loop declares its step kinds, Stripe event handlers, message re-checks and
    domain-event consumers here, explicitly (never as a side effect of an import)."""
    from . import (
        checkout_recovery,
        disputes,
        dunning,
        insights,
        integrations,
        recovery,
        retain,
        sms,
        winback,
    )

    recovery.register()
    disputes.register()
    dunning.register()
    retain.register()
    winback.register()
    checkout_recovery.register()
    sms.register()
    insights.register()
    integrations.register()


def _register_blueprints(app: Flask) -> None:
    from . import dashboard
    from .accounts.views import bp as accounts_bp
    from .api import v1 as api_v1
    from .api.embed import bp as api_bp
    from .outbox.views import bp as outbox_bp
    from .sms.views import bp as sms_bp
    from .stripe.views import bp as stripe_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_bp)
    api_v1.register(app)
    dashboard.register(app)
    app.register_blueprint(outbox_bp)
    app.register_blueprint(stripe_bp)
    app.register_blueprint(sms_bp)


def _load_extensions(app: Flask) -> None:
    """Packages above ``app/`` (the back office, the hosted pages) plug themselves in
    through the ``backstop.extensions`` entry point, so ``app/`` never imports them."""
    from importlib.metadata import entry_points

    for entry in sorted(entry_points(group="backstop.extensions"), key=lambda e: e.name):
        entry.load()(app)

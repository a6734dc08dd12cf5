"""Every setting Backstop reads, with its type, default and meaning.

Read once by ``create_app`` (never at import); tests pass overrides instead of setting
environment variables. Production refuses to start with weak or missing secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEV_SECRET = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production
DEV_FERNET_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS1jaGFuZ2UtbWUtMDA="  # base64 of 32 dev bytes


class SettingsError(ValueError):
    """A setting is missing, malformed or too weak for the environment."""


@dataclass(frozen=True)
class Settings:
    env: str = field(
        default="development",
        metadata={"env": "BACKSTOP_ENV", "help": "development | test | production"},
    )
    secret_key: str = field(
        default=DEV_SECRET,
        metadata={"env": "SECRET_KEY", "help": "signs sessions and tokens; 32+ random characters"},
    )
    encryption_keys: str = field(
        default=DEV_FERNET_KEY,
        metadata={
            "env": "BACKSTOP_ENCRYPTION_KEYS",
            "help": "comma-separated Fernet keys, newest first; encrypts secrets at rest",
        },
    )
    database_url: str = field(
        default="sqlite:///var/backstop.sqlite",
        metadata={"env": "DATABASE_URL", "help": "PostgreSQL in production"},
    )
    broker_url: str = field(
        default="sqla+sqlite:///var/broker.sqlite",
        metadata={"env": "BROKER_URL", "help": "amqp:// (RabbitMQ) in production"},
    )
    task_always_eager: bool = field(
        default=False,
        metadata={"env": "BACKSTOP_TASKS_EAGER", "help": "run tasks in-process (tests)"},
    )
    base_url: str = field(
        default="http://127.0.0.1:5000",
        metadata={"env": "BACKSTOP_BASE_URL", "help": "public URL of the web process"},
    )
    custom_domain_target: str = field(
        default="",
        metadata={
            "env": "BACKSTOP_CUSTOM_DOMAIN_TARGET",
            "help": "the host merchants' custom domains CNAME to (default: BACKSTOP_BASE_URL's)",
        },
    )
    proxy_hops: int = field(
        default=0,
        metadata={
            "env": "BACKSTOP_PROXY_HOPS",
            "help": "reverse proxies in front of the web process whose X-Forwarded-* to trust",
        },
    )
    redis_url: str = field(
        default="",
        metadata={
            "env": "REDIS_URL",
            "help": "shares rate limits between web processes (in-process limits without it)",
        },
    )
    api_rate_limit: str = field(
        default="100 per second; 3000 per minute",
        metadata={
            "env": "BACKSTOP_API_RATE_LIMIT",
            "help": "requests each REST API key may make (Flask-Limiter notation)",
        },
    )
    stripe_api_base: str = field(
        default="http://127.0.0.1:12111",
        metadata={"env": "STRIPE_API_BASE", "help": "https://api.stripe.com in production"},
    )
    stripe_connect_base: str = field(
        default="http://127.0.0.1:12111",
        metadata={"env": "STRIPE_CONNECT_BASE", "help": "https://connect.stripe.com in production"},
    )
    stripe_secret_key: str = field(
        default="sk_test_backstop_platform",
        metadata={"env": "STRIPE_SECRET_KEY", "help": "the platform's secret key"},
    )
    stripe_client_id: str = field(
        default="ca_backstop_platform",
        metadata={"env": "STRIPE_CLIENT_ID", "help": "the platform's Connect client id (ca_...)"},
    )
    stripe_webhook_secret: str = field(
        default="",
        metadata={
            "env": "STRIPE_WEBHOOK_SECRET",
            "help": "whsec_ of the platform's Connect webhook endpoint",
        },
    )
    webhook_max_bytes: int = field(
        default=512 * 1024,
        metadata={"env": "BACKSTOP_WEBHOOK_MAX_BYTES", "help": "larger webhook bodies get 413"},
    )
    webhook_tolerance_seconds: int = field(
        default=300,
        metadata={"env": "BACKSTOP_WEBHOOK_TOLERANCE", "help": "allowed age of a signature"},
    )
    import_page_size: int = field(
        default=100,
        metadata={
            "env": "BACKSTOP_IMPORT_PAGE_SIZE",
            "help": "objects per page of the import (1-100)",
        },
    )
    import_days: int = field(
        default=90,
        metadata={"env": "BACKSTOP_IMPORT_DAYS", "help": "days of invoices imported on connect"},
    )
    step_lease_seconds: int = field(
        default=300,
        metadata={
            "env": "BACKSTOP_STEP_LEASE_SECONDS",
            "help": "how long a claimed step is held; then it is handed out again (worker died)",
        },
    )
    sweep_seconds: int = field(
        default=30,
        metadata={"env": "BACKSTOP_SWEEP_SECONDS", "help": "how often beat sweeps due steps"},
    )
    mail_from: str = field(
        default="Backstop <no-reply@backstop.localhost>",
        metadata={"env": "BACKSTOP_MAIL_FROM", "help": "the shared sender"},
    )
    mail_transport: str = field(
        default="outbox",
        metadata={
            "env": "BACKSTOP_MAIL_TRANSPORT",
            "help": "outbox (store only) | ses | resend | smtp; every message is stored anyway",
        },
    )
    sms_transport: str = field(
        default="outbox",
        metadata={
            "env": "BACKSTOP_SMS_TRANSPORT",
            "help": "outbox (store only) | twilio (each workspace's own Twilio account); "
            "every text is stored anyway",
        },
    )
    ses_region: str = field(
        default="us-east-1",
        metadata={"env": "BACKSTOP_SES_REGION", "help": "Amazon SES region (sending, DKIM)"},
    )
    ses_endpoint_url: str = field(
        default="",
        metadata={"env": "BACKSTOP_SES_ENDPOINT_URL", "help": "override SES's endpoint (tests)"},
    )
    ses_configuration_set: str = field(
        default="",
        metadata={
            "env": "BACKSTOP_SES_CONFIGURATION_SET",
            "help": "SES configuration set whose SNS topic sends bounces to /webhooks/ses",
        },
    )
    sns_topic_arns: str = field(
        default="",
        metadata={
            "env": "BACKSTOP_SNS_TOPIC_ARNS",
            "help": "comma-separated SNS topics whose SES notices /webhooks/ses accepts "
            "(and whose subscriptions it confirms); empty = any topic, confirmed by hand",
        },
    )
    resend_api_key: str = field(
        default="", metadata={"env": "RESEND_API_KEY", "help": "re_... when sending with Resend"}
    )
    resend_api_base: str = field(
        default="https://api.resend.com",
        metadata={"env": "RESEND_API_BASE", "help": "Resend's API address"},
    )
    resend_webhook_secret: str = field(
        default="",
        metadata={
            "env": "RESEND_WEBHOOK_SECRET",
            "help": "whsec_ of the Resend webhook that reports bounces to /webhooks/resend",
        },
    )
    smtp_host: str = field(default="", metadata={"env": "SMTP_HOST", "help": "SMTP relay host"})
    smtp_port: int = field(default=587, metadata={"env": "SMTP_PORT", "help": "SMTP port"})
    smtp_username: str = field(default="", metadata={"env": "SMTP_USERNAME", "help": "SMTP login"})
    smtp_password: str = field(
        default="", metadata={"env": "SMTP_PASSWORD", "help": "SMTP password"}
    )
    smtp_starttls: bool = field(
        default=True, metadata={"env": "SMTP_STARTTLS", "help": "upgrade SMTP with STARTTLS"}
    )
    stripe_publishable_key: str = field(
        default="pk_test_backstop_platform",
        metadata={
            "env": "STRIPE_PUBLISHABLE_KEY",
            "help": "the platform's pk_ for Stripe.js on hosted pages (OAuth connections)",
        },
    )
    stripe_js_url: str = field(
        default="",
        metadata={
            "env": "STRIPE_JS_URL",
            "help": "Stripe.js address; empty = https://js.stripe.com/v3/ in production, "
            "the sandbox's /v3/ otherwise",
        },
    )
    session_cookie_secure: bool = field(
        default=False,
        metadata={
            "env": "SESSION_COOKIE_SECURE",
            "help": "true behind HTTPS (forced in production)",
        },
    )
    outbound_allow_loopback: bool = field(
        default=False,
        metadata={
            "env": "BACKSTOP_OUTBOUND_ALLOW_LOOPBACK",
            "help": "let webhooks, Slack and Discord post to loopback and plain http "
            "(development and tests; refused in production)",
        },
    )
    outbound_timeout_seconds: int = field(
        default=5,
        metadata={
            "env": "BACKSTOP_OUTBOUND_TIMEOUT",
            "help": "seconds an outbound webhook or Slack/Discord post may take",
        },
    )
    log_level: str = field(default="INFO", metadata={"env": "LOG_LEVEL", "help": "logging"})
    log_format: str = field(
        default="",
        metadata={
            "env": "BACKSTOP_LOG_FORMAT",
            "help": "json (one object per line) | text; empty = json in production, text otherwise",
        },
    )
    metrics_token: str = field(
        default="",
        metadata={
            "env": "BACKSTOP_METRICS_TOKEN",
            "help": "a bearer token (16+ characters) that may read /metrics",
        },
    )
    metrics_allow: str = field(
        default="",
        metadata={
            "env": "BACKSTOP_METRICS_ALLOW",
            "help": "comma-separated addresses or networks (CIDR) that may read /metrics "
            "without the token",
        },
    )
    worker_metrics_port: int = field(
        default=0,
        metadata={
            "env": "BACKSTOP_WORKER_METRICS_PORT",
            "help": "port on which each Celery worker serves its metrics; 0 = off",
        },
    )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def sqlalchemy_url(self) -> str:
        """``postgres://`` and ``postgresql://`` mean psycopg 3 here; a relative SQLite path
        is relative to the working directory (not Flask-SQLAlchemy's instance folder)."""
        url = self.database_url
        if (
            url.startswith("sqlite:///")
            and not url.startswith("sqlite:////")
            and url != "sqlite:///:memory:"
        ):
            return "sqlite:///" + os.path.abspath(url.removeprefix("sqlite:///"))
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def stripe_js(self) -> str:
        if self.stripe_js_url:
            return self.stripe_js_url
        if self.is_production:
            return "https://js.stripe.com/v3/"
        return self.stripe_api_base.rstrip("/") + "/v3/"

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (not self.log_format and self.is_production)

    @property
    def metrics_networks(self) -> list[Any]:
        import ipaddress

        return [
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.metrics_allow.split(",")
            if part.strip()
        ]

    @property
    def fernet_keys(self) -> list[str]:
        return [k.strip() for k in self.encryption_keys.split(",") if k.strip()]

    def validate(self) -> Settings:
        from .settings_checks import check  # the rules read this module's constants

        check(self)
        return self


def _coerce(kind: Any, raw: str, name: str) -> Any:
    if kind in (bool, "bool"):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")
    if kind in (int, "int"):
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}")
    return raw


def load(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, then ``overrides`` by field name, validated."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = f.metadata["env"]
        if name in environ:
            values[f.name] = _coerce(f.type, environ[name], name)
    unknown = set(overrides) - {f.name for f in fields(Settings)}
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
    return replace(Settings(**values), **overrides).validate()


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting; the README's table comes from here."""
    return [(f.metadata["env"], str(f.default), f.metadata["help"]) for f in fields(Settings)]

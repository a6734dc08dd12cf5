"""The start-up checks of the settings: a bad value stops the process with the variable's
name and what it must be, before anything connects. Production refuses the development
secrets."""

from __future__ import annotations

from cryptography.fernet import Fernet

from .settings import DEV_FERNET_KEY, DEV_SECRET, Settings, SettingsError


def check(settings: Settings) -> None:
    if settings.env not in ("development", "test", "production"):
        raise SettingsError(
            f"BACKSTOP_ENV must be development, test or production, not {settings.env!r}"
        )
    if not settings.fernet_keys:
        raise SettingsError("BACKSTOP_ENCRYPTION_KEYS is empty")
    for key in settings.fernet_keys:
        try:
            Fernet(key)
        except ValueError:
            raise SettingsError(
                "BACKSTOP_ENCRYPTION_KEYS holds a key that is not a "
                "Fernet key (32 url-safe base64-encoded bytes)"
            )
    if not 1 <= settings.import_page_size <= 100:
        raise SettingsError("BACKSTOP_IMPORT_PAGE_SIZE must be between 1 and 100")
    if settings.step_lease_seconds < 1 or settings.sweep_seconds < 1:
        raise SettingsError(
            "BACKSTOP_STEP_LEASE_SECONDS and BACKSTOP_SWEEP_SECONDS must be at least 1"
        )
    try:
        from limits import parse_many

        parse_many(settings.api_rate_limit)
    except ValueError:
        raise SettingsError(
            "BACKSTOP_API_RATE_LIMIT must read like '100 per second; 3000 per minute', "
            f"not {settings.api_rate_limit!r}"
        )
    if not 1 <= settings.outbound_timeout_seconds <= 30:
        raise SettingsError("BACKSTOP_OUTBOUND_TIMEOUT must be between 1 and 30 seconds")
    if settings.log_format not in ("", "json", "text"):
        raise SettingsError(
            f"BACKSTOP_LOG_FORMAT must be json or text, not {settings.log_format!r}"
        )
    if settings.metrics_token and len(settings.metrics_token) < 16:
        raise SettingsError("BACKSTOP_METRICS_TOKEN must be 16+ characters when set")
    try:
        _ = settings.metrics_networks
    except ValueError:
        raise SettingsError(
            "BACKSTOP_METRICS_ALLOW must list addresses or networks such as "
            f"10.0.0.0/8, not {settings.metrics_allow!r}"
        )
    if not 0 <= settings.worker_metrics_port <= 65535:
        raise SettingsError("BACKSTOP_WORKER_METRICS_PORT must be a port number (0 = off)")
    if settings.mail_transport not in ("outbox", "ses", "resend", "smtp"):
        raise SettingsError(
            "BACKSTOP_MAIL_TRANSPORT must be outbox, ses, resend or smtp, "
            f"not {settings.mail_transport!r}"
        )
    if settings.sms_transport not in ("outbox", "twilio"):
        raise SettingsError(
            f"BACKSTOP_SMS_TRANSPORT must be outbox or twilio, not {settings.sms_transport!r}"
        )
    if settings.mail_transport == "resend" and not settings.resend_api_key:
        raise SettingsError("RESEND_API_KEY is required when BACKSTOP_MAIL_TRANSPORT=resend")
    if settings.mail_transport == "smtp" and not settings.smtp_host:
        raise SettingsError("SMTP_HOST is required when BACKSTOP_MAIL_TRANSPORT=smtp")
    if settings.is_production:
        if settings.secret_key == DEV_SECRET or len(settings.secret_key) < 32:
            raise SettingsError("SECRET_KEY must be set to 32+ random characters in production")
        if DEV_FERNET_KEY in settings.fernet_keys:
            raise SettingsError(
                "BACKSTOP_ENCRYPTION_KEYS must not use the development key in production"
            )
        if settings.database_url.startswith("sqlite"):
            raise SettingsError("DATABASE_URL must point at PostgreSQL in production")
        if not settings.stripe_webhook_secret:
            raise SettingsError("STRIPE_WEBHOOK_SECRET is required in production")
        if settings.outbound_allow_loopback:
            raise SettingsError("BACKSTOP_OUTBOUND_ALLOW_LOOPBACK must be off in production")

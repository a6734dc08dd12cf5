"""Settings: types, defaults, start-up validation; production refuses weak secrets."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app import settings as s

STRONG = {
    "SECRET_KEY": "x" * 40,
    "BACKSTOP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgresql://db/backstop",
    "STRIPE_WEBHOOK_SECRET": "whsec_live",
    "BACKSTOP_ENV": "production",
}


def test_defaults_are_the_embedded_development_setup() -> None:
    settings = s.load({})
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///var/")
    assert settings.broker_url.startswith("sqla+sqlite:///var/")


def test_types_are_coerced_and_bad_values_named() -> None:
    assert s.load({"BACKSTOP_WEBHOOK_MAX_BYTES": "1024"}).webhook_max_bytes == 1024
    assert s.load({"BACKSTOP_TASKS_EAGER": "yes"}).task_always_eager is True
    with pytest.raises(s.SettingsError, match="BACKSTOP_WEBHOOK_MAX_BYTES"):
        s.load({"BACKSTOP_WEBHOOK_MAX_BYTES": "lots"})
    with pytest.raises(s.SettingsError, match="BACKSTOP_TASKS_EAGER"):
        s.load({"BACKSTOP_TASKS_EAGER": "perhaps"})


def test_production_accepts_strong_settings() -> None:
    settings = s.load(STRONG)
    assert settings.is_production
    assert settings.sqlalchemy_url == "postgresql+psycopg://db/backstop"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": s.DEV_SECRET}, "SECRET_KEY"),
        ({"BACKSTOP_ENCRYPTION_KEYS": s.DEV_FERNET_KEY}, "development key"),
        ({"BACKSTOP_ENCRYPTION_KEYS": "not-a-key"}, "Fernet"),
        ({"DATABASE_URL": "sqlite:///prod.db"}, "PostgreSQL"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET"),
        ({"BACKSTOP_ENV": "staging"}, "BACKSTOP_ENV"),
        ({"BACKSTOP_OUTBOUND_ALLOW_LOOPBACK": "true"}, "OUTBOUND_ALLOW_LOOPBACK"),
        ({"BACKSTOP_OUTBOUND_TIMEOUT": "60"}, "OUTBOUND_TIMEOUT"),
    ],
)
def test_production_refuses_weak_settings(change, message) -> None:
    with pytest.raises(s.SettingsError, match=message):
        s.load({**STRONG, **change})


def test_unknown_override_is_an_error() -> None:
    with pytest.raises(s.SettingsError, match="unknown settings"):
        s.load({}, not_a_setting=1)


def test_every_setting_is_described() -> None:
    rows = s.describe()
    assert all(name and meaning for name, _, meaning in rows)
    assert {"DATABASE_URL", "BROKER_URL", "SECRET_KEY"} <= {name for name, _, _ in rows}

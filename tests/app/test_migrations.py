"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine

from app import create_app
from app.extensions import db


def test_migrations_match_the_models(tmp_path, app_settings) -> None:
    url = "sqlite:///" + str(tmp_path / "migrated.sqlite")
    fresh = create_app({**app_settings, "database_url": url})
    with fresh.app_context():
        upgrade(directory=fresh.extensions["migrate"].directory)
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        engine.dispose()
        db.engine.dispose()
    assert diff == [], f"run `flask db migrate`: models and migrations differ: {diff}"


def test_the_latest_migrations_go_down_and_up_again(tmp_path, app_settings) -> None:
    from flask_migrate import downgrade
    from sqlalchemy import inspect

    url = "sqlite:///" + str(tmp_path / "languages.sqlite")
    fresh = create_app({**app_settings, "database_url": url})
    directory = fresh.extensions["migrate"].directory
    with fresh.app_context():
        upgrade(directory=directory)
        downgrade(
            directory=directory, revision="e751ce680238"
        )  # before languages, dunning's offers and win back
        engine = create_engine(url)
        added = {
            "language_settings",
            "string_override",
            "winback_campaign",
            "winback_step",
            "insight_export",
        }
        offers = {"pause_offer_days", "discount_percent", "discount_months"}

        def dunning_columns() -> set[str]:
            return {c["name"] for c in inspect(engine).get_columns("dunning_settings")}

        assert not added & set(inspect(engine).get_table_names())
        assert not offers & dunning_columns()
        upgrade(directory=directory)
        assert added <= set(inspect(engine).get_table_names())
        assert offers <= dunning_columns()
        engine.dispose()
        db.engine.dispose()

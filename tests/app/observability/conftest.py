"""Apps with a setting or two changed (a token, a database that is down), each disposed
of after its test (on PostgreSQL an engine left open leaks its connections)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app import create_app


@pytest.fixture
def other_app(app, app_settings) -> Iterator[Callable[..., Any]]:
    made = []

    def make(**changes: Any) -> Any:
        flask_app = create_app({**app_settings, **changes})
        made.append(flask_app)
        return flask_app.test_client()

    yield make
    from app.extensions import db

    for flask_app in made:
        with flask_app.app_context():
            db.session.remove()
            db.engine.dispose()

"""The API keeps the promises of its own OpenAPI document: schemathesis generates
requests for every operation (and requests that break the document's rules), sends them
through WSGI with a real key of a seeded workspace, and checks each answer with its
default checks: no 5xx, the status and body as documented, bad input refused.

Bounded: a few examples per operation, so the whole file runs in well under a minute."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app.accounts import api_keys
from app.accounts.models import ApiKey
from app.extensions import db

from . import seed

OPENAPI = "/api/v1/openapi.json"
#: The seeded workspace's key (schemathesis adds it itself, so that it can also check
#: what happens without it).
SECRET = "bk_test_schemathesis0000000000000000000000000000000"


@pytest.fixture
def shop(ctx):
    made = seed.shop("Shop A", "cus_a")
    db.session.add(
        ApiKey(
            workspace_id=made.workspace.id,
            name="schemathesis",
            prefix=SECRET[:12],
            secret_hash=api_keys.hash_secret(SECRET),
            scope="read_write",
        )
    )
    db.session.commit()
    return made


def _bare_app():
    """The API's blueprint alone, to load the document at collection (schemathesis's
    lazy fixture loader does not run on this pytest): the same routes and models; the
    tests then send every request to the real app."""
    from flask import Flask

    from app.api.v1.views import bp

    bare = Flask(__name__)
    bare.register_blueprint(bp)
    return bare


class _Target:
    """The WSGI app schemathesis sends to: the bare one while loading, then the test's."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


target = _Target(_bare_app())
schema = schemathesis.openapi.from_wsgi(OPENAPI, target)


@schema.auth()
class BearerKey:
    def get(self, case, ctx) -> str:
        return SECRET

    def set(self, case, data: str, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_generated_requests_get_documented_answers(case, app, shop) -> None:
    target.app = app
    case.call_and_validate()


def test_every_operation_answers_its_documented_200_for_real_objects(app, shop) -> None:
    """Generated ids are almost never real: call each operation once more with the seeded
    workspace's ids, so each 200 body is checked against its schema too."""
    served = app.test_client().get(OPENAPI).get_json()
    assert served == schema.raw_schema  # what the app serves is what is tested
    loaded = schemathesis.openapi.from_wsgi(OPENAPI, app)
    called = 0
    for result in loaded.get_all_operations():
        operation = result.ok()
        names = re.findall(r"{(\w+)}", operation.path)
        case = operation.Case(path_parameters={name: shop.ids[name] for name in names})
        response = case.call_and_validate(headers=shop.auth())
        assert response.status_code == 200, (operation.label, response.text)
        called += 1
    assert called == 16

"""Structured logs: one JSON object per line in production, each line of a request (and
of the tasks it enqueued) carrying its request id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import settings as settings_module
from app.extensions import db
from app.observability import context, logs, requests, tasks

from .. import factories as f


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every log line written meanwhile, in the production format."""
    stream = io.StringIO()
    handler = logs.handler(json_lines=True, stream=stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def record(message: str, *args, **extra) -> logging.LogRecord:
    made = logging.LogRecord("backstop.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_json_line_has_the_fields_and_the_extras() -> None:
    line = json.loads(
        logs.JsonFormatter().format(
            record(
                "email.sent workspace=%s", 3, request_id="abc", workspace_id=3, template="dunning"
            )
        )
    )
    assert line["level"] == "WARNING" and line["logger"] == "backstop.test"
    assert line["message"] == "email.sent workspace=3" and line["event"] == "email.sent"
    assert (line["request_id"], line["workspace_id"], line["template"]) == ("abc", 3, "dunning")
    assert line["time"].endswith("Z") and "T" in line["time"]


def test_a_traceback_and_odd_values_still_make_one_json_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        made = record("plain words", amount=object())
        made.exc_info = sys.exc_info()
    text = logs.JsonFormatter().format(made)
    assert "\n" not in text
    line = json.loads(text)
    assert "ValueError: boom" in line["exc"] and "event" not in line


@pytest.mark.parametrize(
    ("message", "event"),
    [("email.sent id=3", "email.sent"), ("Task done", None), ("schedule.swept", "schedule.swept")],
)
def test_the_event_is_the_leading_dotted_name(message, event) -> None:
    assert logs.event_of(message) == event


@given(st.text(max_size=300))
def test_a_request_id_is_always_short_and_plain(incoming) -> None:
    rid = context.accept_request_id(incoming)
    assert 1 <= len(rid) <= 128
    assert all(c.isascii() and (c.isalnum() or c in "._:-") for c in rid)


def test_a_sane_incoming_id_is_kept_a_bad_one_replaced() -> None:
    assert context.accept_request_id("lb-7f3a.1:2") == "lb-7f3a.1:2"
    for bad in (None, "", "has space", "x" * 129, 'quote"', "new\nline"):
        assert context.accept_request_id(bad) != bad


def test_production_logs_json_and_development_text() -> None:
    assert settings_module.load({}).json_logs is False
    assert settings_module.load({"BACKSTOP_LOG_FORMAT": "json"}).json_logs is True
    with pytest.raises(settings_module.SettingsError, match="BACKSTOP_LOG_FORMAT"):
        settings_module.load({"BACKSTOP_LOG_FORMAT": "xml"})


def test_configure_installs_one_handler_however_often_it_runs() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        settings = settings_module.load({"BACKSTOP_LOG_FORMAT": "json"})
        logs.configure(settings, io.StringIO())
        stream = io.StringIO()
        logs.configure(settings, stream)
        assert len(root.handlers) == len(before) + 1
        logging.getLogger("backstop.test").warning("ops.check n=%s", 1)
        assert parsed(stream)[-1]["event"] == "ops.check"
    finally:
        for h in [h for h in root.handlers if h not in before]:
            root.removeHandler(h)
        root.setLevel(level)


def test_a_text_line_shows_the_request_id_and_workspace() -> None:
    made = record("hello", request_id="rid1", workspace_id=4, task=None)
    assert "[rid1 ws=4] hello" in logs.TextFormatter().format(made)


def test_every_line_of_a_request_and_of_its_tasks_carries_its_id(web, ctx, json_lines) -> None:
    ws = f.workspace()
    f.connection(ws, account="acct_logs")
    db.session.commit()
    event = f.event(
        account="acct_logs", obj={"id": "cus_l", "object": "customer", "email": "l@example.com"}
    )
    raw, headers = f.signed(event, "whsec_platform_test_secret")
    response = web.post("/webhooks/stripe", data=raw, headers={**headers, "X-Request-ID": "lb-42"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "lb-42"
    lines = parsed(json_lines)
    access = [line for line in lines if line.get("event") == "http.request"]
    assert access and access[0]["status"] == 200 and access[0]["path"] == "/webhooks/stripe"
    assert access[0]["workspace_id"] == ws.id and access[0]["method"] == "POST"
    assert {line.get("request_id") for line in lines} == {"lb-42"}
    in_tasks = [line for line in lines if line.get("task")]
    assert in_tasks, "the event's processing task logged nothing"
    assert {line["task"] for line in in_tasks} >= {"stripe.process_pending"}
    assert all(line["workspace_id"] == ws.id for line in in_tasks)


def test_a_request_without_an_id_gets_a_fresh_one_each_time(web, ctx) -> None:
    first = web.get("/healthz", headers={"X-Request-ID": "bad id"}).headers["X-Request-ID"]
    second = web.get("/healthz").headers["X-Request-ID"]
    assert first != second and " " not in first


def test_a_queued_task_carries_the_id_in_its_headers_and_logs_with_it(json_lines) -> None:
    """The broker path (not eager): the id rides in the message headers."""
    headers: dict = {}
    with context.bound("req-7"):
        tasks.stamp_request_id(headers=headers)
    assert headers == {tasks.HEADER: "req-7"}
    request = SimpleNamespace(is_eager=False, **headers)
    request.get = lambda key, default=None: getattr(request, key, default)
    task = SimpleNamespace(name="email.deliver", request=request)
    tasks.enter_task(task_id="t-1", task=task)
    logging.getLogger("backstop.workers").warning("email.sent message=%s", 9)
    tasks.leave_task(task=task, state="SUCCESS")
    logging.getLogger("backstop.workers").warning("after.task")
    during, after = parsed(json_lines)[-2:]
    assert (during["request_id"], during["task"], during["task_id"]) == (
        "req-7",
        "email.deliver",
        "t-1",
    )
    assert "request_id" not in after and "task" not in after


def test_a_beat_task_gets_an_id_of_its_own(json_lines) -> None:
    request = SimpleNamespace(is_eager=False)
    request.get = lambda key, default=None: getattr(request, key, default)
    task = SimpleNamespace(name="schedule.sweep", request=request)
    tasks.enter_task(task_id="t-2", task=task)
    logging.getLogger("backstop.workers").warning("schedule.swept count=%s", 1)
    tasks.leave_task(task=task, state="SUCCESS")
    assert parsed(json_lines)[-1]["request_id"]


def test_a_dashboard_page_logs_the_signed_in_workspace(web, ctx, json_lines) -> None:
    owner = f.user("owner@logs.example")
    ws = f.workspace(owner, "Log Shop")
    db.session.commit()
    f.login(web, owner)
    assert web.get("/", follow_redirects=True).status_code == 200
    access = [line for line in parsed(json_lines) if line.get("event") == "http.request"]
    assert access[-1]["status"] == 200 and access[-1]["workspace_id"] == ws.id


def test_the_access_line_names_a_link_token_instead_of_writing_it() -> None:
    assert (
        requests.loggable_path("/portal/GKwd-sjgKm_3M7Jo", {"token": "GKwd-sjgKm_3M7Jo"})
        == "/portal/<token>"
    )
    assert requests.loggable_path("/flows/12/edit", {"flow_id": 12}) == "/flows/12/edit"
    assert requests.loggable_path("/healthz", None) == "/healthz"

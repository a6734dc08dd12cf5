"""/healthz and /readyz: for load balancers, without session, login, CSRF or rate limit."""

from __future__ import annotations

import time

from app.observability import health

from .. import factories as f


def test_healthz_answers_ok_without_a_cookie(web) -> None:
    response = web.get("/healthz")
    assert response.status_code == 200 and response.data == b"ok"
    assert "Set-Cookie" not in response.headers


def test_readyz_checks_the_database_and_the_broker(web) -> None:
    response = web.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    assert "Set-Cookie" not in response.headers


def test_readyz_names_a_database_that_is_down(other_app, tmp_path) -> None:
    client = other_app(database_url=f"sqlite:///{tmp_path}/missing/dir/backstop.sqlite")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["database"]
    assert response.json["checks"]["database"].startswith("failed: ")
    assert response.json["checks"]["broker"] == "ok"
    assert client.get("/healthz").status_code == 200  # the process itself is fine


def test_readyz_names_a_broker_that_is_down(other_app) -> None:
    client = other_app(broker_url="amqp://guest:guest@127.0.0.1:1//")
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < health.READY_TIMEOUT + 1
    assert response.status_code == 503 and response.json["failed"] == ["broker"]
    assert "guest" not in response.get_data(as_text=True)  # no address, no password


def test_a_hung_check_is_reported_as_timed_out() -> None:
    results = health.run_checks(
        {"slow": lambda: time.sleep(0.5), "fine": lambda: None}, timeout=0.1
    )
    assert results == {"slow": "timed out", "fine": "ok"}


def test_probes_need_no_login_no_csrf_and_ignore_the_host(web, ctx) -> None:
    f.user("someone@example.com")
    for path in ("/healthz", "/readyz"):
        # A load balancer probes by address: no custom-domain lookup, no redirect to /login.
        response = web.get(path, headers={"Host": "10.1.2.3:8000"})
        assert response.status_code == 200, path
    assert web.post("/healthz").status_code == 405


def test_probes_are_not_rate_limited(web) -> None:
    assert all(web.get("/healthz").status_code == 200 for _ in range(50))

"""``make run``: the web and sandbox ports come from PORT and SANDBOX_PORT (5000 and
12111 by default) all the way to gunicorn, the sandbox, the app's settings and the
sandbox's webhook endpoint; the back office has a seeded staff login."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from app.accounts import services as accounts
from app.extensions import db
from scripts import dev

ROOT = Path(__file__).resolve().parents[2]


def make(*args: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "SANDBOX_PORT")}
    environ.pop("MAKEFLAGS", None)
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_ports_default_to_todays() -> None:
    assert dev.parse_args([]) == dev.Ports(web=5000, sandbox=12111)
    ports = dev.parse_args(["--port", "8000", "--sandbox-port", "12112"])
    assert (ports.web_url, ports.sandbox_url) == ("http://127.0.0.1:8000", "http://127.0.0.1:12112")


@pytest.mark.parametrize(
    "argv",
    [["--port", "0"], ["--port", "65536"], ["--port", "web"], ["--port", "12111"]],
)
def test_a_port_that_cannot_work_is_refused(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        dev.parse_args(argv)
    assert exit_.value.code == 2 and "port" in capsys.readouterr().err


def test_the_app_is_told_both_ports(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(dev, "VAR", tmp_path)
    for name in ("BACKSTOP_BASE_URL", "STRIPE_API_BASE", "STRIPE_CONNECT_BASE"):
        monkeypatch.delenv(name, raising=False)
    environ = dev.env(dev.Ports(web=8000, sandbox=12112))
    assert environ["BACKSTOP_BASE_URL"] == "http://127.0.0.1:8000"
    assert environ["STRIPE_API_BASE"] == environ["STRIPE_CONNECT_BASE"] == "http://127.0.0.1:12112"


def test_gunicorn_binds_the_port_honcho_hands_the_web(tmp_path) -> None:
    command = dev.honcho_command(dev.Ports(web=8000))
    assert command[-2:] == ["-p", "8000"]
    web = next(
        line.removeprefix("web:").strip()
        for line in (ROOT / "Procfile.dev").read_text().splitlines()
        if line.startswith("web:")
    )
    # honcho runs each line through the shell with PORT set (the web's is the -p one).
    for port, bound in (("8000", "127.0.0.1:8000"), (None, "127.0.0.1:5000")):
        environ = {"PATH": os.environ["PATH"], **({"PORT": port} if port else {})}
        shown = subprocess.run(
            ["/bin/sh", "-c", f"echo {web}"], env=environ, capture_output=True, text=True
        ).stdout
        assert f"--bind {bound} " in shown


def test_make_run_passes_port_and_sandbox_port() -> None:
    assert "-m scripts.dev --port 8000 --sandbox-port 12112" in make(
        "-n", "run", "PORT=8000", "SANDBOX_PORT=12112"
    )
    assert "-m scripts.dev --port 5000 --sandbox-port 12111" in make("-n", "run")
    assert "-m stripe_sandbox --port 12112 " in make("-n", "sandbox", "SANDBOX_PORT=12112")


def test_make_help_says_how_to_move_the_ports() -> None:
    text = make("help")
    assert "make run PORT=8000 SANDBOX_PORT=12112" in text
    assert "5000" in text and "12111" in text


def test_the_sandbox_endpoint_follows_the_web_port(monkeypatch, tmp_path, sandbox_url) -> None:
    monkeypatch.setattr(dev, "VAR", tmp_path)
    sandbox = urlparse(sandbox_url).port
    assert sandbox is not None

    def ours() -> list[dict]:
        endpoints = dev.stripe_call(sandbox, "GET", "/v1/webhook_endpoints?limit=100")["data"]
        return [e for e in endpoints if e.get("description") == dev.ENDPOINT_DESCRIPTION]

    try:
        dev.ensure_platform_endpoint(dev.Ports(web=5000, sandbox=sandbox))
        first = (tmp_path / "dev.env").read_text()
        dev.ensure_platform_endpoint(dev.Ports(web=5000, sandbox=sandbox))
        assert (tmp_path / "dev.env").read_text() == first  # the same port: kept
        assert [e["url"] for e in ours()] == ["http://127.0.0.1:5000/webhooks/stripe"]
        dev.ensure_platform_endpoint(dev.Ports(web=8000, sandbox=sandbox))
        assert [e["url"] for e in ours()] == ["http://127.0.0.1:8000/webhooks/stripe"]
        assert (tmp_path / "dev.env").read_text() != first  # the new endpoint's secret
    finally:  # nothing of the session's sandbox posts to these ports afterwards
        for endpoint in ours():
            dev.stripe_call(sandbox, "DELETE", f"/v1/webhook_endpoints/{endpoint['id']}")


def test_the_staff_login_is_seeded_once_and_works(ctx) -> None:
    first = dev.ensure_staff(db.session)
    db.session.commit()
    assert dev.ensure_staff(db.session).id == first.id
    user = accounts.authenticate(db.session, dev.STAFF_EMAIL, dev.STAFF_PASSWORD)
    assert user is not None and user.is_staff and user.staff_role == "admin"


def test_the_banner_names_every_login() -> None:
    text = dev.banner(dev.Ports(web=8000, sandbox=12112))
    assert "http://127.0.0.1:8000/login" in text and "http://127.0.0.1:8000/admin/" in text
    assert f"{dev.STAFF_EMAIL} / {dev.STAFF_PASSWORD}" in text
    assert f"{dev.DEMO_EMAIL} / {dev.DEMO_PASSWORD}" in text
    assert "http://127.0.0.1:12112" in text

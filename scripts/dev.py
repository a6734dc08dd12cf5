"""``make run``: the whole product on one machine with no server installed.

Migrates the SQLite database under ``var/``, starts the Stripe sandbox, seeds a demo
workspace connected to it (customers and subscriptions, some on cards whose renewals
fail) and a staff login for the back office, then runs web, worker and beat together
under honcho (``Procfile.dev``). Everything is idempotent: a second ``make run`` reuses
what the first one made.

``make run PORT=8000 SANDBOX_PORT=12112`` (``python -m scripts.dev --port 8000
--sandbox-port 12112``) moves the web and the sandbox off their default ports.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import demo_data

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
DEFAULT_WEB_PORT = 5000
DEFAULT_SANDBOX_PORT = 12111
PLATFORM_KEY = "sk_test_backstop_platform"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "backstop-demo"  # noqa: S105 - a printed demo login, dev only
STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "backstop-staff"  # noqa: S105 - a printed back-office login, dev only
ENDPOINT_DESCRIPTION = "Backstop (make run)"


@dataclass(frozen=True)
class Ports:
    """Where ``make run`` listens on loopback: the web process and the Stripe sandbox."""

    web: int = DEFAULT_WEB_PORT
    sandbox: int = DEFAULT_SANDBOX_PORT

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox}"


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1 to 65535)")
    return int(text)


def parse_args(argv: list[str] | None = None) -> Ports:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.dev",
        description="Backstop with its worker, beat and the Stripe sandbox (make run).",
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_WEB_PORT, help="the web process (default 5000)"
    )
    parser.add_argument(
        "--sandbox-port",
        type=_port,
        default=DEFAULT_SANDBOX_PORT,
        help="the Stripe sandbox (default 12111)",
    )
    args = parser.parse_args(argv)
    if args.port == args.sandbox_port:
        parser.error("the web and the sandbox need a port each")
    return Ports(web=args.port, sandbox=args.sandbox_port)


def env(ports: Ports) -> dict[str, str]:
    values = dict(os.environ)
    # Procfile.dev names gunicorn and celery: the ones installed beside this Python.
    values["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), values.get("PATH", "")])
    values.setdefault("BACKSTOP_ENV", "development")
    values.setdefault("BACKSTOP_BASE_URL", ports.web_url)
    values.setdefault("STRIPE_API_BASE", ports.sandbox_url)
    values.setdefault("STRIPE_CONNECT_BASE", ports.sandbox_url)
    values.setdefault("STRIPE_SECRET_KEY", PLATFORM_KEY)
    values.setdefault("STRIPE_CLIENT_ID", "ca_" + PLATFORM_KEY.removeprefix("sk_test_"))
    # Webhooks, Slack and Discord may post to a receiver on this machine (docs/webhooks.md).
    values.setdefault("BACKSTOP_OUTBOUND_ALLOW_LOOPBACK", "true")
    dev_env = VAR / "dev.env"
    if dev_env.exists():
        for line in dev_env.read_text().splitlines():
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), value.strip())
    return values


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def run(cmd: list[str], environ: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=ROOT, env=environ, check=True)


def start_sandbox(environ: dict[str, str], ports: Ports) -> subprocess.Popen[str]:
    if not port_free(ports.sandbox):
        sys.exit(
            f"port {ports.sandbox} is taken: is another `make run` or sandbox running? "
            "(try SANDBOX_PORT=...)"
        )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stripe_sandbox",
            "--port",
            str(ports.sandbox),
            "--state",
            str(VAR / "stripe_sandbox.json"),
        ],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        sys.exit("the Stripe sandbox did not start")
    return proc


def stripe_call(
    sandbox_port: int,
    method: str,
    path: str,
    data: dict[str, str] | None = None,
    account: str | None = None,
) -> dict:
    body = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in (data or {}).items())
    request = urllib.request.Request(
        f"http://127.0.0.1:{sandbox_port}{path}",
        data=body.encode() if data else None,
        method=method,
        headers={
            "Authorization": f"Bearer {PLATFORM_KEY}",
            **({"Stripe-Account": account} if account else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def ensure_platform_endpoint(ports: Ports) -> None:
    """The platform's Connect endpoint; its secret goes to var/dev.env for the web. One
    made for another web port is replaced (its events would go to whatever listens
    there)."""
    dev_env = VAR / "dev.env"
    url = f"{ports.web_url}/webhooks/stripe"
    endpoints = stripe_call(ports.sandbox, "GET", "/v1/webhook_endpoints?limit=100")["data"]
    ours = [e for e in endpoints if e["url"] == url or e.get("description") == ENDPOINT_DESCRIPTION]
    if dev_env.exists() and [e["url"] for e in ours] == [url]:
        return
    for endpoint in ours:
        stripe_call(ports.sandbox, "DELETE", f"/v1/webhook_endpoints/{endpoint['id']}")
    created = stripe_call(
        ports.sandbox,
        "POST",
        "/v1/webhook_endpoints",
        {
            "url": url,
            "enabled_events[0]": "*",
            "connect": "true",
            "description": ENDPOINT_DESCRIPTION,
        },
    )
    dev_env.write_text(f"STRIPE_WEBHOOK_SECRET={created['secret']}\n")


def ensure_staff(session: Any) -> Any:
    """The back office's demo login (``admin``: it may act; ``support`` would only read)."""
    from app.accounts import services as accounts

    user = accounts.find_user(session, STAFF_EMAIL)
    if user is None:
        user = accounts.create_user(
            session, STAFF_EMAIL, STAFF_PASSWORD, "Demo Staff", staff_role="admin"
        )
    return user


def seed(environ: dict[str, str], ports: Ports) -> None:
    """The back office's staff login, and the demo merchant connected to a sandbox
    account full of subscriptions."""
    os.environ.update(environ)
    from sqlalchemy import select

    from app import create_app
    from app.accounts import services as accounts
    from app.crypto import encrypt
    from app.extensions import db
    from app.stripe.connection import IMPORT_TASK
    from app.stripe.models import StripeConnection

    flask_app = create_app()
    with flask_app.app_context():
        ensure_staff(db.session)
        db.session.commit()
        if accounts.find_user(db.session, DEMO_EMAIL) is not None:
            return
        print("Seeding the demo workspace (a minute: the sandbox bills a month of renewals)")
        user = accounts.sign_up(db.session, DEMO_EMAIL, DEMO_PASSWORD, "Demo Fitness Co")
        workspace = user.memberships[0].workspace
        workspace.postal_address = "12 Harbour Street, Springfield, 01234"
        workspace.website_url = "https://demo-fitness.example/account"
        from app.dunning import config as dunning_config

        dunning_config.settings_for(db.session, workspace.id).reply_to = "help@demo-fitness.example"
        account = stripe_call(
            ports.sandbox,
            "POST",
            "/v1/accounts",
            {"type": "standard", "email": DEMO_EMAIL, "business_profile[name]": "Demo Fitness Co"},
        )["id"]
        prices = demo_data.build(
            lambda method, path, data=None: stripe_call(ports.sandbox, method, path, data, account)
        )
        connection = StripeConnection(
            workspace_id=workspace.id,
            mode="oauth",
            stripe_account_id=account,
            livemode=False,
            secret_enc=encrypt("sk_test_" + secrets.token_hex(12)),
            scope="read_write",
        )
        db.session.add(connection)
        db.session.flush()
        from app.queue import enqueue

        enqueue(db.session, IMPORT_TASK, connection.id)
        from app.api import embed_secrets
        from app.retain import flows as retain_flows

        embed_secrets.ensure(db.session, workspace)

        retain_flows.create_from_template(
            db.session,
            workspace.id,
            "pause_instead",
            actor_id=user.id,
            actor_label=DEMO_EMAIL,
            support_email="help@demo-fitness.example",
        )
        from app.portal import settings as portal_settings

        portal_settings.save(
            db.session,
            workspace.id,
            {
                "switch_price_ids": prices,
                "pause_months": ["1", "2", "3"],
                "can_cancel": True,
                "shows_invoices": True,
                "detail_fields": ["email", "name", "address", "tax_id"],
                "shows_powered_by": True,
                "support_url": "https://demo-fitness.example/help",
                "terms_url": "https://demo-fitness.example/terms",
            },
            known_price_ids=None,
        )
        from app.winback import settings as winback_settings

        winback_settings.save(  # a welcome-back offer for those who found it too expensive
            db.session,
            workspace.id,
            is_enabled=True,
            includes_involuntary=True,
            delays=[14, 14],
            copy={},
            offer_percent=20,
            offer_months=3,
            offer_to="too_expensive",
            price_id=None,
            attribution_days=30,
        )
        db.session.commit()
        assert db.session.execute(select(StripeConnection)).first()


def honcho_command(ports: Ports) -> list[str]:
    """Web, worker and beat; honcho hands the web its port as ``$PORT`` (Procfile.dev)."""
    return [sys.executable, "-m", "honcho", "start", "-f", "Procfile.dev", "-p", str(ports.web)]


def banner(ports: Ports) -> str:
    return (
        f"\n  Backstop:    {ports.web_url}/login"
        f"\n  Demo login:  {DEMO_EMAIL} / {DEMO_PASSWORD}"
        f"\n  Back office: {ports.web_url}/admin/ (staff login: {STAFF_EMAIL} / {STAFF_PASSWORD})"
        f"\n  Stripe sandbox: {ports.sandbox_url}\n"
    )


def main(argv: list[str] | None = None) -> int:
    ports = parse_args(argv)
    VAR.mkdir(exist_ok=True)
    environ = env(ports)
    if not port_free(ports.web):
        sys.exit(f"port {ports.web} is taken: is another `make run` running? (try PORT=...)")
    run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "-d", "app/migrations"],
        environ,
    )
    sandbox = start_sandbox(environ, ports)
    try:
        ensure_platform_endpoint(ports)
        environ = env(ports)  # now with the platform webhook secret
        seed(environ, ports)
        print(banner(ports), flush=True)
        return subprocess.call(honcho_command(ports), cwd=ROOT, env=environ)
    except KeyboardInterrupt:
        return 0
    except urllib.error.URLError as exc:
        print(f"the Stripe sandbox did not answer: {exc}", file=sys.stderr)
        return 1
    finally:
        sandbox.send_signal(signal.SIGINT)
        try:
            sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox.kill()


if __name__ == "__main__":
    sys.exit(main())

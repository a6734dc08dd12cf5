"""Each transport sends the documented request and classifies failures as permanent
(retrying cannot help) or temporary: SES under moto, Resend against a local HTTP server,
SMTP against a local aiosmtpd."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import pickle
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from botocore.config import Config
from botocore.stub import ANY, Stubber
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from emails.message import Message
from emails.transports import (
    OutboxTransport,
    ResendTransport,
    SesTransport,
    SmtpTransport,
    TransportError,
    build,
)

REGION = "eu-west-1"
UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://backstop.example/u/tok>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}
MESSAGE = Message(
    from_addr="Acme Billing <billing@mail.acme.example>",
    to="jo@example.com",
    subject="Your payment failed",
    text="Please update your card.\n",
    html="<p>Please update your card.</p>",
    reply_to="help@acme.example",
    headers=UNSUBSCRIBE,
)


def parse(raw: bytes | str) -> EmailMessage:
    data = raw.encode() if isinstance(raw, str) else raw
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- build and outbox ----------------------------------------------------------------------


def test_build_by_name_and_unknown_names_list_the_valid_ones() -> None:
    assert isinstance(build("outbox"), OutboxTransport)
    assert isinstance(build("smtp", host="127.0.0.1", port=2525), SmtpTransport)
    resend = build("resend", api_key="re_x")
    assert isinstance(resend, ResendTransport)
    resend.session.close()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="outbox, resend, ses, smtp"):
        build("sendgrid")


@pytest.mark.parametrize("permanent", [True, False])
def test_transport_errors_survive_pickling(permanent: bool) -> None:
    error = TransportError("SES 429: slow down", permanent=permanent)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (str(copy), copy.permanent) == ("SES 429: slow down", permanent)


def test_outbox_sends_nothing_and_has_no_id() -> None:
    assert OutboxTransport().send(MESSAGE) is None
    assert OutboxTransport.name == "outbox"


# -- SES -----------------------------------------------------------------------------------


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_ses_sends_raw_mime_with_list_unsubscribe(aws: None) -> None:
    boto3.client("sesv2", region_name=REGION).create_email_identity(
        EmailIdentity="mail.acme.example"
    )
    message_id = SesTransport(REGION).send(MESSAGE)
    assert message_id
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert [m.id for m in sent] == [message_id]
    received = parse(sent[0].raw_data)
    assert received["List-Unsubscribe"] == "<https://backstop.example/u/tok>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Reply-To"] == "help@acme.example"
    assert received["Message-ID"].endswith("@mail.acme.example>")
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]


def test_ses_refuses_an_unverified_sender_permanently(aws: None) -> None:
    with pytest.raises(TransportError, match="MessageRejected") as caught:
        SesTransport(REGION).send(MESSAGE)
    assert caught.value.permanent


def stubbed_ses() -> tuple[Any, Stubber]:
    client = boto3.client(
        "sesv2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def test_ses_passes_the_configuration_set() -> None:
    client, stub = stubbed_ses()
    stub.add_response(
        "send_email",
        {"MessageId": "0102-abc"},
        {"Content": {"Raw": {"Data": ANY}}, "ConfigurationSetName": "backstop-events"},
    )
    with stub:
        sent = SesTransport(client=client, configuration_set="backstop-events").send(MESSAGE)
    assert sent == "0102-abc"
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        ("TooManyRequestsException", 429, False),
        ("Throttling", 400, False),
        ("InternalFailure", 500, False),
        ("ServiceUnavailable", 503, False),
        ("MessageRejected", 400, True),
        ("MailFromDomainNotVerifiedException", 400, True),
        ("AccountSuspendedException", 400, True),
        ("SendingPausedException", 400, True),
        ("BadRequestException", 400, True),
    ],
)
def test_ses_errors_are_classified(code: str, status: int, permanent: bool) -> None:
    client, stub = stubbed_ses()
    stub.add_client_error(
        "send_email", service_error_code=code, service_message="no", http_status_code=status
    )
    with stub, pytest.raises(TransportError, match=code) as caught:
        SesTransport(client=client).send(MESSAGE)
    assert caught.value.permanent is permanent


def test_ses_unreachable_is_temporary() -> None:
    client = boto3.client(
        "sesv2",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(TransportError, match="unreachable") as caught:
        SesTransport(client=client).send(MESSAGE)
    assert not caught.value.permanent


def test_ses_needs_a_region_or_a_client() -> None:
    with pytest.raises(ValueError, match="region"):
        SesTransport()


# -- Resend --------------------------------------------------------------------------------


@dataclass
class FakeResend:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def fake_resend() -> Iterator[FakeResend]:
    fake = FakeResend(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            fake.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            status, body = fake.replies.pop(0) if fake.replies else (200, {"id": "re_123"})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def resend(fake_resend: FakeResend) -> Iterator[ResendTransport]:
    with requests.Session() as session:
        yield ResendTransport("re_test_key", base_url=fake_resend.url, session=session)


def test_resend_posts_the_documented_request(
    fake_resend: FakeResend, resend: ResendTransport
) -> None:
    assert resend.send(MESSAGE) == "re_123"
    [request] = fake_resend.requests
    assert (request["method"], request["path"]) == ("POST", "/emails")
    assert request["headers"]["Authorization"] == "Bearer re_test_key"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {
        "from": "Acme Billing <billing@mail.acme.example>",
        "to": ["jo@example.com"],
        "subject": "Your payment failed",
        "html": "<p>Please update your card.</p>",
        "text": "Please update your card.\n",
        "reply_to": "help@acme.example",
        "headers": UNSUBSCRIBE,
    }


def test_resend_leaves_reply_to_out_when_unset(
    fake_resend: FakeResend, resend: ResendTransport
) -> None:
    resend.send(Message(**{**MESSAGE.__dict__, "reply_to": None}))
    assert "reply_to" not in fake_resend.requests[0]["json"]


@pytest.mark.parametrize(
    ("status", "permanent"), [(422, True), (403, True), (400, True), (429, False), (500, False)]
)
def test_resend_errors_are_classified_with_resends_message(
    fake_resend: FakeResend, resend: ResendTransport, status: int, permanent: bool
) -> None:
    fake_resend.replies.append(
        (status, {"statusCode": status, "message": "Invalid `to` field.", "name": "oops"})
    )
    with pytest.raises(TransportError, match=r"Invalid `to` field\. \(oops\)") as caught:
        resend.send(MESSAGE)
    assert caught.value.permanent is permanent
    assert str(status) in str(caught.value)


def test_resend_unreachable_is_temporary() -> None:
    with requests.Session() as session:
        transport = ResendTransport(
            "re_x", base_url=f"http://127.0.0.1:{free_port()}", session=session, timeout=2
        )
        with pytest.raises(TransportError, match="unreachable") as caught:
            transport.send(MESSAGE)
    assert not caught.value.permanent


# -- SMTP ----------------------------------------------------------------------------------


class Capture:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if envelope.mail_from.startswith("greylisted@"):
            return "451 4.7.1 Greylisted, come back later"
        self.envelopes.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Capture, int]]:
    capture = Capture()
    port = free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield capture, port
    finally:
        controller.stop()


def test_smtp_delivers_both_parts_and_headers(smtp_server: tuple[Capture, int]) -> None:
    capture, port = smtp_server
    message_id = SmtpTransport("127.0.0.1", port, timeout=5).send(MESSAGE)
    [envelope] = capture.envelopes
    assert envelope.rcpt_tos == ["jo@example.com"]
    assert envelope.mail_from == "billing@mail.acme.example"
    received = parse(envelope.original_content)
    assert received["Message-ID"] == message_id
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Subject"] == "Your payment failed"
    plain, html = received.iter_parts()
    assert plain.get_content() == "Please update your card.\r\n"
    assert html.get_content().strip() == "<p>Please update your card.</p>"


@pytest.mark.parametrize(
    ("overrides", "permanent", "text"),
    [
        ({"to": "nobody@example.com"}, True, "550"),
        ({"to": "busy@example.com"}, False, "450"),
        ({"from_addr": "greylisted@acme.example"}, False, "451"),
    ],
)
def test_smtp_refusals_are_classified(
    smtp_server: tuple[Capture, int], overrides: dict[str, str], permanent: bool, text: str
) -> None:
    _, port = smtp_server
    message = Message(**{**MESSAGE.__dict__, **overrides})
    with pytest.raises(TransportError, match=text) as caught:
        SmtpTransport("127.0.0.1", port, timeout=5).send(message)
    assert caught.value.permanent is permanent


def test_smtp_unreachable_is_temporary() -> None:
    with pytest.raises(TransportError) as caught:
        SmtpTransport("127.0.0.1", free_port(), timeout=2).send(MESSAGE)
    assert not caught.value.permanent


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_smtp_starttls_and_login(tmp_path: Path) -> None:
    cert_path, key_path = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        # handled=False: aiosmtpd sends the 235/535 reply itself.
        return AuthResult(success=data.password == b"s3cret", handled=False)

    capture, port = Capture(), free_port()
    controller = Controller(
        capture,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        client_tls = ssl.create_default_context(cafile=str(cert_path))
        transport = SmtpTransport(
            "127.0.0.1",
            port,
            username="relay",
            password="s3cret",
            starttls=True,
            timeout=5,
            ssl_context=client_tls,
        )
        transport.send(MESSAGE)
        bad = SmtpTransport(
            "127.0.0.1",
            port,
            username="relay",
            password="wrong",
            starttls=True,
            timeout=5,
            ssl_context=client_tls,
        )
        with pytest.raises(TransportError, match="535") as caught:
            bad.send(MESSAGE)
    finally:
        controller.stop()
    assert len(capture.envelopes) == 1
    assert logins[0] == (b"relay", b"s3cret")
    assert caught.value.permanent  # wrong credentials do not fix themselves


def test_smtp_implicit_tls(tmp_path: Path) -> None:
    cert_path, key_path = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    capture, port = Capture(), free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    controller.start()
    try:
        client_tls = ssl.create_default_context(cafile=str(cert_path))
        SmtpTransport("127.0.0.1", port, use_ssl=True, timeout=5, ssl_context=client_tls).send(
            MESSAGE
        )
        with pytest.raises(TransportError) as caught:  # the system CAs do not know our cert
            SmtpTransport("127.0.0.1", port, use_ssl=True, timeout=5).send(MESSAGE)
    finally:
        controller.stop()
    assert len(capture.envelopes) == 1
    assert not caught.value.permanent


def test_smtp_refuses_starttls_with_implicit_tls() -> None:
    with pytest.raises(ValueError, match="not both"):
        SmtpTransport("127.0.0.1", starttls=True, use_ssl=True)

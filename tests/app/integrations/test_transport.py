"""Posting safely: every resolved address is checked before connecting, the connection
goes to the checked address (DNS rebinding gains nothing), time is bounded."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import pytest

from app.integrations import transport


def resolver_of(table: dict[str, list[str]]):
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return table[host]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


def post(url: str, resolver, *, allow_loopback: bool = False, timeout: float = 2.0):
    return transport.post(url, b'{"a":1}', {"Content-Type": "application/json"},
                          timeout=timeout, allow_loopback=allow_loopback,
                          require_https=False, resolver=resolver)  # fmt: skip


@pytest.mark.parametrize(
    "addresses",
    [["10.0.0.7"], ["169.254.169.254"], ["93.184.215.14", "127.0.0.1"], ["::ffff:192.168.1.1"]],
)
def test_a_name_that_resolves_to_a_private_address_is_refused(receiver, addresses) -> None:
    resolve = resolver_of({"hooks.example.com": addresses})
    answer = post("http://hooks.example.com/x", resolve)
    assert answer.status is None and answer.error.startswith("refused: hooks.example.com")
    assert receiver.requests == []


def test_the_connection_goes_to_the_checked_address_with_the_name_kept(receiver) -> None:
    port = urlsplit(receiver.url).port
    # A name no DNS knows: reaching the receiver proves the connection used the address
    # checked here, not a second lookup.
    resolve = resolver_of({"hooks.backstop-test.invalid": ["127.0.0.1"]})
    answer = post(f"http://hooks.backstop-test.invalid:{port}/hook", resolve, allow_loopback=True)
    assert answer.ok and resolve.asked == ["hooks.backstop-test.invalid"]
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.backstop-test.invalid:{port}"
    assert request["headers"]["User-Agent"] == transport.USER_AGENT


def test_loopback_needs_the_setting(receiver) -> None:
    resolve = resolver_of({"127.0.0.1": ["127.0.0.1"]})
    assert "loopback" in post(receiver.url, resolve).error
    assert receiver.requests == []


def test_an_unknown_name_is_an_error_not_a_crash() -> None:
    def fails(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    answer = post("https://nowhere.example/x", fails)
    assert answer.status is None and "could not be resolved" in answer.error


def test_a_receiver_that_never_answers_times_out() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(server.accept()[0]), daemon=True).start()
    try:
        port = server.getsockname()[1]
        answer = post(f"http://127.0.0.1:{port}/x", resolver_of({"127.0.0.1": ["127.0.0.1"]}),
                      allow_loopback=True, timeout=0.3)  # fmt: skip
        assert answer.status is None and answer.error == "no answer within 0.3 s"
    finally:
        for conn in held:
            conn.close()
        server.close()

"""How a text leaves: the transport interface (as ``emails.Transport`` is for mail),
the outbox transport that only stores (dev and tests) and Twilio through its official
SDK, with the merchant's own account. Only this module imports ``twilio``'s client."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

#: Twilio's error for a recipient who replied STOP to this sender (its own opt-out list).
UNSUBSCRIBED_RECIPIENT = 21610


class SmsTransportError(Exception):
    """The transport refused or failed. ``permanent``: trying again will not help."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class Outgoing:
    to: str
    body: str
    sender: str
    """An E.164 number, or a Twilio messaging service SID (``MG...``)."""
    status_callback: str | None = None


class SmsTransport(Protocol):
    name: str

    def send(self, text: Outgoing) -> str:
        """Hand ``text`` over; returns the provider's id for it."""
        ...


class OutboxTransport:
    """Dev and tests: nothing leaves; the stored message is the whole story."""

    name = "outbox"

    def send(self, text: Outgoing) -> str:
        return f"outbox-{secrets.token_hex(8)}"


class TwilioTransport:
    """The merchant's Twilio account. ``http_client`` is the SDK's own injection point
    (a ``twilio.http.HttpClient``): tests answer there instead of Twilio."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, http_client: Any = None) -> None:
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send(self, text: Outgoing) -> str:
        from requests import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException

        params: dict[str, Any] = {"to": text.to, "body": text.body}
        if text.sender.startswith("MG"):
            params["messaging_service_sid"] = text.sender
        else:
            params["from_"] = text.sender
        if text.status_callback:
            params["status_callback"] = text.status_callback
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            temporary = exc.status == 429 or exc.status >= 500
            raise SmsTransportError(
                f"Twilio {exc.status} ({exc.code}): {exc.msg}",
                permanent=not temporary,
                code=exc.code,
            ) from exc
        except (TwilioException, RequestException) as exc:
            raise SmsTransportError(f"Twilio unreachable: {exc}", permanent=False) from exc
        return str(message.sid)


def build(
    name: str,
    *,
    account_sid: str | None = None,
    auth_token: str | None = None,
    http_client: Any = None,
) -> SmsTransport:
    """The transport the ``BACKSTOP_SMS_TRANSPORT`` setting names."""
    if name == "twilio":
        if not account_sid or not auth_token:
            raise SmsTransportError("Twilio is not set up for this workspace", permanent=True)
        return TwilioTransport(account_sid, auth_token, http_client)
    return OutboxTransport()


def signature_is_valid(auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    """Twilio's ``X-Twilio-Signature`` over ``url`` and the POSTed ``params``."""
    from twilio.request_validator import RequestValidator

    return bool(signature) and RequestValidator(auth_token).validate(url, params, signature)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """The signature Twilio would send (the test send's stand-in, and tests)."""
    from twilio.request_validator import RequestValidator

    return RequestValidator(auth_token).compute_signature(url, params)

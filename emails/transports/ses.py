"""Amazon SES (API v2), sending the raw MIME message."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..message import Message
from .base import TransportError

# SES error codes that mean "not now" rather than "never"; everything else in the 4xx
# range is a refusal (MessageRejected, MailFromDomainNotVerified, AccountSuspended ...).
_TEMPORARY_CODES = frozenset(
    {"TooManyRequestsException", "Throttling", "ThrottlingException", "ServiceUnavailable"}
)


class SesTransport:
    """Sends through SES ``SendEmail`` with raw content, so List-Unsubscribe and the
    other extra headers reach the recipient unchanged."""

    name = "ses"

    def __init__(
        self,
        region: str | None = None,
        *,
        endpoint_url: str | None = None,
        configuration_set: str | None = None,
        client: Any = None,
    ) -> None:
        if client is None:
            if not region:
                raise ValueError("SesTransport needs a region (or a client)")
            client = boto3.client("sesv2", region_name=region, endpoint_url=endpoint_url)
        self.client = client
        self.configuration_set = configuration_set

    def send(self, message: Message) -> str | None:
        mime = message.to_mime()
        # No FromEmailAddress/Destination: with raw content SES takes both from the
        # headers, and FromEmailAddress would refuse a non-ASCII display name.
        params: dict[str, Any] = {"Content": {"Raw": {"Data": mime.as_bytes()}}}
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        try:
            answer = self.client.send_email(**params)
        except ClientError as exc:
            raise ses_error(exc) from exc
        except BotoCoreError as exc:  # connection, timeout, credentials lookup
            raise TransportError(f"SES unreachable: {exc}", permanent=False) from exc
        return answer["MessageId"]


def ses_error(exc: ClientError) -> TransportError:
    """Classify an SES ``ClientError``: throttling and 5xx are temporary, other 4xx permanent."""
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400
    temporary = code in _TEMPORARY_CODES or status == 429 or status >= 500
    text = f"SES {code or status}: {error.get('Message', '')}".rstrip(": ")
    return TransportError(text, permanent=not temporary)

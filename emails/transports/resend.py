"""Resend's HTTP API (``POST /emails``)."""

from __future__ import annotations

from typing import Any

import requests

from ..message import Message
from .base import TransportError


class ResendTransport:
    """Sends through Resend; 429, 5xx and network failures are temporary, other 4xx
    permanent."""

    name = "resend"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.resend.com",
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("ResendTransport needs an API key")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def send(self, message: Message) -> str | None:
        payload: dict[str, Any] = {
            "from": message.from_addr,
            "to": [message.to],
            "subject": message.subject,
            "html": message.html,
            "text": message.text,
            "headers": dict(message.headers),
        }
        if message.reply_to is not None:
            payload["reply_to"] = message.reply_to
        try:
            response = self.session.post(
                f"{self.base_url}/emails",
                json=payload,
                headers={"Authorization": f"Bearer {self.api_key}", "User-Agent": "backstop"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise TransportError(f"Resend unreachable: {exc}", permanent=False) from exc
        if response.status_code >= 400:
            temporary = response.status_code == 429 or response.status_code >= 500
            raise TransportError(
                f"Resend {response.status_code}: {_error_text(response)}", permanent=not temporary
            )
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            # Accepted but unreadable: retrying could send twice, so do not ask for it.
            raise TransportError(
                f"Resend answered {response.status_code} without an id", permanent=True
            ) from exc


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    if isinstance(body, dict) and body.get("message"):
        name = body.get("name")
        return f"{body['message']} ({name})" if name else str(body["message"])
    return response.text[:200]

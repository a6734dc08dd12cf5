"""Secrets never reach a log line, whatever the log level. The HTTP clients underneath
us log what they send and receive at DEBUG: the Stripe SDK every response body (an OAuth
access token, a new webhook endpoint's ``whsec_``), urllib3 every request's path (a
Slack or Discord incoming-webhook URL ends in its token). A filter on their loggers
masks the secret shapes in those records before any handler sees them."""

from __future__ import annotations

import logging
import re

MASK = "***"

#: (pattern, replacement) over the formatted message; each keeps what names the secret.
_SECRET_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Stripe secret and restricted keys; Backstop's API keys and embed secrets.
    (re.compile(r"\b((?:sk|rk|bk)_(?:test|live|embed)_)[0-9A-Za-z_-]+"), rf"\g<1>{MASK}"),
    # Webhook signing secrets (Stripe's and ours).
    (re.compile(r"\b(whsec_)[0-9A-Za-z+/=_-]+"), rf"\g<1>{MASK}"),
    # OAuth grants in a JSON body.
    (
        re.compile(r'("(?:access_token|refresh_token|secret|auth_token)"\s*:\s*")[^"]*(")'),
        rf"\g<1>{MASK}\g<2>",
    ),
    # Slack (/services/T…/B…/token) and Discord (/api/webhooks/id/token) webhook paths.
    (re.compile(r"(/services/[^/\s\"']+/[^/\s\"']+/)[^\s\"'?]+"), rf"\g<1>{MASK}"),
    (re.compile(r"(/api/webhooks/\d+/)[^\s\"'?]+"), rf"\g<1>{MASK}"),
)

#: The third-party loggers that write requests or responses (a logger's filters apply
#: to the records logged on it, so each is named).
NOISY_LOGGERS = ("stripe", "urllib3.connectionpool", "twilio.http_client")


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with the secret shapes masked (never drops it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install() -> None:
    """Put the filter on the noisy loggers, once per process."""
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())

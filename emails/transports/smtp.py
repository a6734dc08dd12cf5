"""Plain SMTP (a relay, Mailpit in development)."""

from __future__ import annotations

import smtplib
import ssl

from ..message import Message
from .base import TransportError


class SmtpTransport:
    """Sends ``Message.to_mime()`` over SMTP; returns the Message-ID it carried."""

    name = "smtp"

    def __init__(
        self,
        host: str = "localhost",
        port: int | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if starttls and use_ssl:
            raise ValueError("choose STARTTLS or implicit TLS (use_ssl), not both")
        self.host = host
        self.port = port if port is not None else (465 if use_ssl else 587 if starttls else 25)
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout
        self.ssl_context = ssl_context

    def send(self, message: Message) -> str | None:
        mime = message.to_mime()
        try:
            with self._connect() as smtp:
                if self.starttls:
                    smtp.starttls(context=self._context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(mime)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused(exc.recipients) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server's final "no"; 4xx (greylisting, full queue) may pass later.
            text = exc.smtp_error.decode(errors="replace") if exc.smtp_error else ""
            raise TransportError(
                f"SMTP {exc.smtp_code}: {text}", permanent=500 <= exc.smtp_code < 600
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, TLS
            raise TransportError(f"SMTP failed: {exc}", permanent=False) from exc
        if refused:
            raise _refused(refused)
        return mime["Message-ID"]

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()


def _refused(recipients: dict[str, tuple[int, bytes]]) -> TransportError:
    # smtplib reports a 450 "mailbox busy" the same way as a 550 "no such user".
    permanent = all(500 <= code < 600 for code, _ in recipients.values())
    text = "; ".join(
        f"{addr}: {code} {reply.decode(errors='replace')}"
        for addr, (code, reply) in recipients.items()
    )
    return TransportError(f"SMTP refused the recipient: {text}", permanent=permanent)

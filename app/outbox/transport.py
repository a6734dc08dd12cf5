"""The transport settings choose: outbox only, Amazon SES, Resend or SMTP."""

from __future__ import annotations

import emails

from ..settings import Settings


def transport_from(settings: Settings) -> emails.Transport:
    name = settings.mail_transport
    if name == "ses":
        return emails.build_transport(
            "ses",
            region=settings.ses_region,
            endpoint_url=settings.ses_endpoint_url or None,
            configuration_set=settings.ses_configuration_set or None,
        )
    if name == "resend":
        return emails.build_transport(
            "resend", api_key=settings.resend_api_key, base_url=settings.resend_api_base
        )
    if name == "smtp":
        return emails.build_transport(
            "smtp",
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            starttls=settings.smtp_starttls,
        )
    return emails.build_transport("outbox")

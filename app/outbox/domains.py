"""A workspace's own send domain: added with SES EasyDKIM (three CNAME records), then
verified when the merchant's DNS has them. Services flush only; ``client`` is an SES
client (see :func:`ses_client`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.orm import Session

from emails import domains as ses_domains

from ..errors import Refusal
from ..settings import Settings
from .models import SendDomain
from .services import send_domain

log = logging.getLogger("backstop.outbox")


class SendDomainRefused(Refusal):
    """The domain cannot be added or checked; the message is for the merchant."""


def ses_client(settings: Settings) -> Any:
    """The SES client of the deployment's ``settings``."""
    # The classic SES API: EasyDKIM tokens and verification status, as SES v2 has them.
    return ses_domains.ses_client(settings.ses_region, settings.ses_endpoint_url or None, api="ses")


def _records(records: list[ses_domains.DnsRecord]) -> list[dict[str, str]]:
    return [{"name": r.name, "type": r.type, "value": r.value} for r in records]


def add(
    session: Session,
    workspace_id: int,
    text: str,
    *,
    from_local: str,
    client: Any,
    now: dt.datetime,
) -> SendDomain:
    """Add the domain (one per workspace) and ask SES for its DKIM records. From now on
    mail waits for it: an unverified domain blocks sends."""
    if send_domain(session, workspace_id) is not None:
        raise SendDomainRefused("This workspace already has a send domain; remove it first.")
    try:
        domain = ses_domains.validate_domain(text)
    except ValueError as exc:
        raise SendDomainRefused(str(exc))
    local = from_local.strip().lower()
    if not local or not all(c.isalnum() or c in "._-+" for c in local) or len(local) > 64:
        raise SendDomainRefused(
            "The sender name before @ may use letters, digits and . _ - + only."
        )
    try:
        records = ses_domains.create_identity(client, domain)
    except (ClientError, BotoCoreError) as exc:
        raise SendDomainRefused(f"Amazon SES refused the domain: {exc}")
    row = SendDomain(
        workspace_id=workspace_id,
        domain=domain,
        from_local=local,
        status="pending",
        records=_records(records),
        created_at=now,
    )
    session.add(row)
    session.flush()
    log.info("email.domain_added workspace=%s domain=%s", workspace_id, domain)
    return row


def verify(session: Session, row: SendDomain, *, client: Any, now: dt.datetime) -> SendDomain:
    """Ask SES whether the DNS records are in place ("Verify DNS")."""
    try:
        status = ses_domains.identity_status(client, row.domain)
    except ses_domains.UnknownDomain:
        row.status, row.last_error = (
            "failed",
            "Amazon SES no longer knows this domain; remove it and add it again.",
        )
    except (ClientError, BotoCoreError) as exc:
        row.last_error = f"Amazon SES could not be asked: {exc}"[:500]
    else:
        row.dkim_status = status.dkim_status
        row.records = _records(status.records) or row.records
        if status.verified:
            row.status, row.last_error = "verified", None
            row.verified_at = row.verified_at or now
        elif status.dkim_status in ("FAILED", "TEMPORARY_FAILURE"):
            row.status = "failed"
            row.last_error = (
                "SES could not find the DKIM records in DNS. Check them and verify again."
            )
        else:
            row.status, row.last_error = "pending", None
    row.checked_at = now
    session.flush()
    return row


def remove(session: Session, row: SendDomain, *, client: Any) -> None:
    """Forget the domain: mail goes from the shared sender again."""
    try:
        ses_domains.delete_identity(client, row.domain)
    except (ClientError, BotoCoreError):
        log.warning(
            "email.domain_delete_failed workspace=%s domain=%s", row.workspace_id, row.domain
        )
    session.delete(row)
    session.flush()

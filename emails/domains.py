"""Merchant send domains on Amazon SES with EasyDKIM: the three CNAME records to publish,
and whether SES has seen them.

Every function takes an SES client, API v2 (``sesv2``, the default of ``ses_client``) or
v1 (``ses``); the v1 path exists because moto's v2 identities carry no DKIM tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

DEFAULT_DKIM_ZONE = "dkim.amazonses.com"

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# SES v1 spells DKIM statuses in CamelCase; callers see v2's words only.
_V1_DKIM_STATUS = {
    "Pending": "PENDING",
    "Success": "SUCCESS",
    "Failed": "FAILED",
    "TemporaryFailure": "TEMPORARY_FAILURE",
    "NotStarted": "NOT_STARTED",
}


class UnknownDomain(LookupError):
    """SES has no identity for this domain (never added, or deleted)."""

    def __init__(self, domain: str) -> None:
        super().__init__(domain)  # args stay (domain,) so the exception pickles
        self.domain = domain

    def __str__(self) -> str:
        return f"Amazon SES has no identity for {self.domain}"


@dataclass(frozen=True)
class DnsRecord:
    name: str
    type: str
    value: str


@dataclass(frozen=True)
class DomainStatus:
    verified: bool
    dkim_status: str  # PENDING, SUCCESS, FAILED, TEMPORARY_FAILURE or NOT_STARTED
    records: list[DnsRecord]


def validate_domain(text: str) -> str:
    """The domain in ``text``, lower-cased (IDNs as punycode); ValueError, in words a
    merchant understands, when it is not a domain name."""
    domain = text.strip().rstrip(".").lower()
    if "://" in domain or "/" in domain:
        raise ValueError("Enter only the domain name, such as mail.example.com, without http://.")
    if "@" in domain:
        raise ValueError("Enter the domain only (example.com), not an email address.")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{text.strip()!r} is not a valid domain name.") from None
    labels = domain.split(".")
    if len(labels) < 2:
        raise ValueError("Enter a full domain name with a dot, such as example.com.")
    if len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(
            f"{text.strip()!r} is not a valid domain name: use letters, digits and hyphens "
            "between the dots, such as mail.example.com."
        )
    if labels[-1].isdigit():
        raise ValueError("Enter a domain name, not an IP address.")
    return domain


def dkim_records(
    domain: str, tokens: list[str], hosted_zone: str = DEFAULT_DKIM_ZONE
) -> list[DnsRecord]:
    """The EasyDKIM CNAMEs: ``<token>._domainkey.<domain>`` → ``<token>.<hosted_zone>``."""
    return [
        DnsRecord(name=f"{token}._domainkey.{domain}", type="CNAME", value=f"{token}.{hosted_zone}")
        for token in tokens
    ]


def ses_client(region: str, endpoint_url: str | None = None, *, api: str = "sesv2") -> Any:
    """A boto3 SES client (``api`` "sesv2" or "ses") for the functions of this module."""
    if api not in ("sesv2", "ses"):
        raise ValueError("api must be 'sesv2' or 'ses'")
    return boto3.client(api, region_name=region, endpoint_url=endpoint_url)


def create_identity(client: Any, domain: str) -> list[DnsRecord]:
    """Add ``domain`` to SES with EasyDKIM and return its CNAMEs (the existing ones when
    it was added before)."""
    if not _is_v2(client):
        tokens = client.verify_domain_dkim(Domain=domain)["DkimTokens"]
        return dkim_records(domain, tokens)
    try:
        answer = client.create_email_identity(EmailIdentity=domain)
    except ClientError as exc:
        if _code(exc) != "AlreadyExistsException":
            raise
        answer = client.get_email_identity(EmailIdentity=domain)
    return _v2_records(domain, answer)


def identity_status(client: Any, domain: str) -> DomainStatus:
    """Whether SES lets ``domain`` send yet, its DKIM status and its CNAMEs; raises
    ``UnknownDomain`` when SES does not know it."""
    if not _is_v2(client):
        return _v1_status(client, domain)
    try:
        answer = client.get_email_identity(EmailIdentity=domain)
    except ClientError as exc:
        if _code(exc) == "NotFoundException":
            raise UnknownDomain(domain) from exc
        raise
    return DomainStatus(
        verified=bool(answer.get("VerifiedForSendingStatus")),
        dkim_status=answer.get("DkimAttributes", {}).get("Status", "NOT_STARTED"),
        records=_v2_records(domain, answer),
    )


def delete_identity(client: Any, domain: str) -> None:
    """Remove ``domain`` from SES; deleting one SES does not know is not an error."""
    if not _is_v2(client):
        client.delete_identity(Identity=domain)
        return
    try:
        client.delete_email_identity(EmailIdentity=domain)
    except ClientError as exc:
        if _code(exc) != "NotFoundException":
            raise


def _v1_status(client: Any, domain: str) -> DomainStatus:
    verification = client.get_identity_verification_attributes(Identities=[domain])
    attributes = verification["VerificationAttributes"].get(domain)
    if attributes is None:
        raise UnknownDomain(domain)
    dkim = client.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"].get(
        domain, {}
    )
    dkim_status = _V1_DKIM_STATUS.get(dkim.get("DkimVerificationStatus", ""), "NOT_STARTED")
    # v1 lets a domain send once either its TXT record or its DKIM records are seen.
    verified = attributes.get("VerificationStatus") == "Success" or dkim_status == "SUCCESS"
    return DomainStatus(
        verified=verified,
        dkim_status=dkim_status,
        records=dkim_records(domain, dkim.get("DkimTokens", [])),
    )


def _v2_records(domain: str, answer: dict[str, Any]) -> list[DnsRecord]:
    dkim = answer.get("DkimAttributes", {})
    # SES names the zone the CNAMEs must point into; it is not always the classic one.
    zone = dkim.get("SigningHostedZone") or DEFAULT_DKIM_ZONE
    return dkim_records(domain, dkim.get("Tokens", []), zone)


def _is_v2(client: Any) -> bool:
    return client.meta.service_model.service_name == "sesv2"


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")

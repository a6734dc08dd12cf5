"""Where a workspace's hosted pages live: Backstop's own address, or the merchant's
custom domain (``billing.example.com``) once DNS shows it points at us.

Verification is a real DNS lookup (dnspython) through a resolver the caller may pass
(tests pass a stub); TLS for the custom host is the deployment's job
(``docs/custom-domains.md``). Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import CustomDomain

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

#: ``resolve(hostname) -> [CNAME targets]``; raises ``LookupError`` when DNS cannot say.
Resolve = Callable[[str], list[str]]


class HostnameProblem(ValueError):
    """A hostname the merchant typed that cannot be a custom domain (400)."""


def clean_hostname(text: str) -> str:
    """``billing.example.com`` from what the merchant typed (a URL is accepted)."""
    value = (text or "").strip().lower()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    value = value.rstrip(".")
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 3 or not all(_LABEL.match(x) for x in labels):
        raise HostnameProblem(
            "Enter a subdomain you own, like billing.example.com (not the bare domain)."
        )
    if labels[-1].isdigit():
        raise HostnameProblem("Enter a name, not an IP address.")
    if value == cname_target() or value.endswith("." + cname_target()):
        raise HostnameProblem("That is Backstop's own address; enter one of yours.")
    return value


def cname_target() -> str:
    """The host a custom domain's CNAME record points to."""
    settings = current_app.config["BACKSTOP"]
    return settings.custom_domain_target or (urlsplit(settings.base_url).hostname or "")


def dns_resolve(hostname: str) -> list[str]:
    """The CNAME targets DNS holds for ``hostname`` (lower case, no final dot)."""
    try:
        answer = dns.resolver.resolve(hostname, "CNAME", lifetime=5.0)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise LookupError(f"DNS did not answer ({exc.__class__.__name__})") from exc
    return [str(record.target).rstrip(".").lower() for record in answer]


def domain_of(session: Session, workspace_id: int) -> CustomDomain | None:
    return session.execute(
        select(CustomDomain).where(CustomDomain.workspace_id == workspace_id)
    ).scalar_one_or_none()


def set_domain(session: Session, workspace_id: int, text: str) -> CustomDomain:
    """Add (or change) the workspace's custom domain; it is served once verified."""
    hostname = clean_hostname(text)
    taken = session.execute(
        select(CustomDomain).where(
            CustomDomain.hostname == hostname, CustomDomain.workspace_id != workspace_id
        )
    ).scalar_one_or_none()
    if taken is not None:
        raise HostnameProblem("Another workspace uses that hostname already.")
    domain = domain_of(session, workspace_id)
    if domain is None:
        domain = CustomDomain(workspace_id=workspace_id, hostname=hostname)
        session.add(domain)
    elif domain.hostname != hostname:
        domain.hostname = hostname
        domain.status, domain.verified_at, domain.last_error = "pending", None, None
    session.flush()
    return domain


def remove_domain(session: Session, workspace_id: int) -> bool:
    domain = domain_of(session, workspace_id)
    if domain is None:
        return False
    session.delete(domain)
    session.flush()
    return True


def verify(
    session: Session, domain: CustomDomain, *, now: dt.datetime, resolve: Resolve | None = None
) -> CustomDomain:
    """Look the CNAME up (``resolve``: DNS itself by default) and record what it said."""
    target = cname_target()
    domain.checked_at = now
    try:
        found = (resolve or dns_resolve)(domain.hostname)
    except LookupError as exc:
        domain.last_error = str(exc)[:300]
        session.flush()
        return domain
    if target in found:
        domain.status, domain.last_error = "verified", None
        domain.verified_at = domain.verified_at or now
    else:
        domain.status = "failed"
        domain.last_error = (
            f"{domain.hostname} points to {', '.join(found)}, not {target}."
            if found
            else f"No CNAME record for {domain.hostname} yet (DNS can take a while)."
        )
    session.flush()
    return domain


def domain_for_host(session: Session, host: str) -> CustomDomain | None:
    """The custom domain ``host`` (as a request names it) is, verified or not."""
    hostname = host.split(":", 1)[0].lower().rstrip(".")
    return session.execute(
        select(CustomDomain).where(CustomDomain.hostname == hostname)
    ).scalar_one_or_none()


def hosted_base_url(session: Session, workspace_id: int | None) -> str:
    """Where the workspace's customers are sent: its verified custom domain (with our
    scheme and port, so a local setup works the same), else Backstop's own address."""
    base = current_app.config["BACKSTOP"].base_url.rstrip("/")
    if workspace_id is None:
        return base
    domain = domain_of(session, workspace_id)
    if domain is None or not domain.is_verified:
        return base
    parts = urlsplit(base)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{domain.hostname}{port}"

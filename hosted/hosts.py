"""Host-based routing for merchants' custom domains (``billing.example.com``).

A request on a verified custom domain may reach only the customer-facing pages
(this blueprint and its static files), and only that workspace's links: another
merchant's link on it is an unknown link. A host that is registered but not
verified yet is refused (421). Any other host is served as Backstop itself (a load
balancer's health check by address, an internal name): links are always built from
``BACKSTOP_BASE_URL`` or a verified domain, never from the request's host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, g, request

from app.accounts import hosts
from app.extensions import db
from app.observability.health import PROBE_PATHS

#: Endpoints a custom domain serves besides the hosted blueprint's own.
SHARED_ENDPOINTS = frozenset({"static"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def _our_hosts() -> set[str]:
    settings = current_app.config["BACKSTOP"]
    ours = {urlsplit(settings.base_url).hostname or "", hosts.cname_target()}
    return {h.lower() for h in ours if h}


def route_host() -> None:
    """``before_request``: serve a custom domain's pages, refuse what it must not."""
    if request.path in PROBE_PATHS:
        return  # a probe by address must not look the address up (nor need the database)
    host = (request.host or "").rsplit(":", 1)[0].lower().rstrip(".")
    if host.startswith("[") or host in _our_hosts() or host in LOCAL_HOSTS:
        return
    domain = hosts.domain_for_host(db.session, host)
    if domain is None:
        return  # not a merchant's name: Backstop's own pages, as on its own address
    if not domain.is_verified:
        abort(421, description="This address is not verified yet.")
    if request.blueprint != "hosted" and request.endpoint not in SHARED_ENDPOINTS:
        abort(404)
    g.custom_domain_workspace_id = domain.workspace_id
    return


def serves(workspace_id: int) -> bool:
    """Whether this request's host may show ``workspace_id``'s pages."""
    only = g.get("custom_domain_workspace_id")
    return only is None or only == workspace_id

"""Where Backstop may post (a defence against server-side request forgery): pure rules.

A merchant types the URL; without these rules it could point Backstop's own servers at
their private network (a cloud metadata service, a database's admin port). Only public
unicast addresses are allowed. Every address a name resolves to is checked at send time
and the connection is made to a checked address (:mod:`.transport`), so a name that
resolves differently a moment later (DNS rebinding) gains nothing. Loopback is allowed
only where a setting says so (development and tests; never in production).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URL = 2048
#: Ranges Python's ``is_global`` still counts as global but nobody should post to.
_EXTRA_BLOCKED = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT (is_global is False already)
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64: would reach embedded IPv4 addresses
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("2002::/16"),  # 6to4: ditto
)


class AddressRefused(ValueError):
    """The URL or an address it resolves to is not one Backstop posts to."""


def refusal(ip: str, *, allow_loopback: bool = False) -> str | None:
    """Why Backstop must not connect to ``ip``, or None when it may."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return f"{ip!r} is not an IP address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            inner = refusal(str(embedded), allow_loopback=allow_loopback)
            return None if inner is None else f"{address} embeds {embedded}: {inner}"
    if address.is_loopback:
        return None if allow_loopback else f"{address} is a loopback address"
    checks = (
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
        (any(address in net for net in _EXTRA_BLOCKED), "not a public address"),
    )
    for blocked, words in checks:
        if blocked:
            return f"{address} is {words}"
    return None


def check_url(url: str, *, allow_loopback: bool = False, require_https: bool = True) -> str:
    """The host of ``url`` when its shape is acceptable (http(s), a host, no credentials,
    an IP literal that is allowed); raises :class:`AddressRefused` otherwise."""
    if len(url) > MAX_URL:
        raise AddressRefused(f"the URL is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("the URL is not valid") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("the URL must start with https:// and name a host")
    if parts.username or parts.password:
        raise AddressRefused("the URL must not carry a user name or password")
    host = parts.hostname
    literal = _literal(host)
    loopback = (literal is not None and literal.is_loopback) or host == "localhost"
    if require_https and parts.scheme != "https" and not (loopback and allow_loopback):
        raise AddressRefused("the URL must start with https://")
    if port == 0:
        raise AddressRefused("the URL's port must not be 0")
    if literal is not None:
        why = refusal(str(literal), allow_loopback=allow_loopback)
        if why:
            raise AddressRefused(f"Backstop does not post to {why}")
    elif host == "localhost" and not allow_loopback:
        raise AddressRefused("Backstop does not post to localhost")
    return host


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None

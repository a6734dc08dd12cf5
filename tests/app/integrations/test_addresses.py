"""SSRF rules: only public unicast addresses; loopback only where a setting allows."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.integrations.addresses import AddressRefused, check_url, refusal

ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
ipv6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)


def in_net(net: str):
    network = ipaddress.ip_network(net)
    return st.integers(0, network.num_addresses - 1).map(lambda n: network[n])


REFUSED_NETS = [
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # private
    "127.0.0.0/8", "::1/128",  # loopback
    "169.254.0.0/16", "fe80::/10",  # link-local (cloud metadata lives here)
    "224.0.0.0/4", "ff00::/8",  # multicast
    "240.0.0.0/4", "0.0.0.0/8",  # reserved, "this network"
    "fc00::/7",  # IPv6 unique local
    "100.64.0.0/10",  # carrier-grade NAT
    "::ffff:10.0.0.0/104", "::ffff:127.0.0.0/104", "::ffff:169.254.0.0/112",  # IPv4-mapped
    "2002:0a00::/24",  # 6to4 around 10/8
    "64:ff9b::/96",  # NAT64
]  # fmt: skip


@pytest.mark.parametrize("net", REFUSED_NETS)
@given(data=st.data())
def test_private_loopback_link_local_multicast_reserved_and_mapped_are_refused(
    net: str, data
) -> None:
    address = data.draw(in_net(net))
    assert refusal(str(address)) is not None


@given(address=st.one_of(ipv4, ipv6))
def test_an_allowed_address_is_a_public_unicast_one(address) -> None:
    if refusal(str(address)) is None:
        assert address.is_global and not address.is_multicast
        assert not (address.is_private or address.is_loopback or address.is_link_local)
        mapped = getattr(address, "ipv4_mapped", None)
        assert mapped is None or mapped.is_global


#: Address blocks of public networks (cloud providers, ISPs): every address in them is public.
public_v4 = st.tuples(
    st.sampled_from([1, 8, 20, 34, 45, 52, 93, 104, 142, 151, 185]), st.integers(0, 2**24 - 1)
).map(lambda p: ipaddress.IPv4Address(p[0] * 2**24 + p[1]))


@given(address=public_v4)
def test_public_ipv4_is_allowed(address) -> None:
    assume(address.is_global)
    assert refusal(str(address)) is None
    assert refusal(f"::ffff:{address}") is None  # the same address, IPv4-mapped


def test_known_public_addresses_pass_and_loopback_only_when_allowed() -> None:
    assert refusal("93.184.215.14") is None and refusal("2606:4700:4700::1111") is None
    assert refusal("127.0.0.1") is not None and refusal("::1") is not None
    assert refusal("127.0.0.1", allow_loopback=True) is None
    assert refusal("::ffff:127.0.0.1", allow_loopback=True) is None
    assert refusal("10.0.0.1", allow_loopback=True) is not None  # private stays refused
    assert refusal("169.254.169.254", allow_loopback=True) is not None
    assert refusal("not-an-ip") is not None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/x", "https"),
        ("http://example.com/x", "https"),
        ("https://user:pw@example.com/x", "password"),
        ("https:///nohost", "host"),
        ("https://10.1.2.3/x", "private"),
        ("https://[::1]/x", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://localhost/x", "localhost"),
        ("https://example.com:99999/x", "not valid"),
        ("https://example.com/" + "a" * 2100, "longer"),
    ],
)
def test_urls_are_checked_for_shape(url: str, words: str) -> None:
    with pytest.raises(AddressRefused, match=words):
        check_url(url)


def test_a_public_https_url_passes_and_loopback_needs_the_setting() -> None:
    assert check_url("https://hooks.example.com/backstop") == "hooks.example.com"
    assert check_url("http://127.0.0.1:8000/x", allow_loopback=True, require_https=False)
    with pytest.raises(AddressRefused):
        check_url("http://127.0.0.1:8000/x")

"""Send domains on SES EasyDKIM: validation, the three CNAMEs, and identity status over
SES v2 and v1 (moto, plus botocore's Stubber where moto's answers fall short)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from emails.domains import (
    DnsRecord,
    DomainStatus,
    UnknownDomain,
    create_identity,
    delete_identity,
    dkim_records,
    identity_status,
    ses_client,
    validate_domain,
)

REGION = "eu-west-1"
DOMAIN = "mail.acme.example"
TOKENS = ["tok1aaaa", "tok2bbbb", "tok3cccc"]

# -- validate_domain -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("Mail.Acme.Example", "mail.acme.example"),
        ("  acme.io.  ", "acme.io"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("a-b.c-d.example", "a-b.c-d.example"),
    ],
)
def test_valid_domains_are_lower_cased(text: str, domain: str) -> None:
    assert validate_domain(text) == domain


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("acme", "with a dot"),
        ("", "with a dot"),
        ("https://acme.example/", "without http://"),
        ("billing@acme.example", "not an email address"),
        ("acme..example", "not a valid domain name"),
        ("-acme.example", "not a valid domain name"),
        ("acme-.example", "not a valid domain name"),
        ("ac me.example", "not a valid domain name"),
        ("acme_mail.example", "not a valid domain name"),
        ("a" * 64 + ".example", "not a valid domain name"),
        (".".join(["abcdefghi"] * 26), "not a valid domain name"),  # 259 characters
        ("192.168.0.1", "not an IP address"),
    ],
)
def test_invalid_domains_are_refused_in_plain_words(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        validate_domain(text)


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@given(
    labels=st.lists(LABEL, min_size=1, max_size=5),
    tld=st.from_regex(r"[a-z]{2,10}", fullmatch=True),
)
def test_any_well_formed_name_is_accepted_unchanged(labels: list[str], tld: str) -> None:
    domain = ".".join([*labels, tld])
    assert validate_domain(domain.upper()) == domain


# -- dkim_records --------------------------------------------------------------------------


def test_dkim_records_are_three_cnames_into_amazonses() -> None:
    assert dkim_records(DOMAIN, TOKENS) == [
        DnsRecord(f"{t}._domainkey.{DOMAIN}", "CNAME", f"{t}.dkim.amazonses.com") for t in TOKENS
    ]
    assert dkim_records(DOMAIN, TOKENS[:1], "dkim.il-central-1.amazonses.com")[0].value == (
        "tok1aaaa.dkim.il-central-1.amazonses.com"
    )


# -- SES v1 under moto: tokens, verified at once --------------------------------------------


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_v1_create_returns_three_records_and_moto_verifies_at_once(aws: None) -> None:
    client = ses_client(REGION, api="ses")
    records = create_identity(client, DOMAIN)
    assert len(records) == 3
    assert all(r.type == "CNAME" and r.name.endswith(f"._domainkey.{DOMAIN}") for r in records)
    assert all(r.value.endswith(".dkim.amazonses.com") for r in records)
    # Idempotent: adding the domain again gives the same records.
    assert create_identity(client, DOMAIN) == records
    assert identity_status(client, DOMAIN) == DomainStatus(
        verified=True, dkim_status="SUCCESS", records=records
    )
    delete_identity(client, DOMAIN)
    with pytest.raises(UnknownDomain, match=DOMAIN):
        identity_status(client, DOMAIN)


def test_v1_unknown_domain(aws: None) -> None:
    with pytest.raises(UnknownDomain) as caught:
        identity_status(ses_client(REGION, api="ses"), "never-added.example")
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert (copy.domain, str(copy)) == (
        "never-added.example",
        "Amazon SES has no identity for never-added.example",
    )


def v1_stubbed() -> tuple[Any, Stubber]:
    client = boto3.client(
        "ses", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def test_v1_pending_domain_is_not_verified() -> None:
    # moto answers Success for every known identity, so the pending path is stubbed.
    client, stub = v1_stubbed()
    stub.add_response(
        "get_identity_verification_attributes",
        {"VerificationAttributes": {DOMAIN: {"VerificationStatus": "Pending"}}},
        {"Identities": [DOMAIN]},
    )
    stub.add_response(
        "get_identity_dkim_attributes",
        {
            "DkimAttributes": {
                DOMAIN: {
                    "DkimEnabled": True,
                    "DkimVerificationStatus": "Pending",
                    "DkimTokens": TOKENS,
                }
            }
        },
        {"Identities": [DOMAIN]},
    )
    with stub:
        status = identity_status(client, DOMAIN)
    assert status == DomainStatus(False, "PENDING", dkim_records(DOMAIN, TOKENS))


# -- SES v2 under moto: no tokens, never verified unless the backend says so ----------------


def test_v2_under_moto_creates_but_has_no_tokens_and_never_verifies(aws: None) -> None:
    client = ses_client(REGION)
    assert create_identity(client, DOMAIN) == []  # moto's v2 identities carry no Tokens
    status = identity_status(client, DOMAIN)
    assert status == DomainStatus(verified=False, dkim_status="NOT_STARTED", records=[])


def test_v2_status_follows_ses_once_dns_is_seen(aws: None) -> None:
    client = ses_client(REGION)
    create_identity(client, DOMAIN)
    # What SES does once it finds the CNAMEs; moto never does it by itself.
    identity = ses_backends[DEFAULT_ACCOUNT_ID][REGION].email_identities[DOMAIN]
    identity.verified_for_sending_status = True
    identity.dkim_attributes.update(Status="SUCCESS", Tokens=TOKENS)
    assert identity_status(client, DOMAIN) == DomainStatus(
        True, "SUCCESS", dkim_records(DOMAIN, TOKENS)
    )


def test_v2_unknown_and_delete(aws: None) -> None:
    client = ses_client(REGION)
    with pytest.raises(UnknownDomain):
        identity_status(client, DOMAIN)
    delete_identity(client, DOMAIN)  # not an error: already gone
    create_identity(client, DOMAIN)
    delete_identity(client, DOMAIN)
    with pytest.raises(UnknownDomain):
        identity_status(client, DOMAIN)


# -- SES v2 with real-shaped answers (Stubber checks them against the service model) -------


def v2_stubbed() -> tuple[Any, Stubber]:
    client = boto3.client(
        "sesv2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def identity_answer(status: str, verified: bool, zone: str | None = None) -> dict[str, Any]:
    dkim: dict[str, Any] = {"SigningEnabled": True, "Status": status, "Tokens": TOKENS}
    if zone:
        dkim["SigningHostedZone"] = zone
    return {"IdentityType": "DOMAIN", "VerifiedForSendingStatus": verified, "DkimAttributes": dkim}


def test_v2_create_returns_the_three_records() -> None:
    client, stub = v2_stubbed()
    stub.add_response(
        "create_email_identity", identity_answer("PENDING", False), {"EmailIdentity": DOMAIN}
    )
    with stub:
        assert create_identity(client, DOMAIN) == dkim_records(DOMAIN, TOKENS)


def test_v2_create_of_an_existing_domain_reads_it_instead() -> None:
    client, stub = v2_stubbed()
    stub.add_client_error(
        "create_email_identity", service_error_code="AlreadyExistsException", http_status_code=400
    )
    stub.add_response(
        "get_email_identity",
        identity_answer("SUCCESS", True, zone="dkim.il-central-1.amazonses.com"),
        {"EmailIdentity": DOMAIN},
    )
    with stub:
        records = create_identity(client, DOMAIN)
    assert records == dkim_records(DOMAIN, TOKENS, "dkim.il-central-1.amazonses.com")


@pytest.mark.parametrize(
    ("dkim", "verified"), [("PENDING", False), ("SUCCESS", True), ("FAILED", False)]
)
def test_v2_status(dkim: str, verified: bool) -> None:
    client, stub = v2_stubbed()
    stub.add_response(
        "get_email_identity", identity_answer(dkim, verified), {"EmailIdentity": DOMAIN}
    )
    with stub:
        status = identity_status(client, DOMAIN)
    assert status == DomainStatus(verified, dkim, dkim_records(DOMAIN, TOKENS))


def test_v2_other_errors_propagate() -> None:
    client, stub = v2_stubbed()
    stub.add_client_error(
        "create_email_identity", service_error_code="LimitExceededException", http_status_code=400
    )
    with stub, pytest.raises(ClientError, match="LimitExceeded"):
        create_identity(client, DOMAIN)


def test_ses_client_refuses_other_apis() -> None:
    with pytest.raises(ValueError, match="sesv2"):
        ses_client(REGION, api="sns")

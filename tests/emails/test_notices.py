"""Bounce and complaint notices: Amazon SNS signatures (v1 SHA1, v2 SHA256) over the SES
notifications they carry, and Resend's Svix-signed webhooks."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from emails.notices import (
    Notice,
    NoticeRejected,
    parse_resend,
    parse_ses_notification,
    parse_sns,
    sign_resend,
    verify_resend,
    verify_sns,
)

CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:backstop-ses"


def make_cert(key: Any) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CERT = make_cert(KEY)
OTHER_CERT = make_cert(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def fetch(url: str) -> bytes:
    assert url.startswith("https://sns.")
    return CERT


def canonical(message: dict[str, Any]) -> bytes:
    """Written from Amazon's documentation, independently of the module under test."""
    if message["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{k}\n{message[k]}\n" for k in keys if k in message).encode()


def signed(message: dict[str, Any], version: str = "1") -> dict[str, Any]:
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS v1
    signature = KEY.sign(canonical(message), padding.PKCS1v15(), algorithm)
    return {
        **message,
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
        "SigningCertURL": CERT_URL,
    }


def notification(ses_event: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": json.dumps(ses_event),
        "Timestamp": "2025-03-01T12:00:00.000Z",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&x=1",
        **extra,
    }


def confirmation(kind: str = "SubscriptionConfirmation") -> dict[str, Any]:
    return {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a7",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&T=1",
        "Timestamp": "2025-03-01T12:00:00.000Z",
    }


MAIL = {
    "timestamp": "2025-03-01T11:59:58.000Z",
    "source": "billing@mail.acme.example",
    "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/mail.acme.example",
    "messageId": "0102018e5c7b9f0a-aaaa-bbbb-cccc-000000000000-000000",
    "destination": ["jo@example.com"],
}
HARD_BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [
            {
                "emailAddress": "jo@example.com",
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown",
            }
        ],
        "timestamp": "2025-03-01T12:00:00.000Z",
        "feedbackId": "0102018e5c7ba1b2-feedback-000000",
        "reportingMTA": "dsn; a1-2.smtp-out.eu-west-1.amazonses.com",
    },
    "mail": MAIL,
}
SOFT_BOUNCE = {
    "eventType": "Bounce",  # event publishing (configuration sets) says eventType
    "bounce": {
        "bounceType": "Transient",
        "bounceSubType": "MailboxFull",
        "bouncedRecipients": [{"emailAddress": "jo@example.com"}],
        "timestamp": "2025-03-01T12:00:00.000Z",
        "feedbackId": "0102018e5c7ba1b2-feedback-000001",
    },
    "mail": MAIL,
}
COMPLAINT = {
    "notificationType": "Complaint",
    "complaint": {
        "complainedRecipients": [{"emailAddress": "jo@example.com"}],
        "timestamp": "2025-03-01T12:05:00.000Z",
        "feedbackId": "0102018e5c7ba1b2-feedback-000002",
        "userAgent": "Yahoo!-Mail-Feedback/2.0",
        "complaintFeedbackType": "abuse",
        "arrivalDate": "2025-03-01T12:04:00.000Z",
    },
    "mail": MAIL,
}
DELIVERY = {
    "notificationType": "Delivery",
    "delivery": {"timestamp": "2025-03-01T12:00:01.000Z", "recipients": ["jo@example.com"]},
    "mail": MAIL,
}


def body(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


# -- SNS signatures ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize(
    "message",
    [
        notification(HARD_BOUNCE),
        notification(HARD_BOUNCE, Subject="Amazon SES Email Event Notification"),
        confirmation(),
        confirmation("UnsubscribeConfirmation"),
    ],
    ids=["notification", "with-subject", "subscribe", "unsubscribe"],
)
def test_signatures_of_both_versions_verify(message: dict[str, Any], version: str) -> None:
    verify_sns(signed(message, version), fetch)


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("field", ["Message", "MessageId", "Timestamp", "TopicArn", "Subject"])
def test_a_tampered_signed_field_is_rejected(field: str, version: str) -> None:
    message = signed(notification(HARD_BOUNCE, Subject="s"), version)
    message[field] += "x"
    with pytest.raises(NoticeRejected, match="does not match"):
        verify_sns(message, fetch)


def test_a_signature_of_one_version_does_not_pass_as_the_other() -> None:
    message = {**signed(notification(HARD_BOUNCE), "1"), "SignatureVersion": "2"}
    with pytest.raises(NoticeRejected, match="does not match"):
        verify_sns(message, fetch)


def test_an_added_subject_breaks_the_signature() -> None:
    message = {**signed(notification(HARD_BOUNCE)), "Subject": "added later"}
    with pytest.raises(NoticeRejected, match="does not match"):
        verify_sns(message, fetch)


def test_a_signature_by_another_key_is_rejected() -> None:
    with pytest.raises(NoticeRejected, match="does not match"):
        verify_sns(signed(notification(HARD_BOUNCE)), lambda url: OTHER_CERT)


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.eu-west-1.amazonaws.com.pem",
        "https://sns.eu-west-1.amazonaws.com@evil.example/cert.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/cert.pem",
        "https://s3.amazonaws.com/sns/cert.pem",
        "https://sns.eu-west-1.amazonaws.com/cert.txt",
        "file:///etc/ssl/cert.pem",
    ],
)
def test_a_certificate_not_from_sns_over_https_is_refused_before_fetching(url: str) -> None:
    def never(url: str) -> bytes:
        raise AssertionError("fetched a certificate it should have refused")

    with pytest.raises(NoticeRejected, match="certificate"):
        verify_sns({**signed(notification(HARD_BOUNCE)), "SigningCertURL": url}, never)


def test_china_regions_are_amazon_too() -> None:
    url = "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-0000.pem"
    verify_sns({**signed(notification(HARD_BOUNCE)), "SigningCertURL": url}, fetch)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"SignatureVersion": "3"}, "SignatureVersion"),
        ({"SignatureVersion": None}, "SignatureVersion"),
        ({"Signature": "not base64!"}, "base64"),
        ({"Type": "Surprise"}, "type"),
        ({"MessageId": None}, "lacks MessageId"),
        ({"SigningCertURL": None}, "lacks SigningCertURL"),
    ],
)
def test_malformed_messages_are_rejected(change: dict[str, Any], reason: str) -> None:
    message = {**signed(notification(HARD_BOUNCE)), **change}
    with pytest.raises(NoticeRejected, match=reason):
        verify_sns(message, fetch)


def test_an_unreadable_certificate_is_rejected() -> None:
    with pytest.raises(NoticeRejected, match="unreadable"):
        verify_sns(signed(notification(HARD_BOUNCE)), lambda url: b"<html>oops</html>")


def test_a_certificate_without_an_rsa_key_is_rejected() -> None:
    ec_cert = make_cert(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(NoticeRejected, match="RSA"):
        verify_sns(signed(notification(HARD_BOUNCE)), lambda url: ec_cert)


# -- parse_sns over SES notifications ------------------------------------------------------


def test_hard_bounce_is_a_permanent_notice() -> None:
    envelope = parse_sns(body(signed(notification(HARD_BOUNCE), "2")), fetch)
    assert (envelope.type, envelope.topic_arn) == ("Notification", TOPIC)
    assert envelope.subscribe_url is None
    assert envelope.notices == [
        Notice(
            kind="bounce",
            addresses=("jo@example.com",),
            provider_message_id=MAIL["messageId"],
            permanent=True,
            detail="Permanent/General: smtp; 550 5.1.1 user unknown",
        )
    ]


def test_transient_bounce_is_not_permanent() -> None:
    [notice] = parse_sns(body(signed(notification(SOFT_BOUNCE))), fetch).notices
    assert (notice.kind, notice.permanent, notice.detail) == (
        "bounce",
        False,
        "Transient/MailboxFull",
    )


def test_complaint_is_permanent() -> None:
    [notice] = parse_sns(body(signed(notification(COMPLAINT))), fetch).notices
    assert notice == Notice("complaint", ("jo@example.com",), MAIL["messageId"], True, "abuse")


def test_several_bounced_recipients_make_one_notice() -> None:
    event = json.loads(json.dumps(HARD_BOUNCE))
    event["bounce"]["bouncedRecipients"].append({"emailAddress": "al@example.com"})
    [notice] = parse_ses_notification(json.dumps(event))
    assert notice.addresses == ("jo@example.com", "al@example.com")


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(DELIVERY),
        json.dumps({"eventType": "Send", "mail": MAIL}),
        json.dumps({"notificationType": "AmazonSnsSubscriptionSucceeded"}),
        "Successfully validated SNS topic for Amazon SES event publishing.",
        json.dumps({"notificationType": "Bounce", "bounce": {"bounceType": "Permanent"}}),
    ],
)
def test_deliveries_and_other_messages_give_no_notices(text: str) -> None:
    assert parse_ses_notification(text) == []


def test_subscription_confirmation_gives_its_url() -> None:
    envelope = parse_sns(body(signed(confirmation())), fetch)
    assert envelope.type == "SubscriptionConfirmation"
    assert envelope.subscribe_url == confirmation()["SubscribeURL"]
    assert envelope.notices == []


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_parse_sns_rejects_what_is_not_an_sns_object(raw: bytes) -> None:
    with pytest.raises(NoticeRejected):
        parse_sns(raw, fetch)


# -- Resend / Svix -------------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(b"resend-test-signing-key-32-bytes").decode()
NOW = 1_740_830_400


def svix_headers(payload: bytes, *, msg_id: str = "msg_2abc", timestamp: int = NOW) -> dict:
    # Computed here from Svix's documentation, not with the module's own signer.
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + payload, hashlib.sha256).digest()
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(timestamp),
        "svix-signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_sign_resend_matches_svix() -> None:
    payload = b'{"type":"email.bounced"}'
    expected = svix_headers(payload)["svix-signature"]
    assert sign_resend(payload, msg_id="msg_2abc", timestamp=NOW, secret=SECRET) == expected


@given(payload=st.binary(max_size=2048))
def test_any_body_signed_verifies(payload: bytes) -> None:
    verify_resend(payload, svix_headers(payload), SECRET, now=NOW)


@given(payload=st.binary(min_size=1, max_size=512), data=st.data())
def test_any_one_byte_change_fails(payload: bytes, data: st.DataObject) -> None:
    headers = svix_headers(payload)
    index = data.draw(st.integers(0, len(payload) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = payload[:index] + bytes([payload[index] ^ flip]) + payload[index + 1 :]
    with pytest.raises(NoticeRejected, match="no svix-signature"):
        verify_resend(tampered, headers, SECRET, now=NOW)


@given(skew=st.integers(301, 10**9), sign=st.sampled_from([-1, 1]))
def test_outside_tolerance_fails(skew: int, sign: int) -> None:
    payload = b"{}"
    with pytest.raises(NoticeRejected, match="tolerance"):
        verify_resend(payload, svix_headers(payload), SECRET, now=NOW + sign * skew)


@given(skew=st.integers(-300, 300))
def test_inside_tolerance_passes(skew: int) -> None:
    payload = b"{}"
    verify_resend(payload, svix_headers(payload), SECRET, now=NOW + skew)


def test_any_v1_entry_may_match_and_header_case_does_not_matter() -> None:
    payload = b'{"a":1}'
    headers = svix_headers(payload)
    good = headers["svix-signature"]
    headers = {
        "Svix-Id": headers["svix-id"],
        "Svix-Timestamp": headers["svix-timestamp"],
        # Svix sends several during secret rotation; v2 and junk are skipped.
        "Svix-Signature": f"v1,{base64.b64encode(b'x' * 32).decode()} v2,abc v1,!!! {good}",
    }
    verify_resend(payload, headers, SECRET, now=NOW)


def test_a_signature_made_with_the_id_or_timestamp_changed_fails() -> None:
    payload = b"{}"
    headers = svix_headers(payload)
    for name, value in [("svix-id", "msg_other"), ("svix-timestamp", str(NOW + 1))]:
        with pytest.raises(NoticeRejected, match="no svix-signature"):
            verify_resend(payload, {**headers, name: value}, SECRET, now=NOW)


@pytest.mark.parametrize(
    ("drop_or_change", "reason"),
    [
        ({"svix-id": None}, "missing"),
        ({"svix-signature": None}, "missing"),
        ({"svix-timestamp": "yesterday"}, "not a number"),
        ({"svix-signature": "v1,"}, "no svix-signature"),
    ],
)
def test_missing_or_malformed_headers_fail(drop_or_change: dict, reason: str) -> None:
    headers = {**svix_headers(b"{}"), **drop_or_change}
    headers = {k: v for k, v in headers.items() if v is not None}
    with pytest.raises(NoticeRejected, match=reason):
        verify_resend(b"{}", headers, SECRET, now=NOW)


def test_a_wrong_secret_fails() -> None:
    other = "whsec_" + base64.b64encode(b"another-key").decode()
    with pytest.raises(NoticeRejected):
        verify_resend(b"{}", svix_headers(b"{}"), other, now=NOW)


def resend_event(kind: str, **data: Any) -> bytes:
    return json.dumps(
        {
            "type": kind,
            "created_at": "2025-03-01T12:00:00.000Z",
            "data": {
                "email_id": "4ef9a417-02e9-4d39-ad75-9611e0fcc33c",
                "from": "Acme <billing@mail.acme.example>",
                "to": ["jo@example.com"],
                "subject": "Your payment failed",
                "created_at": "2025-03-01T11:59:58.000Z",
                **data,
            },
        }
    ).encode()


def test_resend_hard_bounce() -> None:
    bounce = {"message": "The recipient's mailbox does not exist.", "subType": "General"}
    [notice] = parse_resend(resend_event("email.bounced", bounce={**bounce, "type": "Permanent"}))
    assert notice == Notice(
        "bounce",
        ("jo@example.com",),
        "4ef9a417-02e9-4d39-ad75-9611e0fcc33c",
        True,
        "Permanent General: The recipient's mailbox does not exist.",
    )


def test_resend_bounce_without_a_type_is_permanent_and_transient_is_not() -> None:
    [untyped] = parse_resend(resend_event("email.bounced"))
    assert untyped.permanent
    [soft] = parse_resend(
        resend_event("email.bounced", bounce={"type": "Transient", "subType": "MailboxFull"})
    )
    assert not soft.permanent
    assert soft.detail == "Transient MailboxFull"


def test_resend_complaint() -> None:
    [notice] = parse_resend(resend_event("email.complained"))
    assert (notice.kind, notice.permanent, notice.addresses) == (
        "complaint",
        True,
        ("jo@example.com",),
    )


def test_resend_open() -> None:
    [notice] = parse_resend(resend_event("email.opened"))
    assert (notice.kind, notice.permanent, notice.provider_message_id) == (
        "open",
        False,
        "4ef9a417-02e9-4d39-ad75-9611e0fcc33c",
    )


def test_ses_open_event() -> None:
    event = {
        "eventType": "Open",
        "mail": {"messageId": "0100-abc", "destination": ["jo@example.com"]},
        "open": {"timestamp": "2025-03-01T12:00:00.000Z", "userAgent": "Mail"},
    }
    [notice] = parse_ses_notification(json.dumps(event))
    assert (notice.kind, notice.addresses, notice.provider_message_id) == (
        "open",
        ("jo@example.com",),
        "0100-abc",
    )


@pytest.mark.parametrize("kind", ["email.sent", "email.delivered", "contact.created"])
def test_other_resend_events_give_no_notices(kind: str) -> None:
    assert parse_resend(resend_event(kind)) == []


@pytest.mark.parametrize("raw", [b"nope", b"[]", b"\xff"])
def test_parse_resend_rejects_what_is_not_an_event(raw: bytes) -> None:
    with pytest.raises(NoticeRejected):
        parse_resend(raw)

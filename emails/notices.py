"""Bounce, complaint and open notices from the providers, verified and reduced to
``Notice`` values the caller turns into suppressions (and, for opens, a first-open time
on the message).

Amazon SES reports through SNS HTTP(S) notifications (signed with Amazon's certificate);
Resend through Svix-signed webhooks. Pure functions: the clock and the certificate fetch
are passed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

NoticeKind = Literal["bounce", "complaint", "open"]


class NoticeRejected(Exception):
    """A notice that is not provably from the provider (bad signature, stale, malformed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    addresses: tuple[str, ...]
    provider_message_id: str | None
    permanent: bool
    detail: str


@dataclass(frozen=True)
class SnsEnvelope:
    type: str  # Notification, SubscriptionConfirmation or UnsubscribeConfirmation
    topic_arn: str
    message_id: str
    subscribe_url: str | None = None
    notices: list[Notice] = field(default_factory=list)


# -- Amazon SNS ----------------------------------------------------------------------------

# The fields Amazon signs, in the documented order; Subject only when the message has one.
_SNS_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SNS_SIGNED_FIELDS["UnsubscribeConfirmation"] = _SNS_SIGNED_FIELDS["SubscriptionConfirmation"]
_SNS_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "1": hashes.SHA1,  # Amazon's original scheme; still the default for topics
    "2": hashes.SHA256,
}
_SNS_CERT_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")


def sns_canonical_string(message: Mapping[str, Any]) -> bytes:
    """The bytes Amazon signs for an SNS message: ``key\\nvalue\\n`` for each signed field."""
    kind = message.get("Type")
    if kind not in _SNS_SIGNED_FIELDS:
        raise NoticeRejected(f"unknown SNS message type {kind!r}")
    parts = []
    for key in _SNS_SIGNED_FIELDS[kind]:
        value = message.get(key)
        if value is None:
            if key == "Subject":
                continue
            raise NoticeRejected(f"SNS message lacks {key}")
        if not isinstance(value, str):
            raise NoticeRejected(f"SNS field {key} is not a string")
        parts.append(f"{key}\n{value}\n")
    return "".join(parts).encode()


def check_sns_cert_url(url: str) -> None:
    """Refuse a signing certificate that is not served over https by SNS itself."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise NoticeRejected("the SNS signing certificate URL is not https")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        not _SNS_CERT_HOST.fullmatch(parts.hostname or "")
        or parts.username is not None
        or port not in (None, 443)
        or not parts.path.endswith(".pem")
    ):
        raise NoticeRejected(f"the SNS signing certificate is not from Amazon SNS: {url}")


def verify_sns(message: Mapping[str, Any], fetch_cert: Callable[[str], bytes]) -> None:
    """Check an SNS message's signature (versions 1 and 2) against Amazon's certificate;
    raise ``NoticeRejected`` with the reason when it does not hold."""
    version = message.get("SignatureVersion")
    hash_cls = _SNS_HASHES.get(str(version))
    if hash_cls is None:
        raise NoticeRejected(f"unsupported SNS SignatureVersion {version!r}")
    canonical = sns_canonical_string(message)
    url = message.get("SigningCertURL")
    if not isinstance(url, str):
        raise NoticeRejected("SNS message lacks SigningCertURL")
    check_sns_cert_url(url)
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except binascii.Error:
        raise NoticeRejected("the SNS signature is not base64") from None
    # fetch_cert's own failures (network) propagate: they say nothing about the sender.
    pem = fetch_cert(url)
    try:
        public_key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError:
        raise NoticeRejected("the SNS signing certificate is unreadable") from None
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise NoticeRejected("the SNS signing certificate has no RSA key")
    try:
        public_key.verify(signature, canonical, padding.PKCS1v15(), hash_cls())
    except InvalidSignature:
        raise NoticeRejected("the SNS signature does not match the message") from None


def parse_sns(body: bytes, fetch_cert: Callable[[str], bytes]) -> SnsEnvelope:
    """Verify an SNS HTTP(S) delivery and read it; a Notification carrying an SES bounce
    or complaint yields its notices."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past the parser's depth
        raise NoticeRejected("the SNS body is not JSON") from None
    if not isinstance(message, dict):
        raise NoticeRejected("the SNS body is not a JSON object")
    verify_sns(message, fetch_cert)
    kind = message["Type"]
    return SnsEnvelope(
        type=kind,
        topic_arn=message["TopicArn"],
        message_id=message["MessageId"],
        subscribe_url=message.get("SubscribeURL") if kind != "Notification" else None,
        notices=parse_ses_notification(message["Message"]) if kind == "Notification" else [],
    )


def parse_ses_notification(text: str) -> list[Notice]:
    """The notices in an SES notification (topic ``notificationType`` or event-publishing
    ``eventType``); deliveries and anything else yield none."""
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):
        return []  # SNS's own test and confirmation texts are not JSON
    if not isinstance(event, dict):
        return []
    kind = event.get("notificationType") or event.get("eventType")
    mail_id = (event.get("mail") or {}).get("messageId")
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        recipients = bounce.get("bouncedRecipients") or []
        detail = "/".join(filter(None, [bounce.get("bounceType"), bounce.get("bounceSubType")]))
        diagnostic = next((r["diagnosticCode"] for r in recipients if r.get("diagnosticCode")), "")
        return _notice(
            "bounce",
            recipients,
            mail_id,
            permanent=bounce.get("bounceType") == "Permanent",
            detail=f"{detail}: {diagnostic}" if diagnostic else detail,
        )
    if kind == "Complaint":
        complaint = event.get("complaint") or {}
        return _notice(
            "complaint",
            complaint.get("complainedRecipients") or [],
            mail_id,
            permanent=True,
            detail=complaint.get("complaintFeedbackType") or "complaint",
        )
    if kind == "Open":  # event publishing with open tracking on the configuration set
        destination = (event.get("mail") or {}).get("destination") or []
        recipients = [{"emailAddress": a} for a in destination if isinstance(a, str)]
        return _notice("open", recipients, mail_id, permanent=False, detail="open")
    return []


def _notice(
    kind: NoticeKind, recipients: list[Any], mail_id: str | None, *, permanent: bool, detail: str
) -> list[Notice]:
    addresses = tuple(
        r["emailAddress"].strip()
        for r in recipients
        if isinstance(r, dict) and isinstance(r.get("emailAddress"), str)
    )
    if not addresses:
        return []
    return [Notice(kind, addresses, mail_id, permanent, detail)]


def default_cert_fetcher(url: str) -> bytes:
    """Download an SNS signing certificate (cache it in the caller: it rarely changes)."""
    check_sns_cert_url(url)
    # No redirects: the host check above must hold for the server that answers.
    response = requests.get(url, timeout=10, allow_redirects=False)
    response.raise_for_status()
    return response.content


# -- Resend (Svix) -------------------------------------------------------------------------


def _svix_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise ValueError("the Resend webhook secret is not a whsec_<base64> value") from None


def sign_resend(body: bytes, *, msg_id: str, timestamp: int, secret: str) -> str:
    """The ``svix-signature`` value Svix would send for ``body`` (for local senders and tests)."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_svix_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_resend(
    body: bytes, headers: Mapping[str, str], secret: str, *, now: int, tolerance: int = 300
) -> None:
    """Check a Resend webhook's Svix signature and timestamp (±``tolerance`` seconds of
    ``now``); raise ``NoticeRejected`` with the reason when either fails."""
    lowered = {key.lower(): value for key, value in headers.items()}
    msg_id = lowered.get("svix-id")
    stamp = lowered.get("svix-timestamp")
    signatures = lowered.get("svix-signature")
    if not (msg_id and stamp and signatures):
        raise NoticeRejected("missing svix-id, svix-timestamp or svix-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise NoticeRejected("svix-timestamp is not a number") from None
    if abs(now - timestamp) > tolerance:
        # Outside the window a captured request could be replayed.
        raise NoticeRejected("svix-timestamp is outside the tolerance")
    content = f"{msg_id}.{timestamp}.".encode() + body
    expected = hmac.new(_svix_key(secret), content, hashlib.sha256).digest()
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        if hmac.compare_digest(candidate, expected):
            return
    raise NoticeRejected("no svix-signature matches the body")


def parse_resend(body: bytes) -> list[Notice]:
    """The notices in a (verified) Resend webhook: ``email.bounced``, ``email.complained``
    and ``email.opened``."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past the parser's depth
        raise NoticeRejected("the Resend body is not JSON") from None
    if not isinstance(event, dict):
        raise NoticeRejected("the Resend body is not a JSON object")
    kind = event.get("type")
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    to = data.get("to")
    recipients = [to] if isinstance(to, str) else to if isinstance(to, list) else []
    addresses = tuple(a.strip() for a in recipients if isinstance(a, str) and a.strip())
    email_id = data.get("email_id") if isinstance(data.get("email_id"), str) else None
    if not addresses:
        return []
    if kind == "email.bounced":
        bounce = data.get("bounce") if isinstance(data.get("bounce"), dict) else {}
        bounce_type = bounce.get("type")
        detail = " ".join(filter(None, [bounce_type, bounce.get("subType")]))
        message = bounce.get("message")
        return [
            Notice(
                "bounce",
                addresses,
                email_id,
                # No type given: suppress, since mailing again risks another bounce.
                permanent=bounce_type in (None, "Permanent"),
                detail=f"{detail}: {message}" if message and detail else message or detail,
            )
        ]
    if kind == "email.complained":
        return [Notice("complaint", addresses, email_id, permanent=True, detail="complaint")]
    if kind == "email.opened":
        return [Notice("open", addresses, email_id, permanent=False, detail="open")]
    return []

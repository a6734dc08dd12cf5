"""Bounce and complaint notices from the mail providers, which add to the workspace's
suppression list: Amazon SES through SNS, and Resend's (Svix-signed) webhooks."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import requests
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from emails import notices

from ..extensions import csrf, db
from ..models import utcnow
from . import guards, services
from .models import OutboxMessage

log = logging.getLogger("backstop.outbox")
bp = Blueprint("mail_webhooks", __name__)
MAX_BODY = 256 * 1024


def _body() -> bytes | None:
    if (request.content_length or 0) > MAX_BODY:
        return None
    body = request.get_data(cache=False)
    return body if len(body) <= MAX_BODY else None


def apply(found: list[notices.Notice], transport: str) -> int:
    """Suppress each address in the workspace whose message bounced or drew a complaint;
    note the first open of a message (where the provider tracks opens)."""
    done = 0
    for notice in found:
        if notice.kind == "bounce" and not notice.permanent:
            continue  # a full mailbox today is not a dead address
        message = None
        if notice.provider_message_id:
            message = db.session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.provider_id == notice.provider_message_id,
                )
            ).scalar_one_or_none()
        if message is None or message.workspace_id is None:
            continue
        if notice.kind == "open":
            if message.opened_at is None:
                message.opened_at = utcnow()
                guards.opened(db.session, message, now=message.opened_at)
                done += 1
            continue
        for address in notice.addresses:
            services.suppress(
                db.session,
                message.workspace_id,
                address,
                "bounced" if notice.kind == "bounce" else "complained",
                source=transport,
                detail=notice.detail,
                message_id=message.id,
            )
            done += 1
    db.session.commit()
    return done


_CERTS: dict[str, bytes] = {}


def _cached_cert(url: str) -> bytes:
    """Amazon's signing certificates rarely change: fetch each once per process."""
    if url not in _CERTS:
        _CERTS[url] = notices.default_cert_fetcher(url)
    return _CERTS[url]


def _confirm(url: str) -> None:
    requests.get(url, timeout=10, allow_redirects=False).raise_for_status()


def _is_sns(url: str | None) -> bool:
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and host.startswith("sns.")
        and (host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn"))
    )


@bp.post("/webhooks/ses")
@csrf.exempt
def ses_notice():
    body = _body()
    if body is None:
        return jsonify(error="body too large"), 413
    fetch = current_app.extensions.get("backstop.sns_cert_fetcher", _cached_cert)
    try:
        envelope = notices.parse_sns(body, fetch)
    except notices.NoticeRejected as exc:
        return jsonify(error=str(exc)), 400
    except requests.RequestException:  # SNS's certificate could not be fetched: retry later
        return jsonify(error="could not fetch the SNS signing certificate"), 503
    topics = current_app.config["BACKSTOP"].sns_topic_arns
    allowed = {t.strip() for t in topics.split(",") if t.strip()}
    if allowed and envelope.topic_arn not in allowed:
        return jsonify(error="notices from this SNS topic are not accepted"), 400
    if envelope.type == "SubscriptionConfirmation":
        if not allowed or not _is_sns(envelope.subscribe_url):
            # Without pinned topics on-call confirms by hand, once per topic, by visiting
            # SubscribeURL (docs/operations.md).
            log.warning(
                "email.sns_subscription topic=%s url=%s", envelope.topic_arn, envelope.subscribe_url
            )
            return jsonify(received=True, confirmed=False), 200
        try:
            current_app.extensions.get("backstop.sns_confirm", _confirm)(envelope.subscribe_url)
        except requests.RequestException:
            return jsonify(error="could not confirm the subscription"), 503
        log.info("email.sns_confirmed topic=%s", envelope.topic_arn)
        return jsonify(received=True, confirmed=True), 200
    return jsonify(received=True, suppressed=apply(list(envelope.notices), "ses")), 200


@bp.post("/webhooks/resend")
@csrf.exempt
def resend_notice():
    body = _body()
    if body is None:
        return jsonify(error="body too large"), 413
    secret = current_app.config["BACKSTOP"].resend_webhook_secret
    if not secret:
        return jsonify(error="the Resend webhook secret is not configured"), 503
    try:
        notices.verify_resend(body, request.headers, secret, now=int(time.time()))
        found = notices.parse_resend(body)
    except notices.NoticeRejected as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(received=True, suppressed=apply(found, "resend")), 200

"""Twilio's calls to us: replies from customers (STOP, START, HELP, anything else) at
``/webhooks/twilio/<token>`` and delivery reports at ``.../status``. The token names
the workspace; the ``X-Twilio-Signature`` (HMAC with the workspace's auth token) proves
it is Twilio. A bad signature is refused (403) and changes nothing."""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, request

from ..accounts.models import Workspace
from ..extensions import csrf, db
from ..i18n import services as i18n
from ..models import utcnow
from . import config, copy, policy, services
from .models import SmsSettings
from .transport import signature_is_valid

log = logging.getLogger("backstop.sms")
bp = Blueprint("sms_webhooks", __name__)
MAX_BODY = 64 * 1024


def _verified(token: str) -> tuple[SmsSettings, dict[str, str]]:
    """The workspace's settings and the POSTed fields, or 404/403/413."""
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    row = config.by_webhook_token(db.session, token)
    if row is None:
        abort(404)
    params = {key: request.form.get(key, "") for key in request.form}
    secret = config.auth_token(row)
    signature = request.headers.get("X-Twilio-Signature", "")
    base = current_app.config["BACKSTOP"].base_url.rstrip("/")
    urls = {request.url, base + request.full_path.rstrip("?")}
    if secret is None or not any(signature_is_valid(secret, u, params, signature) for u in urls):
        log.warning("sms.webhook.refused workspace=%s why=signature", row.workspace_id)
        abort(403)
    if row.account_sid and params.get("AccountSid", row.account_sid) != row.account_sid:
        log.warning("sms.webhook.refused workspace=%s why=account", row.workspace_id)
        abort(403)
    return row, params


def _twiml(reply: str | None) -> Response:
    inner = f"<Message>{escape(reply)}</Message>" if reply else ""
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
    return Response(body, mimetype="application/xml")


@bp.post("/webhooks/twilio/<token>")
@csrf.exempt
def inbound(token: str):
    """A customer's reply: STOP and its synonyms opt the number out (Twilio's own opt-out
    answers them), START opts it back in, HELP is answered with the merchant's contact;
    any other text is stored and logged."""
    row, params = _verified(token)
    phone = policy.normalise_phone(params.get("From"))
    if phone is None:
        abort(400, "From must be a phone number")
    workspace = db.session.get(Workspace, row.workspace_id)
    assert workspace is not None
    now = utcnow()
    month = policy.month_of(now, workspace.timezone)
    body = params.get("Body", "")
    received = services.receive(
        db.session,
        row,
        from_number=phone,
        body=body,
        provider_id=params.get("MessageSid"),
        month=month,
    )
    wants = policy.keyword_of(body, params.get("OptOutType"))
    reply = None
    if wants == policy.STOP:
        services.opt_out(
            db.session,
            row.workspace_id,
            phone,
            source="reply",
            keyword=body.strip()[:32],
            message_id=received.id,
        )
    elif wants == policy.START:
        services.opt_in(db.session, row.workspace_id, phone)
    elif wants == policy.HELP:
        customer = services.last_customer_of(db.session, row.workspace_id, phone)
        language = i18n.for_customer(db.session, row.workspace_id, customer)
        reply = copy.help_reply(
            merchant=workspace.name, contact=_contact(row), translate=language.translate
        )
        services.record_reply(
            db.session,
            row,
            to=phone,
            body=reply,
            month=month,
            locale=language.locale,
            customer_id=customer,
            in_reply_to=received,
            now=now,
        )
    else:
        log.info("sms.inbound.unknown workspace=%s message=%s", row.workspace_id, received.id)
    db.session.commit()
    log.info("sms.inbound workspace=%s keyword=%s", row.workspace_id, wants or "none")
    return _twiml(reply)


@bp.post("/webhooks/twilio/<token>/status")
@csrf.exempt
def status(token: str):
    """Twilio's report of what became of a text (delivered, undelivered, failed)."""
    row, params = _verified(token)
    sid, reported = params.get("MessageSid", ""), params.get("MessageStatus", "")
    if not sid or not reported:
        abort(400, "MessageSid and MessageStatus are required")
    services.record_status(
        db.session,
        row.workspace_id,
        sid,
        reported.lower(),
        error_code=params.get("ErrorCode") or None,
        now=utcnow(),
    )
    db.session.commit()
    return "", 204


def _contact(row: SmsSettings) -> str | None:
    """What a HELP reply points to: the SMS setting, else the emails' reply-to address."""
    if row.support_contact:
        return row.support_contact
    from ..dunning.config import settings_for

    return settings_for(db.session, row.workspace_id).reply_to

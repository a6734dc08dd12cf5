"""What the SMS tests share: a workspace with texts on, a customer with a phone (and
consent, unless told otherwise), and replies signed as Twilio signs them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.sms import config
from app.sms.models import SmsMessage
from app.sms.transport import sign

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "TestAuthToken0123456789abcdefXYZ"
FROM_NUMBER = "+15005550006"
BASE = "http://localhost"


def draft(**changes: Any) -> config.Draft:
    values: dict[str, Any] = {
        "is_enabled": True,
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": FROM_NUMBER,
        "messaging_service_sid": "",
        "monthly_cap": 500,
        "quiet_start_minute": 21 * 60,
        "quiet_end_minute": 9 * 60,
        "touch_days": [1, 5],
        "support_contact": "help@shop.example",
    }
    values.update(changes)
    return config.Draft(**values)


def turn_on(workspace_id: int, **changes: Any):
    row = config.save(db.session, workspace_id, draft(**changes), actor_id=None, actor_label="t")
    db.session.commit()
    return row


def texts(direction: str = "outbound") -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(SmsMessage).where(SmsMessage.direction == direction).order_by(SmsMessage.id)
        ).scalars()
    )


def twilio_post(
    web, token: str, params: dict[str, str], *, path: str = "", secret: str = AUTH_TOKEN
):
    """POST ``params`` to our webhook as Twilio would, signed with ``secret``."""
    url = f"{BASE}/webhooks/twilio/{token}{path}"
    return web.post(
        f"/webhooks/twilio/{token}{path}",
        data=params,
        headers={"X-Twilio-Signature": sign(secret, url, params)},
    )


def reply(web, token: str, phone: str, body: str, **extra: str):
    params = {
        "MessageSid": "SM" + "f" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": FROM_NUMBER,
        "Body": body,
        **extra,
    }
    return twilio_post(web, token, params)

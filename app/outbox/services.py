"""Render a message, store it, and mark it sent (the outbox transport). Flushes only.

Real transports (SES, Resend, SMTP) and suppression lists plug in here later; every
message is stored whatever the transport.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

import emails

from ..models import utcnow
from .models import OutboxMessage


def send(
    session: Session,
    *,
    template: str,
    to: str,
    context: dict[str, Any],
    from_email: str,
    workspace_id: int | None = None,
) -> OutboxMessage:
    rendered = emails.render(template, context)
    message = OutboxMessage(
        workspace_id=workspace_id,
        template=template,
        to_email=to,
        from_email=from_email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        headers={},
        transport="outbox",
        status="sent",
        sent_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message

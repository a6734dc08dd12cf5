"""The back office's texts: staff read every text with its status and error, and a
text's body; a stuck one is findable by status; nobody edits or deletes one."""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import func, select

from app.extensions import db
from app.sms import services, stuck
from app.sms.models import SmsMessage

from ..app import factories as f
from ..app.forms import csrf_token
from ..app.sms.helpers import turn_on
from .test_recovery_admin import staff

LIST = "/admin/sms-messages/"


def stuck_text(ctx):
    ws = f.workspace(name="Studio")
    db.session.commit()
    row = turn_on(ws.id)
    message = services.store(db.session, row, purpose="test", to="+14155550134",
                             body="Your card was declined", month="2026-07")  # fmt: skip
    message.status, message.sending_since = "sending", dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    db.session.commit()
    return message


def test_staff_find_a_stuck_text_then_see_it_resolved(web, ctx) -> None:
    message = stuck_text(ctx)
    staff(web, "support")
    page = html.unescape(web.get(LIST + "?flt1_0=sending").get_data(as_text=True))
    assert "+14155550134" in page and "sending" in page
    stuck.resolve(db.session, dt.datetime.now(dt.UTC))
    db.session.commit()
    detail = html.unescape(web.get(f"{LIST}details/?id={message.id}").get_data(as_text=True))
    assert "Your card was declined" in detail and "unconfirmed:" in detail


def test_nobody_edits_or_deletes_a_text(web, ctx) -> None:
    message = stuck_text(ctx)
    staff(web, "admin")
    assert web.get(f"{LIST}edit/?id={message.id}").status_code in (302, 403, 404)
    token = csrf_token(web, LIST)
    web.post(f"{LIST}delete/", data={"id": message.id, "csrf_token": token})
    assert db.session.execute(select(func.count()).select_from(SmsMessage)).scalar_one() == 1

"""The Disputes pages: list, one dispute (draft edits, support contact, PDF), the
monitor with its chart and table, and Settings → Disputes; roles and bad input."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.disputes import monitor
from app.disputes.models import Dispute, DisputeSettings, SettledCharge
from app.extensions import db
from app.models import utcnow

from .. import factories as f
from ..forms import submit


def _shop(role: str = "owner"):
    owner = f.user()
    ws = f.workspace(owner, "Studio Shop")
    dispute = f.dispute(ws)
    user = owner if role == "owner" else f.member(ws, role)
    db.session.commit()
    return ws, dispute, user


def test_list_and_dispute_page_show_cause_signals_and_draft(web, ctx) -> None:
    _ws, dispute, owner = _shop()
    f.login(web, owner)
    listing = web.get("/disputes").get_data(as_text=True)
    assert dispute.stripe_id in listing and "Friendly fraud" in listing
    assert "Submit evidence" in listing and 'href="/disputes"' in listing  # in the NAV
    page = web.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert "Likely cause: Friendly fraud" in page
    assert "Active in the disputed period" in page and "A renewal" in page
    assert "Ada Lovelace" in page and 'id="submit-evidence"' in page
    assert 'id="accept-dispute"' in page


def test_owner_edits_the_draft_and_support_contact_reclassifies(web, ctx) -> None:
    _ws, dispute, owner = _shop()
    f.login(web, owner)
    url = f"/disputes/{dispute.id}"
    response = submit(
        web,
        f"{url}/draft",
        {
            "customer_name": "Ada L.",
            "uncategorized_text": "Our note.",
            "support_contact": "yes",
            "support_note": "Wrote in on June 2",
        },
        page=url,
    )
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(Dispute, dispute.id)
    assert row.evidence["customer_name"] == "Ada L." and "customer_name" in row.edited_fields
    assert row.support_contact == "yes" and row.likely_cause == "product_issue"
    assert row.recommended_action == "accept"
    actions = db.session.execute(select(AuditEntry.action)).scalars().all()
    assert "dispute.draft_saved" in actions

    too_long = submit(
        web, f"{url}/draft", {"uncategorized_text": "x" * 20_001, "support_contact": "maybe"},
        page=url,
    )  # fmt: skip
    assert too_long.status_code == 400
    text = too_long.get_data(as_text=True)
    assert "longer than 20,000 characters" in text and "contacted support" in text
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).evidence["uncategorized_text"] == "Our note."


def test_viewers_cannot_change_or_answer(web, ctx) -> None:
    _ws, dispute, viewer = _shop("viewer")
    f.login(web, viewer)
    url = f"/disputes/{dispute.id}"
    page = web.get(url).get_data(as_text=True)
    assert "Only owners and admins can change it." in page and "submit-evidence" not in page
    for action in ("draft", "submit", "accept"):
        assert submit(web, f"{url}/{action}", {"customer_name": "X"}, page=url).status_code == 403
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).evidence["customer_name"] == "Ada Lovelace"


def test_pdf_preview_is_a_readable_document(web, ctx) -> None:
    _ws, dispute, owner = _shop()
    f.login(web, owner)
    response = web.get(f"/disputes/{dispute.id}/evidence.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "Dispute evidence" in text and "Studio Shop" in text and "29.00 USD" in text
    download = web.get(f"/disputes/{dispute.id}/evidence.pdf?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_answering_without_stripe_is_refused_and_changes_nothing(web, ctx) -> None:
    _ws, dispute, owner = _shop()
    f.login(web, owner)
    url = f"/disputes/{dispute.id}"
    response = submit(web, f"{url}/submit", {}, page=url)
    assert response.status_code == 409 and "Stripe is not connected" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Dispute, dispute.id).submitted_at is None


def test_monitor_shows_chart_and_table(web, ctx) -> None:
    ws, _dispute, owner = _shop()
    month = monitor.month_of(utcnow())
    for n in range(99):
        db.session.add(
            SettledCharge(
                workspace_id=ws.id,
                charge_stripe_id=f"ch_{n}",
                network="visa",
                month=month,
                amount_minor=100,
                currency="usd",
                settled_at=utcnow(),
            )
        )
    db.session.commit()
    f.login(web, owner)
    page = web.get("/disputes/monitor").get_data(as_text=True)
    assert "<svg" in page and "Dispute rate per card network" in page
    assert f'data-month="{month}" data-network="visa"' in page
    assert "1.01 %" in page and "Visa dispute monitoring (VDMP, 0.9 %)" in page


def test_settings_save_and_refuse_bad_input(web, ctx) -> None:
    _ws, _dispute, owner = _shop()
    f.login(web, owner)
    ok = submit(
        web,
        "/settings/disputes",
        {
            "is_auto_submit": "1",
            "auto_submit_hours": "48",
            "terms_url": "https://s.example/t",
            "cancellation_policy_url": "https://s.example/c",
        },
    )
    assert ok.status_code == 302
    db.session.expire_all()
    stored = db.session.execute(select(DisputeSettings)).scalar_one()
    assert (stored.is_auto_submit, stored.auto_submit_hours) == (True, 48)
    bad = submit(
        web,
        "/settings/disputes",
        {"auto_submit_hours": "900", "terms_url": "javascript:alert(1)"},
    )
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "between 1 and 168 hours" in text and "web address" in text
    db.session.expire_all()
    stored = db.session.execute(select(DisputeSettings)).scalar_one()
    assert (stored.auto_submit_hours, stored.terms_url) == (48, "https://s.example/t")

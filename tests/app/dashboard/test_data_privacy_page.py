"""Settings → Data & privacy: the owner exports the workspace and erases a customer
(with a confirm step); others may not; bad input is a 4xx that changes nothing."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.extensions import db
from app.outbox.models import Suppression
from app.privacy.models import WorkspaceExport
from app.stripe import mirror
from app.stripe.models import MirrorCustomer

from .. import factories as f
from ..forms import submit

URL = "/settings/data-privacy"


@pytest.fixture
def shop(ctx):
    owner = f.user()
    ws = f.workspace(owner, "Privacy Shop")
    admin = f.member(ws, "admin")
    mirror.upsert(
        db.session,
        ws.id,
        {"id": "cus_jo", "object": "customer", "email": "jo@example.com", "name": "Jo Bloggs"},
        1,
    )
    db.session.commit()
    return ws, owner, admin


def _actions() -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def test_the_page_is_in_settings(web, shop) -> None:
    _, owner, _ = shop
    f.login(web, owner)
    html = web.get(URL).get_data(as_text=True)
    assert "Data &amp; privacy" in html and 'id="erase-form"' in html and 'id="export-form"' in html


def test_the_owner_exports_and_downloads(web, shop) -> None:
    ws, owner, _ = shop
    f.login(web, owner)
    started = submit(web, f"{URL}/exports", {}, page=URL)
    assert started.status_code == 302
    row = db.session.execute(select(WorkspaceExport)).scalar_one()  # built by the eager task
    assert row.status == "done" and row.requested_by_id == owner.id
    assert "Download" in web.get(URL).get_data(as_text=True)
    zipped = web.get(f"{URL}/exports/{row.id}/download")
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(zipped.data)).read("manifest.json"))
    assert manifest["workspace"]["id"] == ws.id
    assert _actions() == ["privacy.workspace_export"]


def test_the_owner_erases_a_customer_after_confirming(web, shop) -> None:
    _, owner, _ = shop
    f.login(web, owner)
    preview = submit(web, f"{URL}/erase", {"customer": "Jo@Example.com"}, page=URL)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert 'id="erase-confirm"' in html and "Customer record copied from Stripe: 1 deleted" in html
    assert db.session.execute(select(MirrorCustomer)).first() is not None  # nothing yet

    unconfirmed = submit(web, f"{URL}/erase/confirm", {"customer": "jo@example.com"}, page=URL)
    assert unconfirmed.status_code == 400 and "Type “erase” to confirm" in unconfirmed.get_data(
        as_text=True
    )
    done = submit(
        web, f"{URL}/erase/confirm", {"customer": "jo@example.com", "confirm": "erase"}, page=URL
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(MirrorCustomer)).first() is None
    assert db.session.execute(select(Suppression.email)).scalars().all() == ["jo@example.com"]
    assert _actions() == ["privacy.customer_erasure"]


@pytest.mark.parametrize(
    ("customer", "status", "message"),
    [
        ("not a customer", 400, "neither a Stripe customer id"),
        ("ghost@example.com", 404, "No customer with that email"),
    ],
)
def test_bad_input_is_refused(web, shop, customer, status, message) -> None:
    _, owner, _ = shop
    f.login(web, owner)
    for path in ("/erase", "/erase/confirm"):
        answer = submit(web, URL + path, {"customer": customer, "confirm": "erase"}, page=URL)
        assert answer.status_code == status and message in answer.get_data(as_text=True)
    assert _actions() == []


def test_only_the_owner_acts(web, shop) -> None:
    _, _, admin = shop
    f.login(web, admin)
    assert "Only the owner can erase" in web.get(URL).get_data(as_text=True)
    for path in ("/exports", "/erase", "/erase/confirm"):
        answer = submit(web, URL + path, {"customer": "cus_jo", "confirm": "erase"}, page=URL)
        assert answer.status_code == 403
    assert db.session.execute(select(func.count()).select_from(WorkspaceExport)).scalar_one() == 0
    assert db.session.execute(select(MirrorCustomer)).first() is not None


def test_forms_need_their_csrf_token(web, shop) -> None:
    _, owner, _ = shop
    f.login(web, owner)
    answer = web.post(f"{URL}/erase/confirm", data={"customer": "cus_jo", "confirm": "erase"})
    assert answer.status_code == 400
    assert db.session.execute(select(MirrorCustomer)).first() is not None

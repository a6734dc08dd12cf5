"""``POST /customers/{id}/erase`` and the workspace export (``/exports``) over HTTP."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.extensions import db
from app.outbox.models import Suppression
from app.privacy.models import WorkspaceExport
from app.stripe.models import MirrorCustomer

from . import seed

API = "/api/v1"


@pytest.fixture
def shop(ctx):
    made = seed.shop("Shop A", "cus_a")
    db.session.commit()
    return made


def _erasures() -> int:
    return db.session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "privacy.customer_erasure")
    ).scalar_one()


def test_erase_a_customer_then_again(web, shop) -> None:
    url = f"{API}/customers/cus_a/erase"
    first = web.post(url, headers={**shop.auth(), "Idempotency-Key": "erase-1"})
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert body["object"] == "customer_erasure" and body["rows"]["mirror_customer"] == 1
    assert db.session.execute(select(MirrorCustomer)).first() is None
    assert db.session.execute(select(Suppression.email)).scalars().all() == ["cus_a@example.com"]

    replay = web.post(url, headers={**shop.auth(), "Idempotency-Key": "erase-1"})
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == body
    again = web.post(url, headers=shop.auth())
    assert again.status_code == 200 and again.get_json()["rows"] == {}
    assert _erasures() == 2


@pytest.mark.parametrize(
    ("path", "write", "status"),
    [
        ("/customers/cus_nobody/erase", True, 404),
        ("/customers/a@example.com/erase", True, 404),
        ("/customers/cus_a/erase", False, 403),
    ],
)
def test_erase_refusals_change_nothing(web, shop, path, write, status) -> None:
    response = web.post(API + path, headers=shop.auth(write=write))
    assert response.status_code == status
    assert response.get_json()["error"]["code"]
    assert _erasures() == 0
    assert db.session.execute(select(MirrorCustomer)).first() is not None


def test_export_is_built_then_downloaded(web, shop) -> None:
    created = web.post(f"{API}/exports", headers=shop.auth())
    assert created.status_code == 200, created.get_data(as_text=True)
    export_id = created.get_json()["id"]
    assert created.get_json()["status"] == "queued"  # built by the worker after the commit

    shown = web.get(f"{API}/exports/{export_id}", headers=shop.auth(write=False)).get_json()
    assert shown["status"] == "done" and shown["rows"] > 0
    assert shown["download_url"] == f"{API}/exports/{export_id}/download"

    zipped = web.get(shown["download_url"], headers=shop.auth(write=False))
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    assert "attachment" in zipped.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(zipped.data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["workspace"]["slug"] == "shop-a"
    assert manifest["tables"]["mirror_customer"]["rows"] == 1


def test_one_export_at_a_time_and_not_before_it_is_done(web, shop) -> None:
    busy = WorkspaceExport(
        workspace_id=shop.workspace.id,
        requested_via="dashboard",
        status="running",
        lease_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
    )
    db.session.add(busy)
    db.session.commit()
    refused = web.post(f"{API}/exports", headers=shop.auth())
    assert refused.status_code == 409
    early = web.get(f"{API}/exports/exp_{busy.id}/download", headers=shop.auth())
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "export_not_ready"
    read_only = web.post(f"{API}/exports", headers=shop.auth(write=False))
    assert read_only.status_code == 403

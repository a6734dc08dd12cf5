"""REST API v1 for merchants' data rights (docs/data-rights.md): erase a customer, and
export everything about the workspace (built by a worker, then downloaded)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import Response, url_for
from pydantic import BaseModel, Field
from spectree import Response as Responses

from ...extensions import db
from ...models import utcnow
from ...privacy import erasure, requests
from ...privacy.models import WorkspaceExport
from ...privacy.policy import parse_subject
from . import auth, idempotency, ids
from .errors import ApiError, not_found
from .spec import api
from .views import ONE, WRITE, bp

ExportStatus = Literal["queued", "running", "done", "failed"]


class CustomerErasure(BaseModel):
    """What erasing a customer changed: rows per table (empty when already erased)."""

    id: str = Field(description="the Stripe customer id", examples=["cus_Q1w2E3"])
    object: Literal["customer_erasure"] = "customer_erasure"
    erased: bool = True
    rows: dict[str, int] = Field(description="rows changed or deleted, per table")


class Export(BaseModel):
    """A zip of everything Backstop holds about the workspace (docs/data-rights.md)."""

    id: str = Field(examples=["exp_3"])
    object: Literal["export"] = "export"
    status: ExportStatus
    rows: int = Field(description="rows written, once done")
    size_bytes: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None
    download_url: str | None = Field(description="GET it (with the key) once done")


def _export_out(row: WorkspaceExport) -> Export:
    public = ids.public(ids.WORKSPACE_EXPORT, row.id)
    done = row.status == requests.DONE
    return Export(
        id=public,
        status=row.status,  # type: ignore[arg-type]
        rows=row.rows_written,
        size_bytes=row.size_bytes,
        created_at=row.created_at,
        finished_at=row.finished_at,
        error=row.error,
        download_url=url_for("api_v1.download_export", export_id=public) if done else None,
    )


def _export_row(workspace_id: int, public_id: str) -> WorkspaceExport:
    number = ids.parse(ids.WORKSPACE_EXPORT, public_id)
    row = None if number is None else requests.of_workspace(db.session, workspace_id, number)
    if row is None:
        raise not_found("export", public_id, "export_id")
    return row


def _actor(key: Any) -> str:
    return f"API key {key.prefix}… ({key.name})"[:254]


@bp.post("/customers/<customer_id>/erase")
@api.validate(
    resp=Responses(HTTP_200=CustomerErasure, **WRITE),
    tags=["customers"],
    operation_id="erase_customer",
    path_parameter_descriptions={"customer_id": "the Stripe customer id, cus_..."},
)
def erase_customer(customer_id: str) -> Any:
    """Erase a customer's personal data

    A data-subject request: their emails, names, phone numbers, message bodies and
    answers are erased everywhere; amounts and outcomes stay; they are never emailed
    or texted again. Erasing an erased customer changes nothing. Needs a read-and-write
    key; takes an Idempotency-Key header."""
    key = auth.require_write()
    now = utcnow()
    try:
        subject = parse_subject(customer_id)
    except ValueError:
        raise not_found("customer", customer_id, "customer_id")
    if subject.customer_id is None:  # the path names customers by Stripe id only
        raise not_found("customer", customer_id, "customer_id")

    def operation() -> tuple[CustomerErasure, int]:
        try:
            done = erasure.erase_customer(
                db.session,
                key.workspace_id,
                subject,
                actor_id=None,
                actor_label=_actor(key),
                execute=True,
            )
        except erasure.CustomerNotFound:
            raise not_found("customer", customer_id, "customer_id")
        rows = {e.table: e.deleted + e.erased + e.scrubbed for e in done}
        return CustomerErasure(id=customer_id, rows=rows), 200

    return idempotency.run(db.session, key.workspace_id, key.id, operation, now=now)


@bp.post("/exports")
@api.validate(
    resp=Responses(HTTP_200=Export, **WRITE),
    tags=["exports"],
    operation_id="create_export",
)
def create_export() -> Any:
    """Export everything about the workspace

    Starts building a zip of every table Backstop holds for the workspace (secrets
    redacted); poll the export until its status is done, then download it. One at a
    time (409 while one is being built). Needs a read-and-write key; takes an
    Idempotency-Key header."""
    key = auth.require_write()
    now = utcnow()

    def operation() -> tuple[Export, int]:
        row = requests.start(db.session, key.workspace_id, requested_by_id=None, via="api", now=now)
        return _export_out(row), 200

    return idempotency.run(db.session, key.workspace_id, key.id, operation, now=now)


@bp.get("/exports/<export_id>")
@api.validate(
    resp=Responses(HTTP_200=Export, **ONE),
    tags=["exports"],
    operation_id="retrieve_export",
    path_parameter_descriptions={"export_id": "exp_..."},
)
def retrieve_export(export_id: str) -> Any:
    """Retrieve an export

    Its status, and once done the URL to download it from."""
    return _export_out(_export_row(auth.current_key().workspace_id, export_id))


@bp.get("/exports/<export_id>/download")
@api.validate(
    resp=Responses("HTTP_200", **ONE, HTTP_409=ONE["HTTP_404"]),
    tags=["exports"],
    operation_id="download_export",
    path_parameter_descriptions={"export_id": "exp_..."},
)
def download_export(export_id: str) -> Any:
    """Download an export

    The zip (application/zip); 409 until the export is done."""
    row = _export_row(auth.current_key().workspace_id, export_id)
    if row.status != requests.DONE:
        raise ApiError(409, "export_not_ready", f"This export is {row.status}, not done yet.")
    return Response(
        row.content_zip or b"",
        mimetype="application/zip",
        headers=requests.download_headers(row, auth.workspace().slug),
    )

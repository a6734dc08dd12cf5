"""Files: ``POST /v1/files`` (a multipart upload, as Stripe's ``files`` host takes it),
``GET /v1/files/<id>``, ``GET /v1/files`` and ``GET /v1/files/<id>/contents``.

Only ``dispute_evidence`` (and ``additional_verification``/``identity_document``, kept for
their shape) uploads are taken. The type comes from the bytes, since the SDKs send every
file as ``application/octet-stream``: PDF, JPEG or PNG, at most 5 MB, as Stripe allows for
dispute evidence.
"""

from __future__ import annotations

import base64
from typing import Any

from ..api import Ctx, RawBody, route
from ..errors import InvalidRequest
from ..render import paginate
from ..store import new_id

PURPOSES = ("dispute_evidence", "additional_verification", "identity_document")
MAX_BYTES = 5 * 1024 * 1024
#: The file types Stripe takes as dispute evidence, by their first bytes.
_MAGIC = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"))
_MIMETYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


def file_type(data: bytes) -> str | None:
    """``"pdf"``, ``"png"`` or ``"jpg"`` from the file's first bytes; None for anything else."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


@route("POST", "/v1/files", params=("file", "purpose", "file_link_data"))
def create(ctx: Ctx) -> dict[str, Any]:
    purpose = ctx.params.str("purpose", required=True, choices=PURPOSES)
    upload = ctx.request.files.get("file") if ctx.request is not None else None
    if upload is None:
        raise InvalidRequest("Missing required param: file.", param="file")
    data = upload.read()
    if not data:
        raise InvalidRequest("The file is empty.", param="file")
    if len(data) > MAX_BYTES:
        raise InvalidRequest("The file is larger than 5 MB.", param="file")
    kind = file_type(data)
    if kind is None:
        raise InvalidRequest(
            "Invalid file: must be a PDF, JPEG or PNG for dispute evidence.", param="file"
        )
    oid = new_id("file")
    base = ctx.base_url
    obj = {
        "id": oid,
        "object": "file",
        "created": ctx.now(),
        "expires_at": None,
        "filename": upload.filename or oid,
        "links": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/file_links?file={oid}",
        },
        "purpose": purpose,
        "size": len(data),
        "title": None,
        "type": kind,
        "url": f"{base}/v1/files/{oid}/contents",
    }
    ctx.acct.put(obj, private={"contents": base64.b64encode(data).decode()})
    return obj


@route("GET", "/v1/files/<oid>")
def retrieve(ctx: Ctx, oid: str) -> dict[str, Any]:
    return ctx.load("file", oid)


@route("GET", "/v1/files", params=("limit", "starting_after", "ending_before", "purpose"))
def list_(ctx: Ctx) -> dict[str, Any]:
    filters = {"purpose": ctx.params.str("purpose")}
    return paginate(ctx.acct, ctx.acct.all("file"), ctx.params, "/v1/files", filters=filters)


@route("GET", "/v1/files/<oid>/contents", params=())
def contents(ctx: Ctx, oid: str) -> RawBody:
    obj = ctx.load("file", oid)
    data = base64.b64decode(ctx.acct.priv(oid)["contents"])
    return RawBody(data, _MIMETYPES[obj["type"]])

"""The API's description: the OpenAPI document spectree generates, and a reference page
rendered on the server from that same document (no script, nothing from a CDN)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template

from .spec import api
from .views import bp

METHODS = ("get", "post", "put", "patch", "delete")


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once per process, from the routes)."""
    return api.spec


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else None


def _type_of(schema: dict[str, Any]) -> str:
    """A short type in words for the reference page (``Campaign``, ``string | null``)."""
    name = _ref_name(schema)
    if name:
        return name
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"map of {_type_of(extra) if isinstance(extra, dict) else 'any'}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found.append({"path": path, "method": method.upper(), **op})
    return sorted(found, key=lambda o: (o["tags"][0] if o.get("tags") else "", o["path"]))


@bp.get("/docs")
def docs():
    spec = document()
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=_operations(spec),
        schemas=spec["components"]["schemas"],
        type_of=_type_of,
        ref_name=_ref_name,
    )

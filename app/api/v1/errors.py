"""The REST API's errors: one shape for every refusal, like Stripe's.

``{"error": {"type", "code", "message", "param"}}``; the views raise :class:`ApiError`
(or a domain refusal, mapped here in one place) and the blueprint turns it into JSON at
its status. A refused request is rolled back: it changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ...errors import Refusal
from ...extensions import db

PREFIX = "/api/v1"
INVALID_REQUEST = "invalid_request_error"
AUTHENTICATION = "authentication_error"
PERMISSION = "permission_error"
RATE_LIMIT = "rate_limit_error"
IDEMPOTENCY = "idempotency_error"
API = "api_error"

#: The type of error an HTTP status stands for when nothing more is known.
TYPE_OF_STATUS = {401: AUTHENTICATION, 403: PERMISSION, 429: RATE_LIMIT}


class ApiError(Exception):
    """A refusal the client can act on; ``message`` is a sentence for a developer."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        type_: str = INVALID_REQUEST,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.type, self.param = type_, param

    def body(self) -> dict:
        return {
            "error": {
                "type": self.type,
                "code": self.code,
                "message": self.message,
                "param": self.param,
            }
        }


def not_found(kind: str, public_id: str, param: str = "id") -> ApiError:
    return ApiError(404, "resource_missing", f"No such {kind}: '{public_id}'", param=param)


def respond(error: ApiError) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify(error.body()), error.status


def _api_error(error: ApiError) -> tuple[Response, int]:
    return respond(error)


def _refusal(refusal: Refusal) -> tuple[Response, int]:
    code = "resource_state_conflict" if refusal.status == 409 else "refused"
    return respond(ApiError(refusal.status, code, " ".join(refusal.errors)))


def _http(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    if status == 429:
        message = "Too many requests with this key: slow down and retry after Retry-After seconds."
        return respond(ApiError(429, "rate_limit", message, type_=RATE_LIMIT))
    if status == 404:
        return respond(ApiError(404, "resource_missing", "Unrecognized request URL."))
    if status == 405:
        error = ApiError(405, "method_not_allowed", "This URL does not accept that method.")
        response, _ = respond(error)
        response.headers["Allow"] = ", ".join(getattr(exc, "valid_methods", None) or [])
        return response, 405
    kind = TYPE_OF_STATUS.get(status, INVALID_REQUEST if status < 500 else API)
    code = exc.name.lower().replace(" ", "_")
    return respond(ApiError(status, code, exc.description or exc.name, type_=kind))


def _unrouted(exc: HTTPException) -> tuple[Response, int] | HTTPException:
    """A URL under the API that no route matches (404, 405) answers in the API's shape;
    anywhere else Flask's own page stays."""
    if request.path.startswith(PREFIX + "/"):
        return _http(exc)
    return exc


def register(bp: Blueprint) -> None:
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(Refusal, _refusal)
    bp.register_error_handler(HTTPException, _http)
    bp.app_errorhandler(404)(_unrouted)
    bp.app_errorhandler(405)(_unrouted)

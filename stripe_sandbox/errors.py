"""Errors in the shape Stripe sends them: ``{"error": {"type", "code", "message", ...}}``."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    status = 400
    type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        advice_code: str | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.advice_code = advice_code
        self.extra = extra or {}

    def body(self, request_log_url: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        for key in ("code", "param", "decline_code", "advice_code"):
            value = getattr(self, key)
            if value is not None:
                error[key] = value
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if request_log_url:
            error["request_log_url"] = request_log_url
        error.update(self.extra)
        return {"error": error}


class InvalidRequest(StripeError):
    status = 400


class NotFound(StripeError):
    status = 404

    def __init__(self, kind: str, object_id: str, param: str = "id"):
        super().__init__(f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


class AuthenticationError(StripeError):
    status = 401
    type = "invalid_request_error"


class PermissionDenied(StripeError):
    status = 403
    type = "invalid_request_error"


class IdempotencyError(StripeError):
    status = 400
    type = "idempotency_error"


class CardError(StripeError):
    status = 402
    type = "card_error"


class StateConflict(StripeError):
    """An action the object's status does not allow (Stripe answers 400)."""

    status = 400

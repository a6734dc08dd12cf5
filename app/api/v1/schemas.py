"""What the REST API reads and answers, as pydantic models: the OpenAPI document is
generated from these (spectree), and the MCP server returns the same objects.

Conventions (docs/api.md): ids carry a prefix naming their kind (``cmp_12``); customers
are known by their Stripe id (``cus_...``); amounts are integers in the currency's minor
unit with an ISO currency in lower case; times are ISO 8601 in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CampaignStatus = Literal["in_flight", "recovered", "lost", "abandoned"]
SessionStatus = Literal["open", "saved", "cancelled", "abandoned"]
WinbackStatus = Literal["active", "won", "returned", "stopped", "ended"]
Period = Literal["7", "30", "90", "365"]

RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
#: Ids are ``<prefix>_<digits>``; 18 digits keep every one inside a 64-bit integer.
DIGITS = "[0-9]{1,18}"


# -- errors -----------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    type: Literal[
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "rate_limit_error",
        "idempotency_error",
        "api_error",
    ]
    code: str = Field(description="machine-readable: resource_missing, parameter_invalid, ...")
    message: str = Field(description="a sentence for the developer")
    param: str | None = Field(description="the parameter or header at fault, if one is")


class ErrorResponse(BaseModel):
    """Every refusal has this shape."""

    error: ErrorDetail


# -- query parameters -------------------------------------------------------------------------


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(10, ge=1, le=100, description="objects per page, 1 to 100")
    created_gte: dt.datetime | None = Field(
        None,
        description="only objects created at or after this time (RFC 3339, with its offset)",
    )
    created_lt: dt.datetime | None = Field(
        None, description="only objects created before this time (RFC 3339)"
    )

    @field_validator("created_gte", "created_lt", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        # The document promises RFC 3339 date-times; pydantic alone would also take a
        # bare number as epoch seconds or a date without a time.
        if isinstance(value, str) and not RFC3339.fullmatch(value):
            raise ValueError("give a date-time with its offset, e.g. 2026-03-01T00:00:00Z")
        return value

    @field_validator("created_gte", "created_lt")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("the time is out of range") from None


def _cursor(prefix: str) -> Any:
    return Field(
        None,
        pattern=f"^{prefix}_{DIGITS}$",
        description="the id of the last object of the previous page (newest first)",
    )


class CampaignListQuery(ListQuery):
    starting_after: str | None = _cursor("cmp")
    status: CampaignStatus | None = None


class SessionListQuery(ListQuery):
    starting_after: str | None = _cursor("cs")
    status: SessionStatus | None = None


class WinbackListQuery(ListQuery):
    starting_after: str | None = _cursor("wbc")
    status: WinbackStatus | None = None


class EventListQuery(ListQuery):
    starting_after: str | None = _cursor("ev")
    type: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[a-z_.]+$",
        description="only events of this type, e.g. recovery.campaign.recovered",
    )


class InsightsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period = Field("30", description="days, up to today in the workspace's timezone")


# -- objects ----------------------------------------------------------------------------------


class Campaign(BaseModel):
    """A recovery campaign: one failed invoice and what Backstop does to collect it."""

    id: str = Field(examples=["cmp_12"])
    object: Literal["campaign"] = "campaign"
    customer: str = Field(description="the Stripe customer id")
    invoice: str
    subscription: str | None
    status: CampaignStatus
    is_paused: bool
    amount: int = Field(description="the invoice's amount due, minor units")
    currency: str
    amount_recovered: int = Field(description="collected, minor units (before refunds)")
    amount_refunded: int = Field(description="refunded since, minor units")
    decline_code: str | None
    failure_code: str | None
    decline_class: str = Field(description="immediate | scheduled | customer_action | no_recovery")
    attribution: str | None = Field(
        description="how it was recovered: retry | card_update | customer_paid | stripe_retry"
    )
    close_reason: str | None
    automatic_retries: int
    opened_at: dt.datetime
    last_failure_at: dt.datetime
    window_ends_at: dt.datetime
    closed_at: dt.datetime | None
    paused_at: dt.datetime | None


class CancelSession(BaseModel):
    """A customer's visit to a cancel flow and its outcome."""

    id: str = Field(examples=["cs_7"])
    object: Literal["cancel_session"] = "cancel_session"
    customer: str
    subscription: str
    status: SessionStatus
    reason: str | None = Field(description="the survey answer's key")
    reason_label: str | None
    feedback: str | None
    offer_accepted: dict[str, Any] | None = Field(description="the offer taken, when saved")
    plan_name: str | None
    amount: int = Field(description="per billing period, minor units")
    currency: str
    interval: str
    mrr: int = Field(description="monthly recurring revenue at stake, minor units")
    created_at: dt.datetime
    decided_at: dt.datetime | None
    ends_at: dt.datetime | None = Field(description="when a cancellation takes effect")
    still_paying: bool | None = Field(description="for a save: still paying 30 days on")


class WinbackCampaign(BaseModel):
    """Bringing back a customer whose subscription ended."""

    id: str = Field(examples=["wbc_3"])
    object: Literal["winback_campaign"] = "winback_campaign"
    customer: str
    subscription: str = Field(description="the subscription that ended")
    status: WinbackStatus
    kind: str = Field(description="voluntary | involuntary")
    reason: str
    plan_name: str | None
    amount: int = Field(description="per period, minor units")
    currency: str
    mrr: int = Field(description="what was lost a month, minor units")
    touches_sent: int
    ended_at: dt.datetime
    last_touch_at: dt.datetime | None
    clicked_at: dt.datetime | None
    won_via: str | None
    new_subscription: str | None
    regained_mrr: int
    regained_currency: str | None
    closed_at: dt.datetime | None
    close_reason: str | None
    created_at: dt.datetime


class Event(BaseModel):
    """One entry of Backstop's own event log (what happened, in order)."""

    id: str = Field(examples=["ev_40"])
    object: Literal["event"] = "event"
    type: str
    subject: str = Field(description="what it is about, as kind:id")
    data: dict[str, Any]
    occurred_at: dt.datetime = Field(description="in the subject's time (its test clock's)")
    created_at: dt.datetime


class Customer(BaseModel):
    """A Stripe customer with what Backstop did about them (at most 100 of each, newest
    first)."""

    id: str = Field(examples=["cus_Q1w2E3"])
    object: Literal["customer"] = "customer"
    email: str | None
    name: str | None
    deleted: bool
    campaigns: list[Campaign]
    cancel_sessions: list[CancelSession]
    winback_campaigns: list[WinbackCampaign]


class CampaignList(BaseModel):
    object: Literal["list"] = "list"
    url: str
    has_more: bool
    data: list[Campaign]


class CancelSessionList(BaseModel):
    object: Literal["list"] = "list"
    url: str
    has_more: bool
    data: list[CancelSession]


class WinbackCampaignList(BaseModel):
    object: Literal["list"] = "list"
    url: str
    has_more: bool
    data: list[WinbackCampaign]


class EventList(BaseModel):
    object: Literal["list"] = "list"
    url: str
    has_more: bool
    data: list[Event]


class Amount(BaseModel):
    currency: str
    amount: int = Field(description="minor units")
    count: int


class Metric(BaseModel):
    count: int
    amounts: list[Amount] = Field(description="one per currency, never summed across")


class AtRisk(BaseModel):
    currency: str
    campaigns: int
    amount: int = Field(description="minor units")


class Insights(BaseModel):
    """The dashboard's figures for a period: totals per metric and currency."""

    object: Literal["insights"] = "insights"
    period_days: int
    start: dt.date
    end: dt.date
    timezone: str
    metrics: dict[str, Metric] = Field(
        description="failed, recovered (net of refunds), refunded, lost, saved, cancelled, "
        "won_back, returned, churned, ..."
    )
    recovery_rate: float | None = Field(
        description="recovered out of campaigns that ended in the period (null: none ended)"
    )
    at_risk: list[AtRisk] = Field(description="what the open campaigns are collecting now")

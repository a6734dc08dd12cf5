"""Settings → Portal: what customers may do there and how the hosted pages look.
Reads never write (a page view makes no row); saves validate everything first and
change nothing when one value is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.branding import web_address
from ..models import one_per
from . import css, policy
from .models import BUTTON_STYLES, DETAIL_FIELDS, PortalSettings


@dataclass(frozen=True)
class PortalConfig:
    switch_price_ids: list[str] = field(default_factory=list)
    downgrade_timing: str = "period_end"
    pause_months: list[int] = field(default_factory=lambda: [1, 2, 3])
    max_quantity: int = 0
    can_cancel: bool = True
    shows_invoices: bool = True
    has_login_page: bool = False
    detail_fields: list[str] = field(default_factory=lambda: ["email", "name", "address"])
    button_style: str = "rounded"
    custom_css: str = ""
    shows_powered_by: bool = True
    support_email: str | None = None
    support_url: str | None = None
    terms_url: str | None = None
    privacy_url: str | None = None


_FIELDS = tuple(PortalConfig.__dataclass_fields__)


def config_of(session: Session, workspace_id: int) -> PortalConfig:
    row = session.execute(
        select(PortalSettings).where(PortalSettings.workspace_id == workspace_id)
    ).scalar_one_or_none()
    if row is None:
        return PortalConfig()
    return PortalConfig(**{name: getattr(row, name) for name in _FIELDS})


class SettingsProblem(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _url(value: Any, name: str) -> str | None:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        return None
    if len(text) > 500 or web_address(text) is None:
        raise SettingsProblem(name, "Enter a full web address starting with https://")
    return text


def validate(values: dict[str, Any], *, known_price_ids: set[str] | None) -> dict[str, Any]:
    """Clean ``values`` (a form's data) into settings; raises :class:`SettingsProblem`.
    ``known_price_ids``: the account's prices (None when Stripe could not be asked, in
    which case the chosen ones are kept as they are)."""
    prices = [p for p in values.get("switch_price_ids") or [] if isinstance(p, str) and p]
    if known_price_ids is not None and (unknown := [p for p in prices if p not in known_price_ids]):
        raise SettingsProblem("switch_price_ids", f"Unknown price: {unknown[0]}")
    timing = values.get("downgrade_timing", "period_end")
    if timing not in ("period_end", "now"):
        raise SettingsProblem("downgrade_timing", "Choose when downgrades take effect.")
    fields = [f for f in values.get("detail_fields") or [] if f in DETAIL_FIELDS]
    style = values.get("button_style", "rounded")
    if style not in BUTTON_STYLES:
        raise SettingsProblem("button_style", "Choose a button style.")
    quantity = str(values.get("max_quantity") or "0").strip()
    if not quantity.isdigit() or int(quantity) > policy.MAX_QUANTITY:
        raise SettingsProblem(
            "max_quantity", f"Enter a number of seats from 0 to {policy.MAX_QUANTITY}."
        )
    email = (values.get("support_email") or "").strip() or None
    if email and not policy.looks_like_email(email):
        raise SettingsProblem("support_email", "Enter an email address like help@example.com.")
    return {
        "switch_price_ids": list(dict.fromkeys(prices)),
        "downgrade_timing": timing,
        "pause_months": policy.pause_choices(
            [int(m) for m in values.get("pause_months") or [] if str(m).isdigit()]
        ),
        "max_quantity": int(quantity),
        "can_cancel": bool(values.get("can_cancel")),
        "shows_invoices": bool(values.get("shows_invoices")),
        "has_login_page": bool(values.get("has_login_page")),
        "detail_fields": fields,
        "button_style": style,
        "shows_powered_by": bool(values.get("shows_powered_by")),
        "support_email": email,
        "support_url": _url(values.get("support_url"), "support_url"),
        "terms_url": _url(values.get("terms_url"), "terms_url"),
        "privacy_url": _url(values.get("privacy_url"), "privacy_url"),
    }


def save(
    session: Session,
    workspace_id: int,
    values: dict[str, Any],
    *,
    known_price_ids: set[str] | None,
) -> list[str]:
    """Save the settings; returns what the CSS sanitiser removed (for the merchant)."""
    clean = validate(values, known_price_ids=known_price_ids)
    sanitised = css.sanitise(values.get("custom_css") or "")
    row = one_per(session, PortalSettings, workspace_id=workspace_id)
    for name, value in clean.items():
        setattr(row, name, value)
    row.custom_css = sanitised.css
    session.flush()
    return sanitised.removed

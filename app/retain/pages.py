"""What a customer's cancel page shows: the step's copy with its merge fields filled,
and what an offer means in money (for a plan switch, Stripe's own preview of the
prorated invoice, so the customer sees it before accepting).

The step copy is the merchant's and stays as written; what we add (offer summaries,
prices, dates, our default success copy) is in the request's language (``app.i18n``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..i18n import format_date, format_money, format_percent, gettext, ngettext
from ..stripe import subscriptions as stripe_subs
from ..stripe.client import StripeError
from ..stripe.models import StripeConnection
from . import definition as flow_definition
from . import policy
from .models import CancelSession
from .sessions import plan_of

TEXT_FIELDS = ("title", "body", "prompt", "accept_label")


@dataclass(frozen=True)
class OfferView:
    summary: str
    saving: str | None = None
    new_plan: str | None = None
    new_price: str | None = None
    due_now: str | None = None
    next_invoice: str | None = None
    unavailable: str | None = None


@dataclass(frozen=True)
class StepView:
    step: dict[str, Any]
    offer: OfferView | None = None
    values: dict[str, str] = field(default_factory=dict)


def price_text(amount_minor: int, currency: str, interval: str, interval_count: int = 1) -> str:
    """ "$29.00 / month", "29,00 € / 3 Monate"."""
    price = format_money(amount_minor, currency)
    n = interval_count
    if interval == "day":
        return ngettext("%(price)s / day", "%(price)s / %(num)d days", n, price=price)
    if interval == "week":
        return ngettext("%(price)s / week", "%(price)s / %(num)d weeks", n, price=price)
    if interval == "year":
        return ngettext("%(price)s / year", "%(price)s / %(num)d years", n, price=price)
    return ngettext("%(price)s / month", "%(price)s / %(num)d months", n, price=price)


def date_text(moment: dt.datetime | None) -> str:
    # Translators: follows "until" in our copy and merchants' ("You keep access until
    # {period_end}"), where a date would stand; fit it to what your "until" needs.
    return format_date(moment) if moment else gettext("the end of your billing period")


def offer_summary(offer: dict[str, Any]) -> str:
    """The offer as the customer reads it ("25% off for 3 months", "3 Gratismonate")."""
    kind, months = offer.get("type"), int(offer.get("months") or 0)
    if kind == "discount":
        if offer.get("percent_off") is not None:
            off = format_percent(offer["percent_off"])
        else:
            off = format_money(offer.get("amount_off", 0), offer.get("currency", "usd"))
        return ngettext(
            "%(off)s off for %(num)d month", "%(off)s off for %(num)d months", months, off=off
        )
    if kind == "pause":
        return ngettext("Pause for %(num)d month", "Pause for %(num)d months", months)
    if kind == "free_months":
        return ngettext("%(num)d free month", "%(num)d free months", months)
    if kind == "plan_switch":
        return gettext("Switch plan")
    if kind == "book_call":
        return gettext("Book a call")
    if kind == "contact_support":
        return gettext("Contact support")
    return gettext("Special offer")


def merge_values(cancel_session: CancelSession, saving_minor: int | None = None) -> dict[str, str]:
    name = (cancel_session.customer_name or "").split()
    values = {
        # Translators: stands for the customer's name when we don't know it ("Hi there").
        "customer_name": name[0] if name else gettext("there"),
        "plan_name": cancel_session.plan_name or gettext("your plan"),
        "price": price_text(
            cancel_session.amount_minor,
            cancel_session.currency,
            cancel_session.interval,
            cancel_session.interval_count,
        ),
        "period_end": date_text(cancel_session.ends_at or cancel_session.period_end),
    }
    if saving_minor:
        values["offer_saving"] = format_money(saving_minor, cancel_session.currency)
    return values


def filled(step: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    out = dict(step)
    for name in TEXT_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = flow_definition.fill(out[name], values)
    return out


def step_view(
    connection: StripeConnection | None,
    cancel_session: CancelSession,
    step: dict[str, Any],
    *,
    at: dt.datetime,
) -> StepView:
    """The step as the customer sees it; ``at`` is the subscription's own time (its
    test clock's), for the proration preview."""
    offer_view = None
    saving = None
    if step["kind"] == "offer":
        offer_view, saving = _offer_view(connection, cancel_session, step["offer"], at=at)
    values = merge_values(cancel_session, saving)
    return StepView(filled(step, values), offer_view, values)


def _offer_view(
    connection: StripeConnection | None,
    cancel_session: CancelSession,
    offer: dict[str, Any],
    *,
    at: dt.datetime,
) -> tuple[OfferView, int | None]:
    plan = plan_of(cancel_session)
    summary = offer_summary(offer)
    if offer["type"] != "plan_switch":
        saving = policy.saving_minor(offer, plan)
        text = format_money(saving, cancel_session.currency) if saving else None
        return OfferView(summary=summary, saving=text), saving
    if cancel_session.is_simulation or connection is None:
        return OfferView(summary=summary, new_plan=offer["price"]), None
    try:
        price = stripe_subs.read_price(connection, offer["price"])
        sub = stripe_subs.read_subscription(connection, cancel_session.subscription_stripe_id)
        preview = stripe_subs.preview_switch(connection, sub, price.id, at=at)
    except StripeError:
        unavailable = gettext("This plan can't be offered right now.")
        return OfferView(summary=summary, unavailable=unavailable), None
    saving = policy.saving_minor(offer, plan, new_amount_minor=price.amount_minor)
    return (
        OfferView(
            summary=gettext("Switch to %(plan)s", plan=price.name or gettext("another plan")),
            saving=format_money(saving, price.currency) if saving else None,
            new_plan=price.name,
            new_price=price_text(
                price.amount_minor, price.currency, price.interval, price.interval_count
            ),
            due_now=format_money(preview.due_now_minor, preview.currency),
            next_invoice=gettext(
                "%(amount)s on %(date)s",
                amount=format_money(preview.next_invoice_minor, preview.currency),
                date=date_text(preview.next_invoice_at),
            ),
        ),
        saving,
    )


def outcome_copy(definition: dict[str, Any], cancel_session: CancelSession) -> tuple[str, str]:
    """The success page's title and text for the session's outcome: the merchant's
    where they wrote it, else ours in the customer's language."""
    success = definition.get("success") or {}
    values = merge_values(cancel_session)
    if cancel_session.outcome == "saved":
        offer = cancel_session.offer or {}
        if offer.get("type") in flow_definition.LINK_OFFERS:
            title = gettext("Thanks, {customer_name}")
            body = gettext("Your subscription stays as it is. Use the button below to reach us.")
        elif offer.get("type") == "pause":
            title = success.get("saved_title") or gettext("You're all set")
            until = offer.get("resumes_at")
            body = (
                gettext(
                    "Your subscription is paused until %(date)s: nothing is charged until "
                    "then, and it picks up again by itself.",
                    date=date_text(dt.datetime.fromisoformat(until)),
                )
                if until
                else gettext(
                    "Your subscription is paused: nothing is charged until it picks up again."
                )
            )
        else:
            title = success.get("saved_title") or gettext("You're all set")
            body = success.get("saved_body") or gettext("Thanks for staying.")
    else:
        title = success.get("cancelled_title") or gettext("Your subscription is cancelled")
        body = success.get("cancelled_body") or gettext("You keep access until {period_end}.")
    return flow_definition.fill(title, values), flow_definition.fill(body, values)

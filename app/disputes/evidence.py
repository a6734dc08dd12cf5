"""The evidence package, assembled from our own records: pure functions from plain
records (:class:`Facts`) to Stripe's evidence text fields and the PDF's sections.

Limits: every text field is kept within :data:`FIELD_LIMIT` characters and all of them
together within :data:`TOTAL_LIMIT` (Stripe's combined limit for a dispute's text
evidence); a list that does not fit keeps its newest entries and says how many more are
in the attached PDF, which has them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..money import format_money

FIELD_LIMIT = 20_000
TOTAL_LIMIT = 150_000
#: The text fields we fill, in the order the dashboard shows them.
TEXT_FIELDS = (
    "customer_name",
    "customer_email_address",
    "product_description",
    "service_date",
    "access_activity_log",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "uncategorized_text",
)
FIELD_LABELS = {
    "customer_name": "Customer name",
    "customer_email_address": "Customer email",
    "product_description": "Product description",
    "service_date": "Service period",
    "access_activity_log": "Activity log",
    "cancellation_policy_disclosure": "Cancellation policy disclosure",
    "cancellation_rebuttal": "Cancellation rebuttal",
    "uncategorized_text": "Summary (billing, retries, card updates, emails)",
}
#: The file field that carries the generated PDF.
FILE_FIELD = "uncategorized_file"


@dataclass(frozen=True)
class Email:
    sent_at: dt.datetime
    subject: str
    to: str
    opened_at: dt.datetime | None = None


@dataclass(frozen=True)
class Visit:
    at: dt.datetime
    what: str  # "opened the card-update page", "opened the customer portal"


@dataclass(frozen=True)
class CardUpdate:
    at: dt.datetime
    how: str


@dataclass(frozen=True)
class Attempt:
    at: dt.datetime
    succeeded: bool
    by: str  # "Backstop" | "Stripe"
    decline: str | None = None


@dataclass(frozen=True)
class CancelVisit:
    opened_at: dt.datetime
    outcome: str | None  # saved | cancelled | abandoned | None (still open)
    reason: str | None = None
    offers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bill:
    at: dt.datetime
    amount_minor: int
    currency: str
    status: str
    number: str | None = None
    description: str | None = None
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None


@dataclass(frozen=True)
class Facts:
    """Everything the package says, read from our rows by :mod:`.records`."""

    merchant: str
    customer_name: str | None
    customer_email: str | None
    reason: str
    amount_minor: int
    currency: str
    charged_at: dt.datetime | None
    period_start: dt.datetime | None
    period_end: dt.datetime | None
    product: str | None
    terms_url: str | None = None
    cancellation_policy_url: str | None = None
    emails: tuple[Email, ...] = ()
    visits: tuple[Visit, ...] = ()
    card_updates: tuple[CardUpdate, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    cancel_visits: tuple[CancelVisit, ...] = ()
    bills: tuple[Bill, ...] = ()
    sources: tuple[str, ...] = field(default=())


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d")


def money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency)


OUTCOME_WORDS = {
    "saved": "chose to stay (took an offer)",
    "abandoned": "closed the page without cancelling",
    "cancelled": "cancelled",
    None: "has not decided",
}


def cancel_line(c: CancelVisit) -> str:
    offers = f"; offers shown: {', '.join(c.offers)}" if c.offers else ""
    reason = f"; reason given: {c.reason}" if c.reason else ""
    return (
        f"{stamp(c.opened_at)}: opened the cancel page, where one-tap cancellation was "
        f"offered, and {OUTCOME_WORDS.get(c.outcome, c.outcome)}{reason}{offers}"
    )


def activity_lines(f: Facts) -> list[str]:
    lines = [(v.at, f"{stamp(v.at)}: {v.what}") for v in f.visits]
    lines += [(e.opened_at, f"{stamp(e.opened_at)}: opened the email \"{e.subject}\"")
              for e in f.emails if e.opened_at]  # fmt: skip
    return [text for _, text in sorted(lines)]


def email_lines(f: Facts) -> list[str]:
    return [f'{stamp(e.sent_at)}: "{e.subject}" to {e.to}' for e in f.emails]


def attempt_lines(f: Facts) -> list[str]:
    return [
        f"{stamp(a.at)}: payment attempt by {a.by} "
        + ("succeeded" if a.succeeded else f"declined ({a.decline or 'declined'})")
        for a in f.attempts
    ]


def bill_lines(f: Facts) -> list[str]:
    out = []
    for b in f.bills:
        period = ""
        if b.period_start and b.period_end:
            period = f" for {day(b.period_start)} to {day(b.period_end)}"
        number = f" {b.number}" if b.number else ""
        out.append(f"{day(b.at)}: invoice{number}{period}, {money(b.amount_minor, b.currency)}, "
                   f"{b.status}")  # fmt: skip
    return out


def _listing(title: str, lines: list[str], budget: int) -> str:
    """``title`` and ``lines`` within ``budget`` characters: the newest lines that fit."""
    if not lines:
        return ""
    head = f"{title} ({len(lines)}):\n"
    kept: list[str] = []
    used = len(head)
    for line in reversed(lines):
        if used + len(line) + 1 + 80 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    text = head + "\n".join(reversed(kept))
    if len(kept) < len(lines):
        text += f"\n(and {len(lines) - len(kept)} earlier entries, in the attached PDF)"
    return text


def assemble(f: Facts) -> dict[str, str]:
    """Stripe's evidence text fields for ``f``, each within the limits."""
    fields: dict[str, str] = {}
    if f.customer_name:
        fields["customer_name"] = f.customer_name[:FIELD_LIMIT]
    if f.customer_email:
        fields["customer_email_address"] = f.customer_email[:FIELD_LIMIT]
    if f.product:
        fields["product_description"] = (
            f"{f.product}, a subscription sold by {f.merchant}, billed "
            f"{money(f.amount_minor, f.currency)} on {day(f.charged_at) if f.charged_at else '—'}."
        )[:FIELD_LIMIT]
    if f.period_start and f.period_end:
        fields["service_date"] = f"{day(f.period_start)} to {day(f.period_end)}"
    activity = activity_lines(f)
    if activity:
        fields["access_activity_log"] = _listing(
            "The customer's activity we recorded", activity, FIELD_LIMIT
        )
    disclosure = _disclosure(f)
    if disclosure:
        fields["cancellation_policy_disclosure"] = disclosure[:FIELD_LIMIT]
    if f.cancel_visits:
        fields["cancellation_rebuttal"] = _listing(
            "The customer could cancel in one tap and did not before this charge:\n"
            "Visits to the cancel page",
            [cancel_line(c) for c in f.cancel_visits],
            FIELD_LIMIT,
        )
    fields["uncategorized_text"] = _summary(f, TOTAL_LIMIT - sum(map(len, fields.values())))
    return fields


def _disclosure(f: Facts) -> str:
    parts = []
    if f.cancellation_policy_url:
        parts.append(f"Our cancellation policy: {f.cancellation_policy_url}")
    if f.terms_url:
        parts.append(f"Our terms of service: {f.terms_url}")
    if parts:
        parts.append(
            "Customers can cancel at any time from the cancel page, in one tap; every "
            "email about a payment links to their billing."
        )
    return "\n".join(parts)


def _summary(f: Facts, room: int) -> str:
    budget = min(FIELD_LIMIT, max(0, room))
    sections = [
        ("Billing history", bill_lines(f)),
        ("Payment attempts", attempt_lines(f)),
        ("Card updates", [f"{stamp(c.at)}: {c.how}" for c in f.card_updates]),
        ("Emails sent to the customer", email_lines(f)),
    ]
    present = [(t, lines) for t, lines in sections if lines]
    intro = (
        f"{f.merchant}'s records of this customer, kept by Backstop. The disputed "
        f"payment of {money(f.amount_minor, f.currency)}"
        + (f" was charged on {day(f.charged_at)}." if f.charged_at else ".")
    )
    if not present:
        return intro[:budget]
    each = (budget - len(intro) - 4 * len(present)) // len(present)
    body = [_listing(title, lines, each) for title, lines in present]
    return "\n\n".join([intro, *body])[:budget]

"""Pure rules of the disputes: the four signals and the likely cause they point to, and
the dispute-rate thresholds of the card networks. No I/O, no clock reads."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Usage(enum.StrEnum):
    USED = "used"  # the customer was active in the disputed period
    UNUSED = "unused"  # we could see activity and there was none
    UNKNOWN = "unknown"  # nothing we can observe for this customer


class CancelAttempt(enum.StrEnum):
    NONE = "none"  # never opened a cancel flow before the dispute
    STAYED = "stayed"  # opened it, was offered one-tap cancel, and did not take it
    CANCELLED = "cancelled"  # cancelled through us before the dispute


class Contact(enum.StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Timing(enum.StrEnum):
    FIRST_CHARGE = "first_charge"  # the subscription's first payment
    RENEWAL = "renewal"  # a renewal of a running subscription
    OTHER = "other"  # a one-off or an update charge, or we could not tell


class Cause(enum.StrEnum):
    FRIENDLY_FRAUD = "friendly_fraud"
    FORGOTTEN_SUBSCRIPTION = "forgotten_subscription"
    TRUE_FRAUD = "true_fraud"
    PRODUCT_ISSUE = "product_issue"


class Action(enum.StrEnum):
    FIGHT = "fight"
    ACCEPT = "accept"


CAUSE_LABELS = {
    Cause.FRIENDLY_FRAUD: "Friendly fraud",
    Cause.FORGOTTEN_SUBSCRIPTION: "Forgotten subscription",
    Cause.TRUE_FRAUD: "True fraud",
    Cause.PRODUCT_ISSUE: "Product issue",
}
ADVICE = {
    Cause.FRIENDLY_FRAUD: (
        Action.FIGHT,
        "Submit the evidence: the customer used the service in the disputed period.",
    ),
    Cause.FORGOTTEN_SUBSCRIPTION: (
        Action.FIGHT,
        "Submit the evidence with your cancellation policy and the emails the customer "
        "got, then cancel the subscription so it does not renew again.",
    ),
    Cause.TRUE_FRAUD: (
        Action.ACCEPT,
        "Accept the dispute and cancel the subscription: the cardholder most likely did "
        "not make this purchase, and such disputes are rarely won.",
    ),
    Cause.PRODUCT_ISSUE: (
        Action.ACCEPT,
        "Talk to the customer: a refund, or accepting, usually costs less than fighting "
        "a complaint the customer raised.",
    ),
}
#: Stripe's reasons that claim the cardholder did not make or know the purchase.
NOT_RECOGNISED = frozenset({"fraudulent", "unrecognized"})
#: Stripe's reasons that claim something was wrong with what was sold.
COMPLAINTS = frozenset(
    {"product_not_received", "product_unacceptable", "credit_not_processed", "duplicate"}
)


@dataclass(frozen=True)
class Signals:
    usage: Usage
    cancel_attempt: CancelAttempt
    support_contact: Contact
    timing: Timing
    reason: str = "general"


@dataclass(frozen=True)
class Classification:
    cause: Cause
    action: Action
    advice: str
    why: str


def classify(s: Signals) -> Classification:
    """The likely cause of a dispute from its four signals (and Stripe's reason), the
    first rule that applies winning."""
    if s.support_contact is Contact.YES:
        return _made(Cause.PRODUCT_ISSUE, "the customer contacted support before disputing")
    if s.cancel_attempt is CancelAttempt.CANCELLED:
        return _made(Cause.PRODUCT_ISSUE, "the customer had cancelled through you and was charged")
    if s.reason in COMPLAINTS and s.usage is not Usage.USED:
        return _made(Cause.PRODUCT_ISSUE, "the bank's reason is a complaint about what was sold")
    if s.usage is Usage.USED:
        return _made(Cause.FRIENDLY_FRAUD, "the customer was active in the disputed period")
    if s.cancel_attempt is CancelAttempt.STAYED:
        return _made(
            Cause.FORGOTTEN_SUBSCRIPTION,
            "the customer once meant to cancel, stayed, and has not used the service since",
        )
    if s.timing is Timing.RENEWAL:
        return _made(Cause.FORGOTTEN_SUBSCRIPTION, "a renewal the customer did not use")
    if s.timing is Timing.FIRST_CHARGE or s.reason in NOT_RECOGNISED:
        return _made(Cause.TRUE_FRAUD, "an unused purchase the cardholder does not recognise")
    return _made(Cause.PRODUCT_ISSUE, "no activity, and no sign the purchase was unauthorised")


def _made(cause: Cause, why: str) -> Classification:
    action, advice = ADVICE[cause]
    return Classification(cause, action, advice, why)


# -- the dispute-rate monitor -------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    level: str
    basis_points: int  # of settled transactions: 65 is 0.65 %
    network: str | None  # None: every network
    label: str


THRESHOLDS = (
    Threshold("warn", 65, None, "Early warning (0.65 %)"),
    Threshold("visa_vdmp", 90, "visa", "Visa dispute monitoring (VDMP, 0.9 %)"),
    Threshold("mastercard_ecp", 100, "mastercard", "Mastercard excessive chargebacks (ECP, 1.0 %)"),
)


def thresholds_for(network: str) -> tuple[Threshold, ...]:
    return tuple(t for t in THRESHOLDS if t.network in (None, network))


def crossed(network: str, disputes: int, settled: int) -> tuple[Threshold, ...]:
    """The thresholds a month's ``disputes`` over ``settled`` transactions reaches
    (exactly, in integers). No settled transaction: no rate, nothing crossed."""
    if settled <= 0 or disputes <= 0:
        return ()
    return tuple(
        t for t in thresholds_for(network) if disputes * 10_000 >= t.basis_points * settled
    )


def rate_text(disputes: int, settled: int) -> str:
    """``3, 400`` -> ``"0.75 %"``; no settled transaction -> ``"—"``."""
    if settled <= 0:
        return "—"
    hundredths = (disputes * 10_000 * 2 + settled) // (2 * settled)  # rounded half up
    return f"{hundredths // 100}.{hundredths % 100:02d} %"

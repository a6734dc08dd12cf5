"""The "Get set up" checklist: which steps are done, and which set-up warnings to show,
from facts about the workspace."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Facts:
    stripe_connected: bool
    send_domain_verified: bool
    cancel_flow_published: bool
    portal_cancel_disabled: bool
    has_campaign: bool
    stripe_retries_on: bool = False
    unverified_domain: str | None = None
    """A send domain added but not verified yet: every dunning email waits for it."""


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    why: str
    done: bool
    optional: bool = False
    manual: bool = False


def steps(f: Facts) -> list[Step]:
    return [
        Step(
            "stripe",
            "Connect Stripe",
            "Backstop reads your subscriptions and failed payments from Stripe.",
            f.stripe_connected,
        ),
        Step(
            "send_domain",
            "Verify a send domain",
            "Dunning emails then come from your own domain instead of Backstop's.",
            f.send_domain_verified,
            optional=True,
        ),
        Step(
            "cancel_flow",
            "Build & publish your first cancel flow",
            "Customers who try to cancel see a short survey and an offer first. "
            "Ticks itself once a flow is live.",
            f.cancel_flow_published,
        ),
        Step(
            "portal",
            "Embed the cancel flow and turn off cancellation in Stripe's own portal",
            "Otherwise customers can cancel in Stripe's portal without seeing your offer. "
            "Tick this when it is done.",
            f.portal_cancel_disabled,
            manual=True,
        ),
        Step(
            "campaign",
            "First recovery campaign",
            "Ticks itself when Backstop starts recovering its first failed payment.",
            f.has_campaign,
        ),
    ]


STRIPE_RETRIES_WARNING = (
    "Stripe's own automatic retries are on for this account, so Backstop only counts "
    "Stripe's attempts and sends dunning emails. Turn off Smart Retries in Stripe's "
    "Billing settings (Billing > Revenue recovery > Retries) so Backstop's decline-aware "
    "retries take over from the next failed payment."
)


def warnings(f: Facts) -> list[tuple[str, str]]:
    """Set-up problems that cost the merchant money until fixed, as (key, message)."""
    found = [("stripe-retries", STRIPE_RETRIES_WARNING)] if f.stripe_retries_on else []
    if f.unverified_domain:
        found.append(
            (
                "send-domain",
                f"Dunning emails are on hold: the send domain {f.unverified_domain} is not "
                "verified yet. Add its DNS records and verify it (Settings → Send domain), or "
                "remove it to send from Backstop's shared address.",
            )
        )
    return found


def progress(all_steps: list[Step]) -> tuple[int, int]:
    required = [s for s in all_steps if not s.optional]
    return sum(s.done for s in required), len(required)

"""Which dead end a customer reached, decided from plain facts about the link followed.

A link from an email can be unknown (mistyped, cut short by a mail client, its workspace
gone), spent (used or past its 21 days), or about a campaign that is over. Each dead end
has its HTTP status, and says whether the merchant is known (their brand and support
contact are shown) and whether a fresh link may be emailed. Pure: no Flask, no session,
no clock (the caller passes whether the link has expired).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.recovery.models import IN_FLIGHT, RECOVERED

#: A link's outcomes that mean the customer's payment went through.
SETTLED_OUTCOMES = frozenset({"paid", "already_paid"})
PAUSED_OUTCOME = "paused"
#: The purpose of the links the payment wall hands out.
WALL = "wall"
#: The purpose of the pause offer's links (they open the pause page; every other purpose
#: opens the card page).
PAUSE_OFFER = "pause_offer"


class DeadEnd(StrEnum):
    UNKNOWN = "unknown"
    """No such link or workspace: Backstop's own page, since no merchant is known."""
    WRONG_PAGE = "wrong_page"
    """A real link opened on the other page (a card-update link as the wall, or back)."""
    EXPIRED = "expired"
    USED = "used"
    PAID_UP = "paid_up"
    """Spent, and the payment went through (or the campaign was recovered anyway)."""
    PAUSED = "paused"
    """Spent on pausing the subscription instead."""
    CLOSED = "closed"
    """The campaign the link was for is over (lost or abandoned): nothing to pay here."""
    NO_PAUSE = "no_pause"
    """A pause asked for where none is on offer."""
    NO_ADDRESS = "no_address"
    """A fresh link asked for where we have no address on file to send it to."""
    TOO_MANY_LINKS = "too_many_links"
    """Fresh links asked for faster than the rate limit allows."""
    CANCEL_EXPIRED = "cancel_expired"
    """A cancel-flow link past its 24 hours, or left without a decision."""

    @property
    def status(self) -> int:
        return STATUS[self]

    @property
    def knows_merchant(self) -> bool:
        return self is not DeadEnd.UNKNOWN


STATUS = {
    DeadEnd.UNKNOWN: 404,
    DeadEnd.WRONG_PAGE: 404,
    DeadEnd.EXPIRED: 410,
    DeadEnd.USED: 410,
    DeadEnd.PAID_UP: 410,
    DeadEnd.PAUSED: 410,
    DeadEnd.CLOSED: 409,
    DeadEnd.NO_PAUSE: 409,
    DeadEnd.NO_ADDRESS: 409,
    DeadEnd.TOO_MANY_LINKS: 429,
    DeadEnd.CANCEL_EXPIRED: 410,
}


@dataclass(frozen=True)
class LinkFacts:
    """What the rules need to know about a card-update link."""

    purpose: str
    is_used: bool
    is_expired: bool
    outcome: str | None = None
    campaign_state: str | None = None
    """None when the link is about no campaign (a card-expiry notice's link)."""
    has_email: bool = False

    @property
    def is_settled(self) -> bool:
        return self.outcome in SETTLED_OUTCOMES or self.campaign_state == RECOVERED

    @property
    def is_campaign_over(self) -> bool:
        return self.campaign_state is not None and self.campaign_state != IN_FLIGHT


def for_page(link: LinkFacts, *, wall: bool) -> DeadEnd | None:
    """The dead end of opening ``link`` on the card page (or the wall), or None when the
    page works. A link that still works shows its page even when its campaign is over:
    paying then reactivates the subscription (see ``app.dunning.card_update``)."""
    if wall != (link.purpose == WALL) or link.purpose == PAUSE_OFFER:
        return DeadEnd.WRONG_PAGE
    return _spent(link)


def for_pause_offer(link: LinkFacts) -> DeadEnd | None:
    """The dead end of opening ``link`` on the pause offer's page, or None when the page
    works (whether a pause is still possible is asked of Stripe then)."""
    if link.purpose != PAUSE_OFFER:
        return DeadEnd.WRONG_PAGE
    return _spent(link)


def _spent(link: LinkFacts) -> DeadEnd | None:
    if not (link.is_used or link.is_expired):
        return None
    if link.is_settled:
        return DeadEnd.PAID_UP
    if link.outcome == PAUSED_OUTCOME:
        return DeadEnd.PAUSED
    if link.is_campaign_over:
        return DeadEnd.CLOSED
    return DeadEnd.USED if link.is_used else DeadEnd.EXPIRED


def for_fresh_link(link: LinkFacts) -> DeadEnd | None:
    """Why no fresh link may be emailed for ``link``, or None when one may (the rate
    limit is checked when it is sent)."""
    if link.is_settled:
        return DeadEnd.PAID_UP
    if link.is_campaign_over:
        return DeadEnd.CLOSED
    if not link.has_email:
        return DeadEnd.NO_ADDRESS
    return None


def offers_fresh_link(dead_end: DeadEnd, link: LinkFacts) -> bool:
    """Whether the dead end's page shows the "Email me a new link" button."""
    return dead_end in (DeadEnd.EXPIRED, DeadEnd.USED) and for_fresh_link(link) is None


def for_pause(link: LinkFacts) -> DeadEnd | None:
    """Why a pause cannot even be tried for ``link`` (the offer itself is checked when
    it is taken), or None."""
    if link.is_used or link.is_expired:
        return for_page(link, wall=link.purpose == WALL)
    if link.is_campaign_over:
        return DeadEnd.CLOSED
    return None

"""Which dead end a customer's link reached: the pure rules of ``hosted.dead_ends`` and
the web addresses ``hosted.merchant`` agrees to link to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.recovery.models import CAMPAIGN_STATES
from hosted.dead_ends import (
    STATUS,
    DeadEnd,
    LinkFacts,
    for_fresh_link,
    for_page,
    for_pause,
    offers_fresh_link,
)
from hosted.merchant import web_address

PURPOSES = ("dunning", "expiry", "wall", "fresh")
OUTCOMES = (None, "updated", "paid", "declined", "already_paid", "paused")

links = st.builds(
    LinkFacts,
    purpose=st.sampled_from(PURPOSES),
    is_used=st.booleans(),
    is_expired=st.booleans(),
    outcome=st.sampled_from(OUTCOMES),
    campaign_state=st.sampled_from((None, *CAMPAIGN_STATES)),
    has_email=st.booleans(),
)


def card_link(**kw) -> LinkFacts:
    facts = {"purpose": "dunning", "is_used": False, "is_expired": False, "has_email": True}
    return LinkFacts(**{**facts, "campaign_state": "in_flight", **kw})


def test_every_dead_end_has_a_status() -> None:
    assert set(STATUS) == set(DeadEnd)
    assert {d.status for d in DeadEnd} == {404, 409, 410, 429}
    assert [d for d in DeadEnd if not d.knows_merchant] == [DeadEnd.UNKNOWN]


def test_a_live_link_opens_its_page_even_when_its_campaign_is_over() -> None:
    # Paying with a new card then reactivates the subscription (app.dunning.card_update).
    for state in (None, *CAMPAIGN_STATES):
        assert for_page(card_link(campaign_state=state), wall=False) is None
    assert for_page(card_link(purpose="wall"), wall=True) is None


@pytest.mark.parametrize(
    ("facts", "wall", "expected"),
    [
        (card_link(), True, DeadEnd.WRONG_PAGE),
        (card_link(purpose="wall"), False, DeadEnd.WRONG_PAGE),
        (card_link(purpose="expiry", campaign_state=None), True, DeadEnd.WRONG_PAGE),
        (card_link(is_expired=True), False, DeadEnd.EXPIRED),
        (card_link(is_used=True, outcome="updated"), False, DeadEnd.USED),
        (card_link(is_used=True, is_expired=True, outcome="updated"), False, DeadEnd.USED),
        (card_link(is_used=True, outcome="paid"), False, DeadEnd.PAID_UP),
        (card_link(is_expired=True, campaign_state="recovered"), False, DeadEnd.PAID_UP),
        (card_link(is_used=True, outcome="paused", campaign_state="abandoned"), False, "paused"),
        (card_link(is_expired=True, campaign_state="lost"), False, DeadEnd.CLOSED),
        (card_link(is_expired=True, campaign_state="abandoned"), False, DeadEnd.CLOSED),
        (card_link(is_expired=True, campaign_state=None, purpose="expiry"), False, "expired"),
        (card_link(purpose="wall", is_expired=True), True, DeadEnd.EXPIRED),
    ],
)
def test_which_dead_end_a_page_reaches(facts: LinkFacts, wall: bool, expected: str) -> None:
    assert for_page(facts, wall=wall) == expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (card_link(is_expired=True), None),
        (card_link(is_used=True, outcome="updated"), None),
        (card_link(is_expired=True, campaign_state=None, purpose="expiry"), None),
        (card_link(is_expired=True, has_email=False), DeadEnd.NO_ADDRESS),
        (card_link(is_expired=True, campaign_state="recovered"), DeadEnd.PAID_UP),
        (card_link(is_used=True, outcome="already_paid"), DeadEnd.PAID_UP),
        (card_link(is_expired=True, campaign_state="lost"), DeadEnd.CLOSED),
    ],
)
def test_when_a_fresh_link_may_be_emailed(facts: LinkFacts, expected: DeadEnd | None) -> None:
    assert for_fresh_link(facts) == expected


@given(links, st.booleans())
def test_a_fresh_link_is_offered_only_for_a_spent_link_of_an_open_campaign(
    facts: LinkFacts, wall: bool
) -> None:
    dead_end = for_page(facts, wall=wall)
    if dead_end is None:
        return
    if offers_fresh_link(dead_end, facts):
        assert facts.is_used or facts.is_expired
        assert facts.has_email and facts.campaign_state in (None, "in_flight")
        assert facts.outcome not in ("paid", "already_paid", "paused")
        assert dead_end.status == 410


@given(links, st.booleans())
def test_a_link_that_was_paid_never_reads_as_expired_or_closed(
    facts: LinkFacts, wall: bool
) -> None:
    dead_end = for_page(facts, wall=wall)
    if facts.outcome in ("paid", "already_paid") and wall == (facts.purpose == "wall"):
        assert dead_end in (None, DeadEnd.PAID_UP)


@given(links)
def test_a_pause_needs_a_live_link_of_an_open_campaign(facts: LinkFacts) -> None:
    refused = for_pause(facts)
    if not (facts.is_used or facts.is_expired) and facts.campaign_state in (None, "in_flight"):
        assert refused is None
    else:
        assert refused is not None and refused is not DeadEnd.WRONG_PAGE


@pytest.mark.parametrize(
    "url",
    ["https://shop.example", "http://shop.example/account?x=1", " https://shop.example/ "],
)
def test_web_addresses_we_link_to(url: str) -> None:
    assert web_address(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "JavaScript://shop.example/%0aalert(1)",
        "data:text/html,hi",
        "//shop.example",
        "shop.example",
        "ftp://shop.example",
        "https://",
        "https://shop.example/a b",
        "https://[::1",
    ],
)
def test_anything_else_is_never_a_link(url: str | None) -> None:
    assert web_address(url) is None

"""The flows a merchant starts from: each a complete, sensible cancel flow with real copy.

Copy is plain and kind: it asks why, offers one thing that fits the reason, and never
makes leaving harder (no guilt, nothing pre-ticked; "Cancel anyway" is on every page by
the hosted page itself). Templates with a call or stories step start as drafts (the
merchant fills in their own link and proof); the others publish version 1 at 100 %
as soon as they are complete (a plan switch needs the merchant's plan first).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .definition import LINK_OFFERS
from .template_parts import (
    CONFIRM,
    DISCOUNT_25,
    FEEDBACK,
    OTHER,
    PAUSE_2,
    SUCCESS,
    SUPPORT,
)
from .template_parts import (
    offer as _offer,
)
from .template_parts import (
    reason as _reason,
)
from .template_parts import (
    survey as _survey,
)


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    summary: str
    definition: dict[str, Any]

    @property
    def starts_as_draft(self) -> bool:
        """A call or stories step needs the merchant's own link or proof first."""
        steps = self.definition["steps"]
        return any(s["kind"] == "stories" for s in steps) or any(
            s["kind"] == "offer" and s["offer"]["type"] == "book_call" for s in steps
        )


def _flow(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"steps": [*steps, FEEDBACK, CONFIRM], "success": dict(SUCCESS)}


TEMPLATES: tuple[Template, ...] = (
    Template(
        "saas_standard",
        "SaaS Standard",
        "Asks why, then offers what fits: a discount if it's the price, a pause if they're not using it, help if something broke.",
        _flow(
            _survey(
                [
                    _reason("too_expensive", "It's too expensive", "offer_discount"),
                    _reason("not_using", "I'm not using it enough", "offer_pause"),
                    _reason("missing_features", "It's missing something I need"),
                    _reason("technical_issues", "Something isn't working", "offer_support"),
                    _reason("switching", "I'm switching to another product"),
                    OTHER,
                ]
            ),
            DISCOUNT_25,
            PAUSE_2,
            SUPPORT,
        ),
    ),
    Template(
        "pause_instead",
        "Pause Instead",
        "Offers a pause to everyone who's leaving for now rather than for good.",
        _flow(
            _survey(
                [
                    _reason("break", "I need a break", "offer_pause"),
                    _reason("not_using", "I'm not using it right now", "offer_pause"),
                    _reason("too_expensive", "Money is tight at the moment", "offer_pause"),
                    _reason("switching", "I'm switching to another product"),
                    _reason("missing_features", "It doesn't do what I need"),
                    OTHER,
                ]
            ),
            _offer(
                "offer_pause",
                {"type": "pause", "months": 3},
                "Pause instead of cancelling?",
                "Pause for up to 3 months. Nothing is charged, nothing is lost, and it restarts by itself.",
                "Pause for 3 months",
            ),
        ),
    ),
    Template(
        "annual_upsell",
        "Annual Upsell",
        "For price-sensitive customers: the yearly plan at its lower monthly cost.",
        _flow(
            _survey(
                [
                    _reason("too_expensive", "It's too expensive", "offer_annual"),
                    _reason("not_using", "I'm not using it enough", "offer_annual"),
                    _reason("missing_features", "It's missing something I need"),
                    _reason("switching", "I'm switching to another product"),
                    _reason("technical_issues", "Something isn't working"),
                    OTHER,
                ]
            ),
            _offer(
                "offer_annual",
                {"type": "plan_switch", "price": None},
                "Pay yearly and pay less",
                "Switch to yearly billing: the same {plan_name}, for less per month. We'll show you the exact amount before anything changes.",
                "Switch to yearly",
            ),
        ),
    ),
    Template(
        "discount_ladder",
        "Discount Ladder",
        "A small discount first, a bigger one if that isn't enough. Cancelling stays one tap away on both.",
        _flow(
            _survey(
                [
                    _reason("too_expensive", "It's too expensive", "offer_small"),
                    _reason("not_using", "I'm not using it enough", "offer_small"),
                    _reason("missing_features", "It's missing something I need"),
                    _reason("switching", "I'm switching to another product", "offer_small"),
                    _reason("technical_issues", "Something isn't working"),
                    OTHER,
                ]
            ),
            _offer(
                "offer_small",
                {"type": "discount", "percent_off": 15, "months": 3},
                "Would 15 % off help?",
                "Keep {plan_name} at 15 % off for 3 months: you save {offer_saving}.",
                "Take 15 % off",
                next_step="offer_big",
            ),
            _offer(
                "offer_big",
                {"type": "discount", "percent_off": 30, "months": 3},
                "Our best offer: 30 % off",
                "30 % off for the next 3 months, then the usual price. You save {offer_saving}.",
                "Take 30 % off",
            ),
        ),
    ),
    Template(
        "downgrade_first",
        "Downgrade First",
        "Offers a smaller plan before a cancel, with the new price shown up front.",
        _flow(
            _survey(
                [
                    _reason("too_expensive", "It's too expensive", "offer_downgrade"),
                    _reason("not_using", "I don't use all of it", "offer_downgrade"),
                    _reason("missing_features", "It's missing something I need"),
                    _reason("switching", "I'm switching to another product"),
                    _reason("technical_issues", "Something isn't working"),
                    OTHER,
                ]
            ),
            _offer(
                "offer_downgrade",
                {"type": "plan_switch", "price": None},
                "Move to a smaller plan",
                "Keep your account and pay less on a plan that fits how you use it. You'll see the new price before you confirm.",
                "Switch plan",
            ),
        ),
    ),
    Template(
        "agency_pro_service",
        "Agency / Pro Service",
        "For high-touch services: a call with your team before a client leaves.",
        _flow(
            _survey(
                [
                    _reason("results", "I'm not seeing the results I wanted", "offer_call"),
                    _reason("too_expensive", "It costs more than it's worth to me", "offer_call"),
                    _reason("in_house", "We're bringing it in-house"),
                    _reason("switching", "We're moving to another provider", "offer_call"),
                    _reason("project_done", "The project is finished"),
                    OTHER,
                ]
            ),
            _offer(
                "offer_call",
                {"type": "book_call", "url": "https://"},
                "Can we talk first?",
                "Book 15 minutes with your account lead. If we can't make it right, cancelling is still one tap.",
                "Book a call",
            ),
        ),
    ),
    Template(
        "fitness_wellness",
        "Fitness / Wellness",
        "Pauses for injuries and travel, a lighter price for budgets, and members' own stories.",
        _flow(
            _survey(
                [
                    _reason("injury", "I'm injured or unwell", "offer_pause"),
                    _reason("travel", "I'm travelling", "offer_pause"),
                    _reason("too_expensive", "It's too expensive", "offer_discount"),
                    _reason("no_time", "I don't have the time right now", "stories"),
                    _reason("not_for_me", "It isn't for me"),
                    OTHER,
                ]
            ),
            {
                "id": "stories",
                "kind": "stories",
                "title": "Members who found the time",
                "body": "Short sessions add up. Here's what other members told us.",
                "stories": [
                    {
                        "quote": "Twenty minutes before work changed my whole week.",
                        "author": "A member",
                    }
                ],
                "next": "feedback",
            },
            _offer(
                "offer_pause",
                {"type": "pause", "months": 2},
                "Pause while you recover",
                "Freeze your membership for 2 months: nothing is charged, and it restarts by itself.",
                "Pause for 2 months",
            ),
            _offer(
                "offer_discount",
                {"type": "discount", "percent_off": 20, "months": 3},
                "20 % off for 3 months",
                "Keep training for less: you save {offer_saving}.",
                "Take 20 % off",
            ),
        ),
    ),
    Template(
        "b2b_account_teams",
        "B2B with Account Teams",
        "Routes business customers to their account team, with a support path for problems.",
        _flow(
            _survey(
                [
                    _reason("budget", "Budget cuts", "offer_call"),
                    _reason("adoption", "My team isn't using it", "offer_call"),
                    _reason("missing_features", "It's missing something we need", "offer_call"),
                    _reason("technical_issues", "Something isn't working", "offer_support"),
                    _reason("switching", "We chose another vendor"),
                    OTHER,
                ]
            ),
            _offer(
                "offer_call",
                {"type": "book_call", "url": "https://"},
                "Talk to your account team",
                "We can often fix budget or adoption problems in one call: seats, training, or terms.",
                "Book a call",
            ),
            SUPPORT,
        ),
    ),
    Template(
        "student_nonprofit",
        "Student / Nonprofit",
        "Half price for a year for students and nonprofits on a budget.",
        _flow(
            _survey(
                [
                    _reason("student", "I'm a student on a budget", "offer_half"),
                    _reason("nonprofit", "We're a nonprofit with a tight budget", "offer_half"),
                    _reason("not_using", "I'm not using it enough"),
                    _reason("missing_features", "It's missing something I need"),
                    _reason("switching", "I'm switching to another product"),
                    OTHER,
                ]
            ),
            _offer(
                "offer_half",
                {"type": "discount", "percent_off": 50, "months": 12},
                "Half price for a year",
                "We'd rather keep you: {plan_name} at 50 % off for 12 months. You save {offer_saving}.",
                "Take 50 % off",
            ),
        ),
    ),
    Template(
        "seasonal_pause",
        "Seasonal Pause",
        "For businesses with an off-season: pause for the quiet months.",
        _flow(
            _survey(
                [
                    _reason("off_season", "It's our off-season", "offer_pause"),
                    _reason("not_using", "I won't need it for a while", "offer_pause"),
                    _reason("too_expensive", "It's too expensive"),
                    _reason("switching", "I'm switching to another product"),
                    _reason("closing", "I'm closing the business"),
                    OTHER,
                ]
            ),
            _offer(
                "offer_pause",
                {"type": "pause", "months": 3},
                "Pause for the season",
                "Pause for 3 months and pick up where you left off. Nothing is charged meanwhile.",
                "Pause for 3 months",
            ),
        ),
    ),
    Template(
        "usage_based",
        "Usage-based",
        "For customers whose usage dropped: a pause, or a lower price while it picks up.",
        _flow(
            _survey(
                [
                    _reason("low_usage", "My usage has dropped", "offer_pause"),
                    _reason("too_expensive", "It's too expensive for what I use", "offer_discount"),
                    _reason("missing_features", "It's missing something I need"),
                    _reason("switching", "I'm switching to another product"),
                    _reason("technical_issues", "Something isn't working", "offer_support"),
                    OTHER,
                ]
            ),
            PAUSE_2,
            _offer(
                "offer_discount",
                {"type": "discount", "percent_off": 20, "months": 3},
                "20 % off while your usage picks up",
                "Three months at 20 % off: you save {offer_saving}.",
                "Take 20 % off",
            ),
            SUPPORT,
        ),
    ),
    Template(
        "feedback_only",
        "Feedback Only",
        "No offers: asks why, takes a comment, and cancels.",
        _flow(
            _survey(
                [
                    _reason("too_expensive", "It's too expensive"),
                    _reason("not_using", "I'm not using it enough"),
                    _reason("missing_features", "It's missing something I need"),
                    _reason("technical_issues", "Something isn't working"),
                    _reason("switching", "I'm switching to another product"),
                    OTHER,
                ]
            ),
        ),
    ),
)
BY_KEY = {t.key: t for t in TEMPLATES}


def instantiate(template: Template, *, support_email: str | None) -> dict[str, Any]:
    """The template's definition for one workspace: its support address filled in, and
    support offers dropped when it has none (a merchant adds their own later)."""
    definition = copy.deepcopy(template.definition)
    for step in definition["steps"]:
        offer = step.get("offer")
        if offer and offer["type"] in LINK_OFFERS and "{support_email}" in offer.get("url", ""):
            offer["url"] = offer["url"].replace("{support_email}", support_email or "")
    if not support_email:
        dropped = {
            s["id"]
            for s in definition["steps"]
            if s.get("offer", {}).get("type") == "contact_support"
        }
        definition["steps"] = [s for s in definition["steps"] if s["id"] not in dropped]
        for step in definition["steps"]:
            for r in step.get("reasons", []):
                if r.get("next") in dropped:
                    r["next"] = None
    return definition

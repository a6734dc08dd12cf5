"""A flow's definition: what keeps a draft from publishing, and the walk through it."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.retain import definition as d
from app.retain.templates import BY_KEY, TEMPLATES, instantiate


def flow(*steps, success=None):
    return {"steps": list(steps), "success": success or {}}


SURVEY = {
    "id": "survey",
    "kind": "survey",
    "title": "Why?",
    "reasons": [
        {"key": "price", "label": "Price", "next": "offer"},
        {"key": "other", "label": "Other", "free_text": True, "next": None},
    ],
    "next": "confirm",
}
OFFER = {
    "id": "offer",
    "kind": "offer",
    "title": "20 % off?",
    "offer": {"type": "discount", "percent_off": 20, "months": 3},
    "accept_label": "Yes",
    "next": "confirm",
}
CONFIRM = {"id": "confirm", "kind": "confirm", "title": "Cancel {plan_name}"}


def messages(definition) -> list[str]:
    return [p.message for p in d.validate(definition)]


def test_a_small_flow_is_valid_and_walks_by_reason() -> None:
    f = flow(SURVEY, OFFER, CONFIRM)
    assert d.validate(f) == []
    assert d.next_step(f, "survey", reason_key="price")["id"] == "offer"
    assert d.next_step(f, "survey", reason_key="other")["id"] == "confirm"
    assert d.next_step(f, "offer")["id"] == "confirm"
    assert d.edges(f) == [
        ("survey", "offer", "Price"),
        ("survey", "confirm", "Other"),
        ("offer", "confirm", None),
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f["steps"].pop(), "A flow has exactly one confirm step."),
        (
            lambda f: f["steps"].append(dict(CONFIRM, id="confirm2")),
            "A flow has exactly one confirm step.",
        ),
        (
            lambda f: f["steps"][1].update(next="nowhere"),
            "It leads to a step that does not exist (nowhere).",
        ),
        (
            lambda f: f["steps"][1].update(next="survey"),
            "The flow goes round in a circle through this step.",
        ),
        (lambda f: f["steps"][0]["reasons"][0].update(next=None), "No path leads to this step."),
        (lambda f: f["steps"][0]["reasons"].pop(), "A survey has 2 to 8 reasons."),
        (lambda f: f["steps"][1].update(id="survey"), "Two steps have this id."),
        (
            lambda f: f["steps"][1].update(title="Hi {first_name}"),
            "Unknown merge field {first_name}.",
        ),
        (lambda f: f["steps"][1].update(kind="quiz"), "Unknown kind of step."),
        (lambda f: f["steps"][1].update(accept_label=""), "The accept label is empty."),
        (
            lambda f: f["steps"][1]["offer"].update(percent_off=0),
            "The percentage is a whole number from 1 to 100.",
        ),
        (lambda f: f["steps"][1]["offer"].update(months=0), "A discount lasts 1 to 36 months."),
        (
            lambda f: f["steps"][1]["offer"].update(amount_off=500),
            "A discount is a percentage or an amount, one of the two.",
        ),
        (
            lambda f: f["steps"][1].update(offer={"type": "pause", "months": 13}),
            "Choose 1 to 12 months.",
        ),
        (
            lambda f: f["steps"][1].update(offer={"type": "plan_switch", "price": None}),
            "Choose the plan to offer (a Stripe price, price_…).",
        ),
        (
            lambda f: f["steps"][1].update(
                offer={"type": "book_call", "url": "javascript:alert(1)"}
            ),
            "The link must start with https://, http:// or mailto:.",
        ),
        (lambda f: f["steps"][1].update(offer={"type": "gift"}), "Choose what the offer is."),
    ],
)
def test_each_problem_is_named(change, expected) -> None:
    f = copy.deepcopy(flow(SURVEY, OFFER, CONFIRM))
    change(f)
    assert expected in messages(f)


@pytest.mark.parametrize("bad", [None, [], {}, {"steps": []}, {"steps": "x"}, {"steps": [3]}])
def test_shapeless_definitions_are_refused_not_crashed(bad) -> None:
    assert d.validate(bad)


def test_fill_replaces_known_fields_only() -> None:
    text = "Hi {customer_name}, {plan_name} ends {period_end}; {offer_saving} {unknown}"
    assert d.fill(text, {"customer_name": "Ada", "plan_name": "Pro", "period_end": "May 1"}) == (
        "Hi Ada, Pro ends May 1;  {unknown}"
    )


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_templates_are_whole_flows(template) -> None:
    definition = instantiate(template, support_email="help@shop.example")
    problems = messages(definition)
    if template.key in ("annual_upsell", "downgrade_first"):
        assert problems == ["Choose the plan to offer (a Stripe price, price_…)."]
    elif template.key in ("agency_pro_service", "b2b_account_teams"):
        assert problems == ["The link must start with https://, http:// or mailto:."]
        assert template.starts_as_draft
    else:
        assert problems == []
    survey = definition["steps"][0]
    assert survey["kind"] == "survey" and 5 <= len(survey["reasons"]) <= 8
    assert any(r.get("free_text") for r in survey["reasons"])


def test_without_a_support_address_support_offers_are_left_out() -> None:
    definition = instantiate(BY_KEY["saas_standard"], support_email=None)
    assert "offer_support" not in d.steps_by_id(definition)
    assert d.validate(definition) == []


def test_templates_with_a_call_or_stories_start_as_drafts() -> None:
    drafts = {t.key for t in TEMPLATES if t.starts_as_draft}
    assert drafts == {"agency_pro_service", "fitness_wellness", "b2b_account_teams"}


# -- the law: a valid flow has no dead end ---------------------------------------------------------


@st.composite
def dags(draw):
    """Random flows whose arrows only point forward (so valid by construction)."""
    n = draw(st.integers(1, 7))
    steps = []
    for i in range(n):
        later = [f"s{j}" for j in range(i + 1, n)] + ["confirm"]
        kind = draw(st.sampled_from(["survey", "offer", "feedback", "stories"]))
        step = {
            "id": f"s{i}",
            "kind": kind,
            "title": "T",
            "next": draw(st.sampled_from([*later, None])),
        }
        if kind == "survey":
            count = draw(st.integers(2, 8))
            step["reasons"] = [
                {"key": f"r{k}", "label": f"R{k}", "next": draw(st.sampled_from([*later, None]))}
                for k in range(count)
            ]
        elif kind == "offer":
            step.update(
                offer={"type": "pause", "months": draw(st.integers(1, 12))}, accept_label="OK"
            )
        elif kind == "stories":
            step["stories"] = [{"quote": "Good."}]
        steps.append(step)
    return flow(*steps, CONFIRM)


@settings(max_examples=200, deadline=None)
@given(dags(), st.data())
def test_every_walk_of_a_valid_flow_reaches_the_confirm_step(definition, data) -> None:
    problems = [p for p in d.validate(definition) if p.message != "No path leads to this step."]
    assert problems == []
    step = d.first_step(definition)
    for _ in range(len(definition["steps"])):
        if step["kind"] == "confirm":
            return
        reason = None
        if step["kind"] == "survey":
            reason = data.draw(st.sampled_from([r["key"] for r in step["reasons"]]))
        step = d.next_step(definition, step["id"], reason_key=reason)
    assert step["kind"] == "confirm"

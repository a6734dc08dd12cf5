"""The builder's graph (boxes never overlap; every arrow has both ends) and its step
form (shape in, a step out; bad numbers refused)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.errors import Refusal
from app.retain import definition as d
from app.retain import graph, step_forms
from app.retain.templates import TEMPLATES, instantiate


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_boxes_never_overlap_and_arrows_join_boxes(template) -> None:
    definition = instantiate(template, support_email="help@x.example")
    drawn = graph.layout(definition)
    nodes = {n.id: n for n in drawn.nodes}
    assert set(nodes) == set(d.steps_by_id(definition))
    for a in drawn.nodes:
        for b in drawn.nodes:
            if a.id < b.id:
                apart = a.x + graph.NODE_W <= b.x or b.x + graph.NODE_W <= a.x
                apart = apart or a.y + graph.NODE_H <= b.y or b.y + graph.NODE_H <= a.y
                assert apart, (a, b)
        assert a.x >= 0 and a.x + graph.NODE_W <= drawn.width and a.y + graph.NODE_H <= drawn.height
    pairs = {(s, t) for s, t, _ in d.edges(definition)}
    assert {(e.source, e.target) for e in drawn.edges} == pairs
    confirm = nodes[d.confirm_step(definition)["id"]]
    assert confirm.y == max(n.y for n in drawn.nodes)


def test_a_draft_going_round_in_a_circle_still_draws() -> None:
    definition = {
        "steps": [
            {"id": "a", "kind": "feedback", "title": "A", "next": "b"},
            {"id": "b", "kind": "feedback", "title": "B", "next": "a"},
            {"id": "confirm", "kind": "confirm", "title": "C"},
        ]
    }
    drawn = graph.layout(definition)
    assert len(drawn.nodes) == 3 and len(drawn.edges) == 2


SURVEY = {
    "id": "survey",
    "kind": "survey",
    "title": "Why?",
    "reasons": [{"key": "too_expensive", "label": "Too expensive", "next": "offer"}],
}


def test_the_survey_form_keeps_keys_and_makes_new_ones() -> None:
    form = MultiDict(
        {
            "title": " Why are you leaving? ",
            "reason_label_0": "Too expensive",
            "reason_key_0": "too_expensive",
            "reason_next_0": "offer",
            "reason_label_1": "Moving to a competitor",
            "reason_label_2": "",
            "reason_label_3": "Other",
            "reason_free_3": "1",
            "next": "",
        }
    )
    step = step_forms.step_from_form(SURVEY, form)
    assert step["title"] == "Why are you leaving?"
    assert [(r["key"], r["next"]) for r in step["reasons"]] == [
        ("too_expensive", "offer"),
        ("moving_to_a_competitor", None),
        ("other", None),
    ]
    assert step["reasons"][2]["free_text"] is True and step["next"] is None


@pytest.mark.parametrize(
    ("fields", "offer"),
    [
        (
            {"offer_type": "discount", "percent_off": "30", "months": "3"},
            {"type": "discount", "percent_off": 30, "months": 3},
        ),
        (
            {
                "offer_type": "discount",
                "discount_kind": "amount",
                "amount_off": "5.50",
                "currency": "EUR",
                "months": "2",
            },
            {"type": "discount", "amount_off": 550, "currency": "eur", "months": 2},
        ),
        ({"offer_type": "pause", "months": "2"}, {"type": "pause", "months": 2}),
        (
            {"offer_type": "plan_switch", "price": "price_123"},
            {"type": "plan_switch", "price": "price_123"},
        ),
        (
            {"offer_type": "book_call", "url": "https://cal.example/x"},
            {"type": "book_call", "url": "https://cal.example/x"},
        ),
    ],
)
def test_offer_forms(fields, offer) -> None:
    step = step_forms.step_from_form(
        {"id": "offer", "kind": "offer"}, MultiDict({"title": "T", "accept_label": "Yes", **fields})
    )
    assert step["offer"] == offer


@pytest.mark.parametrize(
    "fields",
    [
        {"offer_type": "discount", "percent_off": "ten", "months": "3"},
        {"offer_type": "discount", "discount_kind": "amount", "amount_off": "5.555", "months": "1"},
        {"offer_type": "discount", "discount_kind": "amount", "amount_off": "-1", "months": "1"},
        {"offer_type": "free_lunch"},
    ],
)
def test_bad_offer_fields_are_refused(fields) -> None:
    with pytest.raises(Refusal):
        step_forms.step_from_form(
            {"id": "offer", "kind": "offer"}, MultiDict({"title": "T", **fields})
        )


def test_reason_keys_from_labels() -> None:
    assert step_forms.key_for("It's too expensive!", set()) == "it_s_too_expensive"
    assert step_forms.key_for("42 reasons", set()) == "r_42_reasons"
    assert step_forms.key_for("Other", {"other"}) == "other_2"
    assert step_forms.key_for("", set()) == "reason"

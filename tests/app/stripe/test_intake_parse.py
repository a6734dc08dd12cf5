"""What the intake accepts as a Stripe event: refused bodies never reach a worker."""

from __future__ import annotations

import json

import pytest

from app.stripe import intake

EVENT = {"id": "evt_1", "object": "event", "type": "customer.deleted"}


@pytest.mark.parametrize("data", [None, {}, {"object": "0.0"}, {"object": [1]}, "x"])
def test_an_event_without_the_object_it_is_about_is_refused(data) -> None:
    with pytest.raises(intake.BadPayload):
        intake.parse(json.dumps({**EVENT, "data": data}).encode())


def test_an_event_with_its_object_is_accepted() -> None:
    event = {**EVENT, "data": {"object": {"id": "cus_1", "object": "customer"}}}
    assert intake.parse(json.dumps(event).encode()) == event

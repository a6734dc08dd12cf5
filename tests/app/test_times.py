"""Zones for people: the timezone picker's groups."""

from __future__ import annotations

import zoneinfo

from app.times import timezone_groups


def test_zones_are_grouped_by_region_with_utc_first() -> None:
    groups = timezone_groups(zoneinfo.available_timezones())
    regions = [region for region, _ in groups]
    assert regions[0] == "UTC" and regions[1:] == sorted(regions[1:])
    assert {"Europe", "America", "Asia", "Pacific"} <= set(regions)
    europe = dict(groups)["Europe"]
    assert ("Europe/Paris", "Paris") in europe
    assert [label for _, label in europe] == sorted(label for _, label in europe)
    america = dict(dict(groups)["America"])
    assert america["America/Argentina/Buenos_Aires"] == "Argentina, Buenos Aires"


def test_legacy_aliases_are_left_out_and_nothing_real_is_lost() -> None:
    everything = zoneinfo.available_timezones()
    shown = {name for _, choices in timezone_groups(everything) for name, _ in choices}
    assert shown <= everything | {"UTC"}
    assert not {"EST", "US/Pacific", "Etc/GMT+5"} & shown
    assert {"Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"} <= shown

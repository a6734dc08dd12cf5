"""Holds: a matching request waits until released; others go on meanwhile."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest


def call(url: str, key: str, path: str, data: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(
        url + path,
        data=urllib.parse.urlencode(data).encode() if data is not None else None,
        headers={"Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_a_held_request_waits_for_its_release(sandbox_url, api_key, client) -> None:
    hold = call(
        sandbox_url,
        api_key,
        "/v1/test_helpers/sandbox/holds",
        {"method": "POST", "path": "/v1/customers"},
    )
    assert (hold["waiting"], hold["released"]) == (0, False)
    created: list = []
    thread = threading.Thread(
        target=lambda: created.append(client.v1.customers.create(params={"email": "a@x.co"}))
    )
    thread.start()
    seen = threading.Event()
    for _ in range(100):  # bounded: the request reaches the hold within moments
        if call(sandbox_url, api_key, f"/v1/test_helpers/sandbox/holds/{hold['id']}")["waiting"]:
            break
        seen.wait(0.05)
    assert client.v1.customers.list().data == []  # other requests go on; it has not run
    released = call(
        sandbox_url, api_key, f"/v1/test_helpers/sandbox/holds/{hold['id']}/release", {}
    )
    assert released["released"] and released["waiting"] == 1
    thread.join(timeout=30)
    assert created and created[0].email == "a@x.co"


def test_a_bad_pattern_and_an_unknown_hold_are_refused(sandbox_url, api_key) -> None:
    with pytest.raises(urllib.error.HTTPError) as bad:
        call(
            sandbox_url, api_key, "/v1/test_helpers/sandbox/holds", {"method": "POST", "path": "("}
        )
    bad.value.close()
    assert bad.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as missing:
        call(sandbox_url, api_key, "/v1/test_helpers/sandbox/holds/hold_nope")
    missing.value.close()
    assert missing.value.code == 404

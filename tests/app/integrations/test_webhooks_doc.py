"""docs/webhooks.md stays true: its payload examples are what the catalogue builds, and
its Python and Node verifiers accept Backstop's signatures (and refuse tampering)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import time

import pytest

from app.integrations import catalogue, signing

from ...conftest import ROOT

DOC = (ROOT / "docs" / "webhooks.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


#: The events whose object docs/webhooks.md shows in full.
SHOWN = ["recovery.campaign.recovered", "recovery.attempt.failed", "dunning.email.sent",
         "cancel.session.saved", "winback.reactivated"]  # fmt: skip


def built(event_type: str) -> dict:
    return catalogue.envelope(
        event_id_="evt_3f9c2a7d1b8e4c5f6a7b8c9d",
        event_type=event_type,
        created=dt.datetime(2027, 1, 15, 9, 30, tzinfo=dt.UTC),
        workspace="acme",
        livemode=True,
        data=catalogue.SAMPLES[event_type],
    )


def test_the_documented_payloads_are_what_backstop_sends() -> None:
    documented = [json.loads(b) for b in blocks("json")]
    assert built("recovery.campaign.recovered") in documented  # the whole envelope
    for event_type in SHOWN:
        assert built(event_type)["data"]["object"] in documented, event_type
    objects = {d["object"]: set(d) for d in documented if "object" in d and d["object"] != "event"}
    for event_type in catalogue.SENT:  # the others share a documented object's shape
        obj = built(event_type)["data"]["object"]
        assert objects[obj["object"]] == set(obj), event_type
    for event_type in catalogue.TYPES:
        assert f"`{event_type}`" in DOC, event_type


def signed(body: bytes, secrets: list[str]) -> str:
    return signing.header(body, secrets, int(time.time()))


def test_the_python_verifier_in_the_docs_works() -> None:
    [code] = [b for b in blocks("python") if "def verify" in b]
    namespace: dict = {}
    imports = code.split("\n", 1)[0]
    function = code[code.index("def verify") : code.index("@app.post")]
    exec(f"{imports}\nTOLERANCE = 300\n{function}", namespace)  # noqa: S102 - our own docs
    verify = namespace["verify"]
    old, new = signing.new_secret(), signing.new_secret()
    body = b'{"id":"evt_1","type":"recovery.campaign.recovered"}'
    header = signed(body, [new, old])
    verify(body, header, old)
    verify(body, header, new)
    with pytest.raises(ValueError, match="does not match"):
        verify(body + b" ", header, new)
    with pytest.raises(ValueError, match="too old"):
        verify(body, signing.header(body, [new], int(time.time()) - 301), new)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_verifier_in_the_docs_works() -> None:
    [code] = [b for b in blocks("js") if "function verify" in b]
    verify = code[code.index("const TOLERANCE") : code.index("const app")]
    secret = signing.new_secret()
    body = '{"id":"evt_1","type":"cancel.session.saved"}'
    script = (
        'const crypto = require("node:crypto");\n' + verify + "\n"
        "const [body, header, secret] = process.argv.slice(1);\n"
        "try { verify(Buffer.from(body), header, secret); console.log('ok'); }\n"
        "catch (err) { console.log(err.message); }\n"
    )

    def run(payload: str, header: str) -> str:
        result = subprocess.run(["node", "-e", script, payload, header, secret],
                                capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
        return result.stdout.strip()

    assert run(body, signed(body.encode(), [secret])) == "ok"
    assert run(body, signed(body.encode(), [signing.new_secret(), secret])) == "ok"
    assert run(body + " ", signed(body.encode(), [secret])) == "signature does not match"
    old = signing.header(body.encode(), [secret], int(time.time()) - 301)
    assert run(body, old) == "too old"

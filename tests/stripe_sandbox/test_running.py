"""Running the sandbox: persisted state, reset, loopback only."""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from stripe_sandbox import Sandbox
from stripe_sandbox.__main__ import main

from .conftest import make_client


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "state.json")
    with Sandbox(port=0, state_path=path) as sandbox:
        client = make_client(sandbox.url, "sk_test_persist")
        customer = client.v1.customers.create(params={"email": "kept@example.com"})
    with Sandbox(port=0, state_path=path) as sandbox:
        client = make_client(sandbox.url, "sk_test_persist")
        assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"
        assert client.v1.events.list().data[0].type == "customer.created"


def test_reset_forgets_everything() -> None:
    with Sandbox(port=0) as sandbox:
        local = make_client(sandbox.url, "sk_test_reset")
        customer = local.v1.customers.create()
        local.raw_request("post", "/v1/test_helpers/sandbox/reset")
        with pytest.raises(stripe.InvalidRequestError):
            local.v1.customers.retrieve(customer.id)


def test_refuses_a_public_address_unless_told(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--host", "0.0.0.0", "--port", "0"])
    assert exited.value.code == 2
    assert "--allow-remote" in capsys.readouterr().err

"""The step-kind registry: each loop declares its kinds from ``create_app``; the recovery
loop runs them without importing the features above it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.schedule import kinds

from ...conftest import ROOT


def test_create_app_registers_the_recovery_and_dunning_kinds(app) -> None:
    assert {"retry", "email", "window_end"} <= {k.name for k in kinds.registered()}
    email = kinds.get("email")
    assert email.is_customer_message and email.rank is not None and email.plan is not None
    assert not kinds.get("retry").is_customer_message
    assert kinds.get("window_end").needs_stripe is False


def test_an_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(kinds.UnknownStepKind, match="'winback_touch'"):
        kinds.get("winback_touch")


def test_the_recovery_loop_imports_nothing_of_dunning() -> None:
    code = (
        "import sys, app.recovery.runner, app.recovery.campaigns, app.recovery.operations;"
        "print(sorted(m for m in sys.modules if m.startswith('app.dunning')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_importing_a_feature_subscribes_nothing() -> None:
    code = "import app.recovery.handlers, app.stripe.processing as p;print(len(p._HANDLERS))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"

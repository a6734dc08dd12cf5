"""docs/alerts.yml: every alert watches metrics Backstop exposes and has its runbook."""

from __future__ import annotations

import re

import pytest
import yaml

from ...conftest import ROOT

DOCS = ROOT / "docs"
#: Series Prometheus makes itself, not Backstop.
PROMETHEUS_OWN = {"up"}
TOKEN = "alerts-test-token-0123"


def rules() -> list[dict]:
    loaded = yaml.safe_load((DOCS / "alerts.yml").read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def runbook_sections() -> dict[str, str]:
    text = (DOCS / "operations.md").read_text()
    part = text.split("## Alerts and their runbooks", 1)[1]
    sections = re.split(r"^### ", part, flags=re.M)[1:]
    return {s.split("\n", 1)[0].strip(): s for s in sections}


@pytest.fixture
def exposed(other_app) -> set[str]:
    """Every series name /metrics can show (counters with no sample yet included)."""
    client = other_app(metrics_token=TOKEN)
    page = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    names = set()
    for line in page.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            if kind == "counter":
                names.add(name if name.endswith("_total") else f"{name}_total")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_the_rules_file_is_well_formed() -> None:
    found = rules()
    assert found
    names = [rule["alert"] for rule in found]
    assert len(names) == len(set(names))
    for rule in found:
        assert rule["expr"].strip() and rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"]


def test_every_alert_watches_metrics_that_exist(exposed) -> None:
    for rule in rules():
        words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", rule["expr"]))
        metrics = {w for w in words if w.startswith("backstop_") or w in PROMETHEUS_OWN}
        assert metrics, f"{rule['alert']} watches no metric"
        unknown = {m for m in metrics - PROMETHEUS_OWN if m not in exposed}
        assert not unknown, f"{rule['alert']} names metrics Backstop does not expose: {unknown}"


def test_every_alert_has_a_runbook_section() -> None:
    sections = runbook_sections()
    for rule in rules():
        name = rule["alert"]
        assert name in sections, f"docs/operations.md has no section '### {name}'"
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{name.lower()}"
        body = sections[name]
        for part in ("**Symptom:**", "**Likely causes:**", "**What to check:**", "**Fix:**"):
            assert part in body, f"the runbook of {name} lacks {part}"
    assert set(sections) == {rule["alert"] for rule in rules()}, "a section without an alert"


def test_the_runbooks_name_real_ops_commands() -> None:
    from scripts.ops import ops

    commands = set(ops.commands)
    for name, body in runbook_sections().items():
        for used in re.findall(r"flask --app wsgi ops ([a-z-]+)", body):
            assert used in commands, f"the runbook of {name} names `ops {used}`"


def test_the_metrics_table_lists_every_backstop_metric(exposed) -> None:
    text = (DOCS / "operations.md").read_text()
    families = {
        re.sub(r"_(bucket|sum|count|created)$", "", n)
        for n in exposed
        if n.startswith("backstop_") and not n.endswith("_created")
    }
    missing = {n for n in families if f"`{n}`" not in text and f"`{n}_total`" not in text}
    assert not missing, f"document these in docs/operations.md: {missing}"

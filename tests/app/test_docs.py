"""The deployment guide names every setting the code reads."""

from __future__ import annotations

from app.settings import describe

from ..conftest import ROOT


def test_every_setting_is_documented() -> None:
    guide = (ROOT / "docs" / "deploying.md").read_text()
    missing = [name for name, _, _ in describe() if f"`{name}`" not in guide]
    assert not missing, f"document these in docs/deploying.md: {missing}"


def test_procfile_has_the_four_processes() -> None:
    kinds = [
        line.split(":", 1)[0]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.strip()
    ]
    assert kinds == ["web", "worker", "beat", "release"]

"""The insights' holdout: the recovery rate of the campaigns Backstop worked on against
that of the held-out ones, with the lift's 95 % interval and how far it is from
significant (``app.insights.holdout``). Shown while a holdout is on, or was."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..insights import holdout as rules
from ..insights.figures import Figures
from ..recovery import config


def context(session: Session, workspace_id: int, read: Figures) -> dict[str, Any] | None:
    """None when the workspace never held anything out in the period and holds out
    nothing now."""
    percent, _salt = config.holdout_of(session, workspace_id)
    totals = read.totals
    treated = (totals["treated_recovered"].count, _ended(read, "treated"))
    held_out = (totals["holdout_recovered"].count, _ended(read, "holdout"))
    if not percent and not (held_out[1] or totals["holdout_failed"].count):
        return None
    return {
        "percent": percent,
        "lift": rules.measure(treated, held_out, percent / 100),
        "open_held_out": totals["holdout_failed"].count,
    }


def _ended(read: Figures, arm: str) -> int:
    return read.totals[f"{arm}_recovered"].count + read.totals[f"{arm}_lost"].count

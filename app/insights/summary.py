"""The monthly summary: last month's figures by email to each workspace's owners, once
a month, unless the workspace turned it off. Services flush; the task commits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..accounts.models import Membership, User, Workspace
from ..models import one_per
from ..money import format_money
from ..outbox import services as outbox
from .figures import Figures, read, today_for
from .models import InsightSettings

log = logging.getLogger("backstop.insights")

TEMPLATE = "monthly_summary"
METRICS = ("recovered", "lost", "saved", "won_back")


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month before ``today``'s."""
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def settings_of(session: Session, workspace_id: int) -> InsightSettings:
    return one_per(session, InsightSettings, workspace_id=workspace_id)


def set_enabled(session: Session, workspace_id: int, enabled: bool) -> None:
    settings_of(session, workspace_id).is_monthly_summary_on = enabled
    session.flush()


def is_enabled(session: Session, workspace_id: int) -> bool:
    row = session.execute(
        select(InsightSettings.is_monthly_summary_on).where(
            InsightSettings.workspace_id == workspace_id
        )
    ).scalar_one_or_none()
    return row is None or bool(row)


def lines(figures: Figures) -> list[dict[str, str]]:
    """One line per currency, in words, with the counts in that currency."""
    out = []
    totals = figures.totals

    def part(metric: str, currency: str, suffix: str = "") -> str:
        amount = format_money(totals[metric].amounts.get(currency, 0), currency)
        return f"{totals[metric].counts.get(currency, 0)} ({amount}{suffix})"

    for currency in figures.currencies(*METRICS):
        won = totals["recovered"].counts.get(currency, 0)
        lost = totals["lost"].counts.get(currency, 0)
        out.append(
            {
                "currency": currency.upper(),
                "recovered": part("recovered", currency),
                "lost": part("lost", currency),
                "rate": f"{won * 100 / (won + lost):.0f}%" if won + lost else "—",
                "saved": part("saved", currency, " a month"),
                "won_back": part("won_back", currency, " a month"),
            }
        )
    return out


def _claim_month(session: Session, workspace_id: int, month: str) -> bool:
    """Mark ``month`` sent; False when it was already (a second run, or a concurrent one)."""
    settings_of(session, workspace_id)
    result = session.execute(
        update(InsightSettings)
        .where(
            InsightSettings.workspace_id == workspace_id,
            InsightSettings.is_monthly_summary_on.is_(True),
            or_(
                InsightSettings.summary_sent_month.is_(None),
                InsightSettings.summary_sent_month != month,
            ),
        )
        .values(summary_sent_month=month)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def send(
    session: Session,
    workspace: Workspace,
    *,
    now: dt.datetime,
    mail_from: str,
    dashboard_url: str,
    settings_url: str,
) -> str:
    """Email last month (in the workspace's timezone) to its owners, once: ``"sent"``,
    ``"off"`` (turned off) or ``"already"`` (this month's went out)."""
    if not is_enabled(session, workspace.id):
        return "off"
    first, last = last_month(today_for(workspace.timezone, now))
    month = first.strftime("%Y-%m")
    if not _claim_month(session, workspace.id, month):
        return "already"
    figures = read(session, workspace.id, days=(last - first).days + 1, today=last)
    context: dict[str, Any] = {
        "workspace": workspace.name,
        "month": first.strftime("%B %Y"),
        "lines": lines(figures),
        "recovered": figures.totals["recovered"].count,
        "lost": figures.totals["lost"].count,
        "saved": figures.totals["saved"].count,
        "won_back": figures.totals["won_back"].count,
        "rate": "—" if figures.rate() is None else f"{figures.rate() * 100:.0f}%",
        "dashboard_url": dashboard_url,
        "settings_url": settings_url,
    }
    owners = session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id, Membership.role == "owner")
        .order_by(User.id)
    ).scalars()
    for email in owners:
        outbox.send(
            session,
            template=TEMPLATE,
            to=email,
            from_email=mail_from,
            workspace_id=workspace.id,
            context=context,
        )
    log.info("insights.summary.sent workspace=%s month=%s", workspace.id, month)
    return "sent"

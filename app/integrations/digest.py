"""The daily digest: yesterday's recovered, lost, saved and won back (from the insights
rollups), posted each morning to every channel that chose it, once per day."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..accounts.models import Workspace
from ..insights import figures, summary
from ..times import zone
from . import messages
from .deliveries import hand_over_new
from .models import ACTIVE, PENDING, Delivery, NotificationChannel

#: The digest leaves from this hour on, in the workspace's timezone.
HOUR = 8
EVENT_TYPE = "digest"


def day_to_report(tz: str, now: dt.datetime) -> dt.date | None:
    """Yesterday in ``tz`` once it is :data:`HOUR` there; None before."""
    local = now.astimezone(zone(tz))
    if local.hour < HOUR:
        return None
    return local.date() - dt.timedelta(days=1)


def workspaces_with_digest(session: Session) -> list[int]:
    rows = session.execute(
        select(NotificationChannel.workspace_id, NotificationChannel.posts).where(
            NotificationChannel.state == ACTIVE
        )
    ).all()
    return sorted({ws for ws, posts in rows if "digest" in (posts or [])})


def send(
    session: Session,
    workspace: Workspace,
    *,
    now: dt.datetime,
    base_url: str,
    lease: dt.timedelta,
) -> list[Delivery]:
    """Post yesterday's digest to each channel that chose it and has not had it yet
    (the day is recorded on the channel: a second run sends nothing)."""
    day = day_to_report(workspace.timezone, now)
    if day is None:
        return []
    wanting = [
        channel
        for channel in session.execute(
            select(NotificationChannel).where(
                NotificationChannel.workspace_id == workspace.id,
                NotificationChannel.state == ACTIVE,
            )
        ).scalars()
        if "digest" in channel.posts and _claim(session, channel.id, day)
    ]
    if not wanting:
        return []
    lines = summary.lines(figures.read(session, workspace.id, days=1, today=day))
    note = messages.digest_note(
        workspace.name, f"{day:%A %B} {day.day}, {day.year}", lines, base_url=base_url
    )
    made = [
        Delivery(
            workspace_id=workspace.id,
            channel_id=channel.id,
            event_type=EVENT_TYPE,
            payload=messages.render(channel.kind, note),
            status=PENDING,
            due_at=now,
        )
        for channel in wanting
    ]
    hand_over_new(session, made, now=now, lease=lease)
    return made


def _claim(session: Session, channel_id: int, day: dt.date) -> bool:
    """Mark ``day`` posted for the channel; False when it was already (another run)."""
    result = session.execute(
        update(NotificationChannel)
        .where(
            NotificationChannel.id == channel_id,
            or_(
                NotificationChannel.digest_sent_on.is_(None),
                NotificationChannel.digest_sent_on < day,
            ),
        )
        .values(digest_sent_on=day)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1

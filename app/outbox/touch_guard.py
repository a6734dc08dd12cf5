"""The outbox guard of a loop whose emails are numbered touches of its campaigns (win back,
checkout recovery): the re-check as the message leaves and the notes on its step, made
once for the loop's step model and registered with :func:`guards.register`.

The step model needs ``workspace_id``, ``campaign_id``, ``number``, ``outcome``,
``outcome_detail``, ``opened_at`` and a ``campaign`` with ``is_open``, ``state`` and
``touches_sent``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..events import services as events
from . import guards
from .models import OutboxMessage


@dataclass(frozen=True)
class TouchGuard:
    step_model: type
    events_prefix: str
    """``winback.email``: the step's messages emit ``….sent`` and ``….dropped``."""
    loop_words: str
    """The loop in the merchant's words, for "… was paused before the email left"."""
    is_paused: Callable[[Session, int], bool]

    def register(self, template: str) -> None:
        guards.register(
            template, self.still_wanted, self.note_dropped, self.note_sent, self.note_opened
        )

    def step_of(self, session: Session, message: OutboxMessage) -> Any:
        if message.step_id is None:
            return None
        step = session.get(self.step_model, message.step_id)
        return step if step is not None and step.workspace_id == message.workspace_id else None

    def still_wanted(
        self, session: Session, message: OutboxMessage, *, now: dt.datetime
    ) -> str | None:
        """Why a touch's stored message must not leave any more: its campaign ended (the
        customer came back, unsubscribed...) or the merchant paused the loop."""
        step = self.step_of(session, message)
        if step is None:
            return None
        campaign = step.campaign
        if not campaign.is_open:
            return f"the campaign was {campaign.state} before the email left"
        if self.is_paused(session, campaign.workspace_id):
            return f"{self.loop_words} was paused before the email left"
        return None

    def note_dropped(
        self, session: Session, message: OutboxMessage, reason: str, *, now: dt.datetime
    ) -> None:
        step = self.step_of(session, message)
        if step is not None:
            if step.outcome == "sent" and step.campaign.touches_sent > 0:
                step.campaign.touches_sent -= 1
            step.outcome = "dropped"
            step.outcome_detail = f"not sent: {reason}"[:500]
            self._emit(session, "dropped", step, message, reason=reason)

    def note_opened(self, session: Session, message: OutboxMessage, *, now: dt.datetime) -> None:
        step = self.step_of(session, message)
        if step is not None and step.opened_at is None:
            step.opened_at = now

    def note_sent(self, session: Session, message: OutboxMessage, *, now: dt.datetime) -> None:
        step = self.step_of(session, message)
        if step is not None:
            self._emit(session, "sent", step, message)

    def _emit(
        self, session: Session, what: str, step: Any, message: OutboxMessage, **data: str
    ) -> None:
        events.emit(
            session,
            step.workspace_id,
            f"{self.events_prefix}.{what}",
            subject=f"message:{message.id}",
            data={
                "campaign_id": step.campaign_id,
                "step_id": step.id,
                "touch": step.number,
                "customer": message.customer_stripe_id,
                **data,
            },
        )

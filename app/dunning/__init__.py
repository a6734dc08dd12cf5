"""Dunning: the emails of a recovery campaign, the hosted card-update links they carry,
and the warnings sent before a card expires (DESIGN §7)."""


def register() -> None:
    """Declare the email touch as a step kind of the schedule, and the re-checks its
    messages (and card-expiry notices) make as they leave (``create_app`` calls this)."""
    from ..outbox import guards
    from ..schedule import kinds
    from . import expiry, touches

    kinds.register(touches.KIND)
    guards.register(touches.TEMPLATE, touches.still_wanted, touches.note_dropped, touches.note_sent)
    guards.register(expiry.TEMPLATE, expiry.still_wanted, expiry.note_dropped)

"""Dunning: the emails of a recovery campaign, the hosted card-update links they carry,
and the warnings sent before a card expires (DESIGN §7)."""


def register() -> None:
    """Declare the email touch and the pause offer as step kinds of the schedule, and the
    re-checks their messages (and card-expiry notices) make as they leave (``create_app``
    calls this)."""
    from ..outbox import guards
    from ..schedule import kinds
    from . import expiry, pause_offer, touches

    kinds.register(touches.KIND)
    kinds.register(pause_offer.KIND)
    guards.register(touches.TEMPLATE, touches.still_wanted, touches.note_dropped, touches.note_sent)
    guards.register(
        pause_offer.TEMPLATE, touches.still_wanted, touches.note_dropped, touches.note_sent
    )
    guards.register(expiry.TEMPLATE, expiry.still_wanted, expiry.note_dropped)

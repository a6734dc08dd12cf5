"""Recover: decline classes, retry cadences and the caps no retry may break (DESIGN §6)."""


def register() -> None:
    """Declare the recovery loop's step kinds and subscribe it to Stripe's events
    (``create_app`` calls this; importing the package does nothing)."""
    from ..schedule import kinds
    from . import closing, handlers, retrying

    kinds.register(retrying.KIND)
    kinds.register(closing.WINDOW_END_KIND)
    handlers.register()

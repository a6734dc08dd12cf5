"""SMS dunning: texts beside the dunning emails for customers with a phone and consent,
through the merchant's Twilio account (or the outbox in dev and tests), with STOP and
HELP replies, quiet hours and a monthly cap (docs/sms.md)."""


def register() -> None:
    """Declare the text touch as a step kind of the schedule (``create_app`` calls this)."""
    from ..schedule import kinds
    from . import touches

    kinds.register(touches.KIND)

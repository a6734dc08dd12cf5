"""The stale-email race under real processes (gunicorn, a beat, Celery workers, the
broker of the lane): the d0 touch is stored and its delivery waits in the broker's mail
queue; the customer pays; when a worker finally takes the delivery, the re-check drops
the email and the campaign's timeline says why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .merchant import RENEWAL_CHARGED, Merchant
from .stack import running_stack, wait_until


def _message(db: Any, customer: str) -> Any:
    from app.outbox.models import OutboxMessage

    db.session.remove()
    return db.session.execute(
        select(OutboxMessage).where(OutboxMessage.customer_stripe_id == customer)
    ).scalar_one_or_none()


def _campaign(db: Any, customer: str) -> Any:
    from app.recovery.models import Campaign

    db.session.remove()
    return db.session.execute(
        select(Campaign).where(Campaign.customer_stripe_id == customer)
    ).scalar_one_or_none()


def test_an_invoice_paid_between_the_enqueue_and_the_send_drops_the_email(
    tmp_path, sandbox_url, database_url, broker_url, db_view
) -> None:
    from app.recovery.models import Step

    with running_stack(
        tmp_path,
        sandbox_url,
        database_url,
        broker_url,
        workers=0,
        beats=1,
        BACKSTOP_SWEEP_SECONDS="1",
    ) as stack:
        stack.worker(queues="celery")  # events and steps; deliveries wait in the broker
        merchant = Merchant(db_view, sandbox_url, stack.platform_key)
        sub = merchant.subscribe("pm_card_sandbox_visa_insufficient_funds")
        customer = merchant.stripe.v1.subscriptions.retrieve(sub).customer
        merchant.advance(RENEWAL_CHARGED)  # the renewal fails; d0 is due at once
        queued = wait_until(
            "the d0 email stored and waiting for delivery",
            lambda: (m := _message(db_view, customer)) is not None and m.status == "queued" and m,
            diagnose=stack.diagnose,
        )

        invoice = merchant.stripe.v1.invoices.list(
            params={"subscription": sub, "status": "open"}
        ).data[0]
        card = merchant.stripe.v1.payment_methods.attach(
            "pm_card_visa", params={"customer": customer}
        )
        paid = merchant.stripe.v1.invoices.pay(invoice.id, params={"payment_method": card.id})
        assert paid.status == "paid"
        wait_until(
            "the campaign to be recovered by invoice.paid",
            lambda: (c := _campaign(db_view, customer)) is not None and c.state == "recovered",
            diagnose=stack.diagnose,
        )

        stack.worker(queues="mail")  # mail workers come back: the delivery runs now
        message = wait_until(
            "the delivery to run",
            lambda: (m := _message(db_view, customer)).status != "queued" and m,
            diagnose=stack.diagnose,
        )
        assert message.id == queued.id
        assert (message.status, message.sent_at) == ("dropped", None)
        assert message.error == "not sent: the campaign was recovered before the email left"
        db_view.session.remove()
        d0 = db_view.session.execute(select(Step).where(Step.id == message.step_id)).scalar_one()
        assert (d0.touch, d0.outcome) == ("d0", "dropped")
        assert d0.outcome_detail == message.error

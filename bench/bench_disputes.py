"""Evidence assembly for a customer with two years of history, against reading the same
rows in the same run.

A SQLite database (a temp file) holds one workspace with 500 customers, each with two
years of history: 24 monthly invoices, 4 emails a month (half opened), a recovery
campaign every quarter with 3 attempts, a card-update link per campaign (opened, used),
a portal link and 2 cancel-page visits. For one of them we time, median of 15 runs:

- **read**: the same SELECTs the assembly runs (customer, emails, links, portal, attempts
  with their campaigns, cancel sessions, invoices), rows loaded, nothing done with them;
- **assemble**: ``records.gather`` + the four signals and classification + the evidence
  text fields (``services.assess``), what a new dispute costs before any Stripe call;
- **assemble + PDF**: the same plus the evidence PDF (``pdf.render``).

Printed as milliseconds and as ratios to **read**.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CUSTOMERS = 500
MONTHS = 24
RUNS = 15
T0 = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)


def _history(db, ws_id: int, customer: str) -> None:
    from app.dunning.models import CardUpdateLink
    from app.outbox.models import OutboxMessage
    from app.portal.models import PortalLink
    from app.recovery.models import Campaign, ChargeAttempt
    from app.retain.models import CancelSession
    from app.stripe.models import MirrorCustomer, MirrorInvoice

    s = db.session
    s.add(
        MirrorCustomer(
            workspace_id=ws_id,
            stripe_id=customer,
            data={},
            email=f"{customer}@example.com",
            name="Ada",
        )
    )
    for m in range(MONTHS):
        at = T0 + dt.timedelta(days=30 * m)
        s.add(
            MirrorInvoice(
                workspace_id=ws_id,
                stripe_id=f"in_{customer}_{m}",
                customer_stripe_id=customer,
                status="paid",
                amount_due_minor=2900,
                currency="usd",
                stripe_created=int(at.timestamp()),
                data={
                    "created": int(at.timestamp()),
                    "number": f"N-{m}",
                    "billing_reason": "subscription_cycle",
                    "lines": {
                        "data": [
                            {
                                "description": "Studio plan",
                                "period": {
                                    "start": int(at.timestamp()),
                                    "end": int((at + dt.timedelta(days=30)).timestamp()),
                                },
                            }
                        ]
                    },
                },
            )
        )
        for e in range(4):
            sent = at + dt.timedelta(days=7 * e)
            s.add(
                OutboxMessage(
                    workspace_id=ws_id,
                    template="dunning",
                    to_email=f"{customer}@example.com",
                    from_email="billing@shop.example",
                    subject=f"Reminder {m}-{e}",
                    body_text="b",
                    body_html="<p>b</p>",
                    status="sent",
                    customer_stripe_id=customer,
                    sent_at=sent,
                    created_at=sent,
                    opened_at=sent + dt.timedelta(hours=2) if e % 2 else None,
                )
            )
        if m % 3 == 0:
            campaign = Campaign(
                workspace_id=ws_id,
                invoice_stripe_id=f"in_{customer}_{m}",
                customer_stripe_id=customer,
                amount_minor=2900,
                currency="usd",
                decline_class="scheduled",
                opened_at=at,
                last_failure_at=at,
                window_ends_at=at + dt.timedelta(days=30),
                state="recovered",
            )
            s.add(campaign)
            s.flush()
            for a in range(3):
                s.add(
                    ChargeAttempt(
                        workspace_id=ws_id,
                        campaign_id=campaign.id,
                        invoice_stripe_id=campaign.invoice_stripe_id,
                        charge_stripe_id=f"ch_{customer}_{m}_{a}",
                        at=at + dt.timedelta(days=a * 3),
                        source="backstop",
                        succeeded=a == 2,
                        decline_code=None if a == 2 else "insufficient_funds",
                    )
                )
            s.add(
                CardUpdateLink(
                    workspace_id=ws_id,
                    token_hash=f"{customer}{m}".ljust(64, "0")[:64],
                    purpose="dunning",
                    customer_stripe_id=customer,
                    created_at=at,
                    expires_at=at + dt.timedelta(days=21),
                    opened_at=at + dt.timedelta(days=1),
                    used_at=at + dt.timedelta(days=1),
                    outcome="updated",
                )
            )
    s.add(
        PortalLink(
            workspace_id=ws_id,
            customer_stripe_id=customer,
            token_hash=f"p{customer}".ljust(64, "0")[:64],
            token_enc="x",
            expires_at=T0 + dt.timedelta(days=900),
            last_opened_at=T0 + dt.timedelta(days=700),
        )
    )
    for c in range(2):
        opened = T0 + dt.timedelta(days=200 + 300 * c)
        s.add(
            CancelSession(
                workspace_id=ws_id,
                token_hash=f"c{customer}{c}".ljust(64, "0")[:64],
                customer_stripe_id=customer,
                subscription_stripe_id=f"sub_{customer}",
                created_at=opened,
                expires_at=opened,
                opened_at=opened,
                outcome="abandoned",
            )
        )


def _read(db, dispute) -> int:
    """The same SELECTs as ``records.gather``, rows loaded and dropped."""
    from sqlalchemy import select

    from app.dunning.models import CardUpdateLink
    from app.outbox.models import OutboxMessage
    from app.portal.models import PortalLink
    from app.recovery.models import Campaign, ChargeAttempt
    from app.retain.models import CancelSession
    from app.stripe.models import MirrorCustomer, MirrorInvoice

    ws, c, s = dispute.workspace_id, dispute.customer_stripe_id, db.session
    queries = [
        select(MirrorCustomer).where(
            MirrorCustomer.workspace_id == ws, MirrorCustomer.stripe_id == c
        ),
        select(OutboxMessage).where(
            OutboxMessage.workspace_id == ws,
            OutboxMessage.customer_stripe_id == c,
            OutboxMessage.status == "sent",
        ),
        select(CardUpdateLink).where(
            CardUpdateLink.workspace_id == ws, CardUpdateLink.customer_stripe_id == c
        ),
        select(PortalLink.last_opened_at).where(
            PortalLink.workspace_id == ws, PortalLink.customer_stripe_id == c
        ),
        select(ChargeAttempt)
        .join(Campaign, Campaign.id == ChargeAttempt.campaign_id)
        .where(ChargeAttempt.workspace_id == ws, Campaign.customer_stripe_id == c),
        select(CancelSession).where(
            CancelSession.workspace_id == ws, CancelSession.customer_stripe_id == c
        ),
        select(MirrorInvoice).where(
            MirrorInvoice.workspace_id == ws, MirrorInvoice.customer_stripe_id == c
        ),
    ]
    rows = sum(len(s.execute(q).all()) for q in queries)
    s.expunge_all()
    return rows


def _time(fn) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    from app import create_app
    from app.accounts.models import Workspace
    from app.disputes import pdf, services
    from app.disputes.models import Dispute
    from app.extensions import db

    path = Path(tempfile.mkdtemp()) / "bench.sqlite"
    app = create_app(
        {
            "env": "test",
            "database_url": f"sqlite:///{path}",
            "broker_url": "memory://",
            "task_always_eager": True,
        }
    )
    with app.app_context():
        db.create_all()
        ws = Workspace(name="Bench Shop", slug="bench-shop")
        db.session.add(ws)
        db.session.flush()
        print(f"building {CUSTOMERS} customers x {MONTHS} months ...", flush=True)
        for n in range(CUSTOMERS):
            _history(db, ws.id, f"cus_{n:04d}")
            if n % 50 == 0:
                db.session.commit()
        target = "cus_0250"
        dispute = Dispute(
            workspace_id=ws.id,
            stripe_id="dp_bench",
            charge_stripe_id="ch_bench",
            customer_stripe_id=target,
            status="needs_response",
            reason="subscription_canceled",
            amount_minor=2900,
            currency="usd",
            charged_at=T0 + dt.timedelta(days=30 * (MONTHS - 1)),
            opened_at=T0 + dt.timedelta(days=30 * MONTHS),
            signals={"billing_reason": "subscription_cycle"},
        )
        db.session.add(dispute)
        db.session.commit()
        dispute_id = dispute.id

        def read() -> None:
            _read(db, db.session.get(Dispute, dispute_id))

        def assemble() -> None:
            row = db.session.get(Dispute, dispute_id)
            services.assess(db.session, row)
            db.session.rollback()

        def with_pdf() -> None:
            row = db.session.get(Dispute, dispute_id)
            facts = services.assess(db.session, row)
            pdf.render(facts, row.evidence)
            db.session.rollback()

        rows = _read(db, db.session.get(Dispute, dispute_id))
        for fn in (read, assemble, with_pdf):  # warm up
            fn()
        base = _time(read)
        assembled = _time(assemble)
        full = _time(with_pdf)
        row = db.session.get(Dispute, dispute_id)
        facts = services.assess(db.session, row)
        size = len(pdf.render(facts, row.evidence))
        chars = sum(len(v) for v in row.evidence.values())
        db.session.rollback()
    print(f"customer history: {rows} rows; evidence text {chars:,} chars; PDF {size:,} bytes")
    print(f"read the same rows   {base:8.2f} ms   1.00x")
    print(f"assemble evidence    {assembled:8.2f} ms   {assembled / base:.2f}x")
    print(f"assemble + PDF       {full:8.2f} ms   {full / base:.2f}x")


if __name__ == "__main__":
    main()

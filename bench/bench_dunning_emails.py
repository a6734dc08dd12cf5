"""Dunning emails rendered and sent per second through the outbox transport, against
rendering the same Jinja templates bare, as the baseline.

    .venv/bin/python bench/bench_dunning_emails.py [--messages 300]   (from the repo root)

What one dunning email costs Backstop, once the touch is due, without Stripe: the
``dunning`` message's context (``app.dunning.touches.context_for``: copy for the decline,
the merchant's placeholders filled), ``app.outbox.services.send`` (render subject, text
and HTML; premailer inlines the CSS; the suppression check; the INSERT of the stored
message with its headers and List-Unsubscribe link) and the delivery task through the
``outbox`` transport (``app.outbox.services.deliver``: SELECT, mark sent), each message
committed on its own, as a worker does. The database is a fresh SQLite file (or
PostgreSQL with ``BACKSTOP_BENCH_EMAILS_DATABASE_URL``); tasks run eagerly.

The baseline renders the same three templates of the same message with the same
context through a bare ``jinja2.Environment`` on the same folder: no premailer, no
database. The ratio (sent per second ÷ bare renders per second) says how much of the
sending cost is our pipeline rather than the templates themselves; premailer's CSS
inlining is reported separately.

After a warm-up of 20 messages, the two sides alternate three times; the median of each
is reported. Prints::

    sent: N emails/s (p50 X ms); bare Jinja: M renders/s; ratio R
    of a send: premailer P ms, database and delivery D ms, Jinja J ms
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()

    from gettext import NullTranslations

    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
    from premailer import Premailer

    from app import create_app
    from app.accounts import services as accounts
    from app.dunning.touches import TEMPLATE, context_for
    from app.extensions import db
    from app.outbox import services as outbox
    from app.recovery.models import Campaign
    from emails.i18n import template_functions
    from emails.render import TEMPLATES
    from workers.celery_app import init_celery

    url = os.environ.get("BACKSTOP_BENCH_EMAILS_DATABASE_URL")
    tmp = tempfile.mkdtemp(prefix="bench-emails-")
    flask_app = create_app(
        {
            "env": "test",
            "database_url": url or f"sqlite:///{tmp}/bench.sqlite",
            "broker_url": "memory://",
            "task_always_eager": True,
        }
    )
    init_celery(flask_app)
    bare = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    # The same gettext functions as the real renderer, reading English (no catalogue).
    bare.globals.update(template_functions(NullTranslations))
    with flask_app.app_context(), flask_app.test_request_context():
        db.drop_all()
        db.create_all()
        user = accounts.sign_up(db.session, "bench@example.com", "bench-password-1", "Bench Co")
        workspace = user.memberships[0].workspace
        workspace.postal_address = "1 Bench Street, Springfield"
        db.session.commit()
        now = dt.datetime.now(dt.UTC)
        campaign = Campaign(
            workspace_id=workspace.id,
            amount_minor=4900,
            currency="usd",
            decline_class="scheduled",
            decline_code="insufficient_funds",
            opened_at=now,
            window_ends_at=now + dt.timedelta(days=30),
        )

        def context(i: int) -> dict:
            ctx = context_for(
                workspace,
                campaign,
                key="d3",
                sequence="standard",
                overrides={},
                customer_name=f"Customer {i}",
                link_url=f"http://127.0.0.1:5000/update-card/token{i}",
                at=now,
            )
            return ctx

        def send_all(n: int, offset: int) -> list[float]:
            times = []
            for i in range(offset, offset + n):
                start = time.perf_counter()
                outbox.send(
                    db.session,
                    template=TEMPLATE,
                    to=f"customer{i}@example.com",
                    context=context(i),
                    from_email="Bench Co <no-reply@backstop.localhost>",
                    workspace_id=workspace.id,
                    customer_id=f"cus_{i}",
                )
                db.session.commit()  # delivery runs here (eager), then marks it sent
                times.append(time.perf_counter() - start)
            return times

        def render_bare(n: int, offset: int) -> list[float]:
            times = []
            for i in range(offset, offset + n):
                start = time.perf_counter()
                ctx = {**context(i), "unsubscribe_url": f"http://127.0.0.1:5000/unsubscribe/u{i}"}
                ctx.setdefault("lang", "en")
                for part in ("subject.txt", "body.txt", "body.html"):
                    bare.get_template(f"{TEMPLATE}/{part}").render(ctx)
                times.append(time.perf_counter() - start)
            return times

        def premailer_only(n: int) -> float:
            html = bare.get_template(f"{TEMPLATE}/body.html").render(
                {**context(0), "unsubscribe_url": "http://127.0.0.1:5000/u", "lang": "en"}
            )
            start = time.perf_counter()
            for _ in range(n):
                Premailer(
                    html, remove_classes=False, keep_style_tags=False, disable_validation=True
                ).transform()
            return (time.perf_counter() - start) / n

        send_all(20, 0)
        render_bare(20, 0)
        sent_rates, bare_rates, p50s, bare_means = [], [], [], []
        offset = 100
        for _ in range(3):
            t = send_all(args.messages, offset)
            offset += args.messages
            sent_rates.append(len(t) / sum(t))
            p50s.append(statistics.median(t))
            b = render_bare(args.messages, offset)
            bare_rates.append(len(b) / sum(b))
            bare_means.append(sum(b) / len(b))
        premailer_ms = premailer_only(50) * 1000
        sent = statistics.median(sent_rates)
        baseline = statistics.median(bare_rates)
        statuses = {
            s for (s,) in db.session.execute(db.text("SELECT DISTINCT status FROM outbox_message"))
        }
        assert statuses == {"sent"}, statuses
        send_ms = 1000 / sent
        jinja_ms = statistics.median(bare_means) * 1000
        print(
            f"sent: {sent:.0f} emails/s (p50 {statistics.median(p50s) * 1000:.2f} ms); "
            f"bare Jinja: {baseline:.0f} renders/s; ratio {sent / baseline:.3f}"
        )
        print(
            f"of a send: premailer {premailer_ms:.2f} ms, database and delivery "
            f"{max(0.0, send_ms - premailer_ms - jinja_ms):.2f} ms, Jinja {jinja_ms:.2f} ms "
            f"({'PostgreSQL' if url else 'SQLite'}, {args.messages} messages x 3 runs)"
        )
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

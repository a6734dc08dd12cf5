"""/metrics: only for the scraper, and it counts what really happened."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update

from app.extensions import db
from app.observability.metrics import exposition, gauges
from app.stripe.models import StripeEvent

from ...conftest import WEBHOOK_SECRET
from .. import factories as f
from ..outbox.test_mail import send

TOKEN = "scrape-token-0123456789"


@pytest.fixture
def scraper(other_app):
    return other_app(metrics_token=TOKEN)


def scrape(client, **headers) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_404_to_everyone_without_the_token(scraper, web) -> None:
    assert web.get("/metrics").status_code == 404  # nothing configured: nobody
    assert scraper.get("/metrics").status_code == 404
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    assert scraper.get("/metrics", headers=wrong).status_code == 404
    assert scraper.get("/metrics", headers={"Authorization": TOKEN}).status_code == 404
    assert "Set-Cookie" not in scraper.get("/metrics").headers


def test_an_allowed_network_may_scrape_without_the_token(other_app) -> None:
    client = other_app(metrics_allow="10.0.0.0/8, 192.168.1.7")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.8"}).status_code == 404


@pytest.mark.parametrize(
    ("token", "allow", "authorization", "addr", "expected"),
    [
        ("", "", "Bearer x" * 3, "127.0.0.1", False),
        ("t" * 16, "", "Bearer " + "t" * 16, None, True),
        ("t" * 16, "", "bearer  " + "t" * 16, None, True),
        ("t" * 16, "", "Basic " + "t" * 16, None, False),
        ("", "::1", None, "::1", True),
        ("", "10.0.0.0/8", None, "not-an-address", False),
    ],
)
def test_who_may_scrape(token, allow, authorization, addr, expected) -> None:
    from app import settings as s

    networks = s.load({}, metrics_allow=allow).metrics_networks
    assert (
        exposition.may_scrape(
            token=token, networks=networks, authorization=authorization, remote_addr=addr
        )
        is expected
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [({"metrics_token": "short"}, "METRICS_TOKEN"), ({"metrics_allow": "10.0.0/33"}, "ALLOW")],
)
def test_bad_metrics_settings_are_refused(change, message) -> None:
    from app import settings as s

    with pytest.raises(s.SettingsError, match=message):
        s.load({}, **change)


def test_webhooks_received_duplicate_and_rejected_are_counted(scraper, web, ctx) -> None:
    ws = f.workspace()
    f.connection(ws, account="acct_metrics")
    db.session.commit()
    event = f.event("customer.updated", account="acct_metrics")
    raw, headers = f.signed(event, WEBHOOK_SECRET)
    name = "backstop_stripe_webhook_events_total"
    stored = sample(name, type="customer.updated", result="stored")
    duplicate = sample(name, type="customer.updated", result="duplicate")
    rejected = sample("backstop_stripe_webhook_rejected_total", reason="signature")
    assert web.post("/webhooks/stripe", data=raw, headers=headers).status_code == 200
    assert web.post("/webhooks/stripe", data=raw, headers=headers).status_code == 200
    bad = {"Stripe-Signature": "t=1,v1=00"}
    assert web.post("/webhooks/stripe", data=raw, headers=bad).status_code == 400
    assert sample(name, type="customer.updated", result="stored") == stored + 1
    assert sample(name, type="customer.updated", result="duplicate") == duplicate + 1
    assert sample("backstop_stripe_webhook_rejected_total", reason="signature") == rejected + 1
    page = scrape(scraper)
    assert 'backstop_stripe_webhook_events_total{result="stored",type="customer.updated"}' in page
    assert 'backstop_http_requests_total{blueprint="stripe",method="POST",status="200"}' in page
    assert "backstop_http_request_duration_seconds_bucket" in page


def test_an_email_sent_is_counted_by_template_and_transport(scraper, ctx) -> None:
    labels = {"template": "card_update_link", "transport": "outbox", "status": "sent"}
    before = sample("backstop_emails_total", **labels)
    ws = f.workspace()
    db.session.commit()
    assert send(ws).status == "sent"
    assert sample("backstop_emails_total", **labels) == before + 1
    assert 'backstop_emails_total{status="sent",template="card_update_link"' in scrape(scraper)


def test_a_failing_task_is_counted(app, scraper) -> None:
    celery = app.extensions["celery"]

    @celery.task(name="tests.observability.boom")
    def boom() -> None:
        raise RuntimeError("boom")

    before = sample("backstop_celery_task_failures_total", task="tests.observability.boom")
    # As a worker runs it: the failure is recorded, not raised into the caller.
    assert boom.apply(throw=False).failed()
    after = sample("backstop_celery_task_failures_total", task="tests.observability.boom")
    assert after == before + 1
    page = scrape(scraper)
    assert 'backstop_celery_task_failures_total{task="tests.observability.boom"}' in page
    assert 'backstop_celery_tasks_total{state="FAILURE",task="tests.observability.boom"}' in page


def test_intake_and_sweeper_lag_are_read_from_the_database(scraper, ctx) -> None:
    ws = f.workspace()
    campaign = f.winback_campaign(ws)
    step = f.winback_step(campaign)
    now = dt.datetime.now(dt.UTC)
    step.due_at = now - dt.timedelta(minutes=10)
    db.session.commit()
    f.connection(ws, account="acct_lag")
    db.session.commit()
    event = f.event(account="acct_lag")
    raw, headers = f.signed(event, WEBHOOK_SECRET)
    scraper.post("/webhooks/stripe", data=raw, headers=headers)  # processed at once (eager)
    db.session.execute(
        update(StripeEvent).values(status="received", received_at=now - dt.timedelta(minutes=3))
    )
    db.session.commit()
    page = scrape(scraper)
    lines = dict(
        line.rsplit(" ", 1) for line in page.splitlines() if line and not line.startswith("#")
    )
    assert 170 < float(lines["backstop_stripe_event_processing_lag_seconds"]) < 400
    assert 590 < float(lines['backstop_schedule_lag_seconds{schedule="winback_step"}']) < 900
    assert float(lines['backstop_schedule_due{schedule="winback_step"}']) == 1
    assert float(lines['backstop_schedule_lag_seconds{schedule="recovery_step"}']) == 0
    assert lines["backstop_database_up"] == "1.0"
    assert "process_cpu_seconds_total" in lines or "python_info" in page


def test_every_swept_table_is_watched(app) -> None:
    """A new schedule (a table with a status, a due time and a lease) shows up by itself;
    this list says which are known, so that a new one is looked at (its waiting status)."""
    names = {t.name for t in gauges.schedule_tables(db.metadata)}
    assert names == {
        "recovery_step",
        "winback_step",
        "retain_check",
        "dunning_expiry_notice",
        "checkout_recovery_step",
        "portal_change",
        "dispute_submission",
        "outbound_delivery",
        "domain_event",
    }


def test_a_database_that_cannot_be_read_is_reported_not_raised(other_app, tmp_path) -> None:
    client = other_app(metrics_token=TOKEN, database_url=f"sqlite:///{tmp_path}/missing/x.sqlite")
    assert "backstop_database_up 0.0" in scrape(client)


def test_a_task_retry_is_counted(app) -> None:
    celery = app.extensions["celery"]

    @celery.task(name="tests.observability.flaky", bind=True, max_retries=1)
    def flaky(self) -> str:
        if not self.request.retries:
            raise self.retry(countdown=0)
        return "done"

    before = sample("backstop_celery_task_retries_total", task="tests.observability.flaky")
    flaky.apply(throw=False)
    assert sample("backstop_celery_task_retries_total", task=flaky.name) == before + 1


COUNT_IN_A_PROCESS = """
from app.observability.metrics.instruments import EMAILS
EMAILS.labels("dunning_first", "ses", "sent").inc({n})
"""
RENDER = """
from app.observability.metrics.exposition import render
print(render().decode())
"""


def test_counters_add_up_across_processes(tmp_path) -> None:
    """gunicorn's and Celery's processes each count in PROMETHEUS_MULTIPROC_DIR; any one of
    them (the one answering /metrics, the worker's server) shows the sum."""
    import os
    import subprocess
    import sys

    from ...conftest import ROOT

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout

    run(COUNT_IN_A_PROCESS.format(n=2))
    run(COUNT_IN_A_PROCESS.format(n=3))
    page = run(RENDER)
    wanted = 'backstop_emails_total{status="sent",template="dunning_first",transport="ses"} 5.0'
    assert wanted in page
    if os.path.exists("/proc/self/stat"):  # the scraping process's own basics, by pid
        assert 'process_resident_memory_bytes{pid="' in page


def test_texts_sent_and_failed_are_counted_by_transport(ctx) -> None:
    from app.sms import delivery, services
    from app.sms.transport import OutboxTransport, TwilioTransport

    from ..sms.helpers import ACCOUNT_SID, AUTH_TOKEN, turn_on
    from ..sms.test_transport import StandIn

    ws = f.workspace(name="Texting Shop")
    db.session.commit()
    row = turn_on(ws.id)
    sent = sample("backstop_texts_total", transport="outbox", status="sent")
    failed = sample("backstop_texts_total", transport="twilio", status="failed")
    for transport in (
        OutboxTransport(),
        TwilioTransport(ACCOUNT_SID, AUTH_TOKEN, StandIn(400, {"code": 21211, "status": 400})),
    ):
        message = services.store(
            db.session, row, purpose="test", to="+14155550134", body="hi", month="2026-07"
        )
        assert delivery.begin(db.session, message, now=message.created_at)
        delivery.hand_over(db.session, message, transport, now=message.created_at)
    assert sample("backstop_texts_total", transport="outbox", status="sent") == sent + 1
    assert sample("backstop_texts_total", transport="twilio", status="failed") == failed + 1

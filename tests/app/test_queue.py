"""Enqueue after commit, drop on rollback; coalesced wake-ups never lose the last one."""

from __future__ import annotations

import threading

from app.extensions import db
from app.queue import Coalesced, enqueue


class FakeCelery:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.conf = type("Conf", (), {"task_always_eager": False})()
        self.second = threading.Event()

    def send_task(self, name: str, args: list | None = None) -> None:
        self.sent.append(name)
        if len(self.sent) >= 2:
            self.second.set()


def test_a_burst_sends_once_now_and_once_after(app, ctx, monkeypatch) -> None:
    fake = FakeCelery()
    monkeypatch.setitem(app.extensions, "celery", fake)
    wake = Coalesced("stripe.process_pending", every=0.05)
    for _ in range(20):
        wake.request()
    assert fake.sent == ["stripe.process_pending"]  # the leading send only, so far
    assert fake.second.wait(5), "the trailing send never came"
    assert fake.sent == ["stripe.process_pending"] * 2


def test_rollback_leaves_no_task_behind(app, ctx, monkeypatch) -> None:
    fake = FakeCelery()
    monkeypatch.setitem(app.extensions, "celery", fake)
    enqueue(db.session, "stripe.import_page", 1)
    db.session.rollback()
    db.session.commit()
    assert fake.sent == []
    enqueue(db.session, "stripe.import_page", 2)
    db.session.commit()
    assert fake.sent == ["stripe.import_page"]


def test_a_savepoint_neither_sends_nor_drops_the_transactions_tasks(app, ctx, monkeypatch) -> None:
    fake = FakeCelery()
    monkeypatch.setitem(app.extensions, "celery", fake)
    enqueue(db.session, "stripe.import_page", 1)
    with db.session.begin_nested():  # released: still inside the outer transaction
        pass
    assert fake.sent == []
    try:
        with db.session.begin_nested():  # rolled back, as a lost insert race is
            raise ValueError
    except ValueError:
        pass
    assert fake.sent == []
    db.session.commit()
    assert fake.sent == ["stripe.import_page"]


def test_a_broker_restart_never_lowers_a_workers_prefetch(app) -> None:
    """Celery's lowering of the prefetch after a reconnect (restored as acks come in)
    left a worker consuming nothing after a broker restart mid-task
    (tests/e2e/test_chaos.py): it stays off."""
    assert app.extensions["celery"].conf.worker_enable_prefetch_count_reduction is False


def test_workers_on_the_database_broker_poll_it_often(app_settings, monkeypatch, tmp_path) -> None:
    """A task waits for the next poll at every hand-off (1 s by kombu's default)."""
    from kombu import Connection
    from kombu.transport import sqlalchemy as database_transport

    from app import create_app
    from app.queue import POLL_SECONDS

    monkeypatch.setattr(database_transport.Transport, "polling_interval", 1.0)
    url = f"sqla+sqlite:///{tmp_path}/broker.sqlite"
    celery = create_app({**app_settings, "broker_url": url}).extensions["celery"]
    with Connection(url, transport_options=celery.conf.broker_transport_options) as conn:
        assert conn.transport.polling_interval == POLL_SECONDS <= 0.2

"""The process hooks: gunicorn's master logs in Backstop's format and clears the
counter files of the last run; a Celery worker logs under Backstop's configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app.observability.metrics import exposition

from ...conftest import ROOT

GUNICORN_LOGS = """
from gunicorn.config import Config
from gunicorn.glogging import Logger
from app.observability import gunicorn_conf

config = Config()
config.set("logconfig_dict", gunicorn_conf.logconfig_dict)
Logger(config).error("Worker timeout (pid:%s)", 42)
"""


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )


def test_gunicorn_writes_its_own_lines_as_json_in_production_format() -> None:
    done = run(GUNICORN_LOGS, BACKSTOP_LOG_FORMAT="json")
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert (line["logger"], line["level"]) == ("gunicorn.error", "ERROR")
    assert line["message"] == "Worker timeout (pid:42)"


def test_gunicorn_writes_text_in_development() -> None:
    done = run(GUNICORN_LOGS, BACKSTOP_LOG_FORMAT="text")
    assert "ERROR gunicorn.error Worker timeout (pid:42)" in done.stderr


def test_the_master_clears_the_last_runs_counters_and_children_make_none(
    tmp_path, monkeypatch
) -> None:
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    exposition.prepare_dir(wipe=False)  # a worker process: keeps the others' files
    assert (folder / "counter_123.db").exists()
    exposition.prepare_dir(wipe=True)  # the master at start
    assert folder.is_dir() and not list(folder.iterdir())
    exposition.process_exited(123)  # nothing left to forget: no error


def test_without_the_directory_nothing_is_made(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    exposition.prepare_dir(wipe=True)
    exposition.process_exited(1)
    assert exposition.multiprocess_dir() is None


def test_the_worker_keeps_backstops_logging(app) -> None:
    """Celery replaces the root logger's handlers unless someone answers setup_logging."""
    from celery import signals

    answers = signals.setup_logging.send(sender=None, loglevel="INFO", logfile=None)
    assert answers, "nothing is connected to setup_logging: Celery would take over the logs"

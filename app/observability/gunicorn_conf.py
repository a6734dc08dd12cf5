"""The web process's gunicorn hooks: ``gunicorn -c python:app.observability.gunicorn_conf``
(the ``Procfile``).

- Metrics: the master clears the last run's counter files before it forks (each worker
  writes its own under ``PROMETHEUS_MULTIPROC_DIR``) and forgets a worker that exits.
- Logs: gunicorn's own lines (workers booting, timing out) in the app's format; its
  access log stays off, because the app writes one ``http.request`` line per request
  with the request id (``app/observability/requests.py``).

Reading the settings here also checks them once in the master, before any worker starts."""

from __future__ import annotations

from typing import Any

from app import settings as settings_module
from app.observability.metrics import exposition


def on_starting(server: Any) -> None:
    exposition.prepare_dir(wipe=True)


def child_exit(server: Any, worker: Any) -> None:
    exposition.process_exited(worker.pid)


def _logconfig(json_lines: bool) -> dict[str, Any]:
    formatter = "JsonFormatter" if json_lines else "TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"backstop": {"()": f"app.observability.logs.{formatter}"}},
        "filters": {"context": {"()": "app.observability.logs.ContextFilter"}},
        "handlers": {
            "backstop": {
                "class": "logging.StreamHandler",
                "formatter": "backstop",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["backstop"], "propagate": False}
        },
        # gunicorn's defaults give the root logger a handler of theirs; the app's own
        # configuration (create_app) installs Backstop's in each worker instead.
        "root": {"level": "INFO", "handlers": []},
    }


logconfig_dict = _logconfig(settings_module.load().json_logs)

"""Every counter and histogram the code increments. Each has labels, so none writes a
file at import even in multiprocess mode; label values come from short, closed sets
(never ids, addresses or anything a client makes up)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "backstop_http_requests",
    "Requests answered, by blueprint, method and status code",
    ["blueprint", "method", "status"],
)
HTTP_DURATION = Histogram(
    "backstop_http_request_duration_seconds",
    "Time from the request's first hook to its response, by blueprint",
    ["blueprint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
STRIPE_WEBHOOK_EVENTS = Counter(
    "backstop_stripe_webhook_events",
    "Signed Stripe events received, by type and result: stored (new, routed to a "
    "workspace), unrouted (new, no workspace has its account) or duplicate",
    ["type", "result"],
)
STRIPE_WEBHOOK_REJECTED = Counter(
    "backstop_stripe_webhook_rejected",
    "Stripe webhook deliveries refused, by reason: signature, expired, payload, too_large, "
    "unknown_workspace, not_configured",
    ["reason"],
)
TASKS = Counter(
    "backstop_celery_tasks",
    "Celery tasks finished, by task name and state (SUCCESS, FAILURE, RETRY, ...)",
    ["task", "state"],
)
TASK_FAILURES = Counter(
    "backstop_celery_task_failures",
    "Celery tasks that raised (task_failure), by task name",
    ["task"],
)
TASK_RETRIES = Counter(
    "backstop_celery_task_retries",
    "Celery tasks that asked to be retried (task_retry), by task name",
    ["task"],
)
EMAILS = Counter(
    "backstop_emails",
    "Emails handed to a transport or given up, by template, transport and status: "
    "sent, failed (refused for good), dropped (no longer wanted as it left)",
    ["template", "transport", "status"],
)
TEXTS = Counter(
    "backstop_texts",
    "Text messages handed to a transport, by transport and status: sent, failed",
    ["transport", "status"],
)

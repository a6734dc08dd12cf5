"""The insights dashboard's figures for one big workspace on PostgreSQL (issue 16): every
figure under 100 ms (p95, warm) at 1M recovery campaigns, 1M cancel sessions and 100k
win-back campaigns, against a ``SELECT 1`` round trip in the same run, and never a
full-table scan per page view.

    .venv/bin/python bench/bench_insights.py      (from the repo root; 3-5 minutes)

Options: ``--rounds N`` (timed rounds, default 200), ``--reuse`` (keep the data the last
run loaded when it is there: skips the 2-3 minute load).

PostgreSQL only: database ``backstop_bench_insights``
(``BACKSTOP_BENCH_INSIGHTS_DATABASE_URL``), created if missing, its public schema emptied
and rebuilt with ``db.create_all()`` on every run (unless ``--reuse``) and left in place
for inspection; the tests' ``test`` database is not touched.

The load, all ``INSERT ... SELECT generate_series`` in one transaction (the tables'
indexes dropped for it and built once at the end, foreign-key triggers off; the rows are
consistent by construction), over the two years before now (t0), rows in time order as a
live table has them:

- 21 workspaces: workspace 1 (Europe/Berlin, bills in usd and, for 15 %, eur) holds
  exactly 1,000,000 recovery campaigns, 1,000,000 cancel sessions and 100,000 win-back
  campaigns; 20 small ones (UTC, usd) share a further 100,000, 100,000 and 10,000,
  interleaved in time with the big one's (every 11th row).
- ``recovery_campaign``: opened every ~57 s; 12 decline codes (skewed to
  insufficient_funds) with their class; a campaign opened in the last 30 days is still
  ``in_flight`` with a chance falling from 20 % (today) to 0 (30 days ago), about 4,100
  in workspace 1; the others closed within 29 days (never after t0): 55 % recovered (4
  attributions), 38 % lost, 7 % abandoned.
- ``retain_session``: 25 % saved, 65 % cancelled (their subscription ends within 30 days),
  10 % abandoned, 6 reasons; some of the last day's still undecided.
- ``winback_campaign``: 10 % won, 5 % returned, 3 % stopped, the rest active (ended in
  the last 58 days) or ended.
- ``domain_event``: the events those rows would have emitted, with the data the services
  put in them (``recovery.campaign.started`` and its close, ``cancel.session.<outcome>``,
  ``subscription.ended`` for every cancelled session once its period ended and every lost
  campaign, ``winback.campaign.started`` and its close) and events the rollups do not
  count (a ``dunning.email.sent`` per campaign, a ``recovery.attempt.failed`` for a third):
  about 6.0M rows, created in time order, all dispatched.
- ``insight_daily``: computed from those events by one ``INSERT ... SELECT ... GROUP BY``
  that applies ``rollups.contributions``'s rules in SQL, days in each workspace's
  timezone; checked against ``rollups.from_scratch`` over a small workspace's events
  (the script stops if they differ).

Then ``VACUUM ANALYZE`` of every table (what autovacuum keeps a steady table at).

The timing, warm: each call is one transaction on the app's pooled connection, the
session removed at the end as a request's teardown does: ``SELECT 1`` (the baseline),
``figures.read`` for 7/30/90/365 days, ``at_risk``, ``activity``, ``churn_by_month``,
the stored LTV estimate (``lifetime.of_workspace``; a worker computes it daily), and a
page view (``read`` of the default 30 days, ``at_risk``, ``activity``,
``churn_by_month``, the LTV in one transaction), for workspace 1, and the page view for a small
workspace. 10 warm-up rounds, then ``--rounds`` rounds, each running every call once in
a rotating order, so drift hits all alike. p50 and p95 per call; the ratio is the
call's p95 over SELECT 1's p95; the aim is p95 < 100 ms.

Then ``EXPLAIN (ANALYZE, BUFFERS)`` of every statement each figure ran (workspace 1, and
the small workspace's page view), with the sequential scans and the rows removed by
filters picked out.

Prints::

    loaded ... in S s (campaigns .., sessions .., win-back .., events .., rollup rows ..)
    call                     p50 ms   p95 ms   p95 / SELECT 1   aim (< 100 ms)
    SELECT 1                   0.25     0.31            1.0
    read 7 days                ...                              PASS | FAIL
    ...
    the plans

See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _support import fresh_database, reachable

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "BACKSTOP_BENCH_INSIGHTS_DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/backstop_bench_insights",
)
BIG = 1  # the workspace the dashboard is timed for
SMALL = 2  # a small workspace: its page view, and the rollups' check
SMALL_WORKSPACES = 20
EVERY = 11  # every 11th row belongs to a small workspace: the big one holds the rest
CAMPAIGNS = 1_100_000  # 1,000,000 in the big workspace
SESSIONS = 1_100_000
WINBACKS = 110_000
SPAN_DAYS = 730
ROUNDS = 200
WARMUP = 10
AIM_MS = 100.0
BIG_TABLES = ("recovery_campaign", "retain_session", "winback_campaign", "domain_event")

# -- the load ---------------------------------------------------------------------------------

_WORKSPACES = """
INSERT INTO workspace (id, slug, name, timezone, brand_color, is_portal_cancel_disabled,
                       is_embed_signature_required, is_two_factor_required)
SELECT w, 'bench-' || w, 'Bench ' || w, CASE WHEN w = 1 THEN 'Europe/Berlin' ELSE 'UTC' END,
       '#4f46e5', false, false, false
FROM generate_series(1, :workspaces) AS w
"""
# Row i of each table: workspace 1 unless i is a multiple of 11 (then a small one), its
# time i / n of the way through the two years; random() once per row in the inner query
# (a volatile target list is not pulled up, so each value is drawn once).
_WS = f"CASE WHEN i % {EVERY} = 0 THEN 2 + (i / {EVERY}) % :small ELSE 1 END"
_CODES = (
    "insufficient_funds:scheduled",
    "card_declined:scheduled",
    "do_not_honor:scheduled",
    "generic_decline:scheduled",
    "expired_card:customer_action",
    "processing_error:immediate",
    "try_again_later:immediate",
    "incorrect_cvc:customer_action",
    "authentication_required:customer_action",
    "card_velocity_exceeded:scheduled",
    "lost_card:no_recovery",
    "stolen_card:no_recovery",
)
_CODE_ARRAY = "ARRAY[" + ", ".join(f"'{c.split(':')[0]}'" for c in _CODES) + "]"
_CLASS_ARRAY = "ARRAY[" + ", ".join(f"'{c.split(':')[1]}'" for c in _CODES) + "]"
_CAMPAIGNS = f"""
INSERT INTO recovery_campaign (
    id, workspace_id, invoice_stripe_id, customer_stripe_id, subscription_stripe_id,
    amount_minor, currency, decline_code, decline_class, customer_tz, is_stripe_managed,
    state, attribution, close_reason, auto_retries, opened_at, last_failure_at,
    window_ends_at, closed_at, recovered_minor, updated_at)
SELECT i, ws, 'in_bench' || i, 'cus_bench' || i, 'sub_bench' || i,
       amount, currency, ({_CODE_ARRAY})[k], ({_CLASS_ARRAY})[k], 'UTC', false, state,
       CASE WHEN state = 'recovered'
            THEN (ARRAY['retry', 'card_update', 'customer_paid', 'stripe_retry'])[1 + a] END,
       CASE state WHEN 'recovered' THEN 'the invoice was paid'
                  WHEN 'lost' THEN 'the 30-day window ended'
                  WHEN 'abandoned' THEN 'the subscription was cancelled' END,
       1 + a, opened, opened, opened + interval '30 days',
       CASE WHEN state <> 'in_flight'
            THEN opened + least(interval '29 days', :t0 - opened) * r4 END,
       CASE WHEN state = 'recovered' THEN amount ELSE 0 END, opened
FROM (
    SELECT i, ws, opened, amount, currency, k, a, r4,
           CASE WHEN opened > :t0 - interval '30 days'
                     AND r1 < 0.2 * extract(epoch FROM opened - (:t0 - interval '30 days'))
                              / (30 * 86400)
                THEN 'in_flight'
                WHEN r2 < 0.55 THEN 'recovered' WHEN r2 < 0.93 THEN 'lost'
                ELSE 'abandoned' END AS state
    FROM (
        SELECT i, {_WS} AS ws,
               :t0 - interval '{SPAN_DAYS} days' + make_interval(secs => i * :step) AS opened,
               (9 + floor(random() * 10)::int * 10) * 100 AS amount,
               CASE WHEN i % {EVERY} <> 0 AND random() < 0.15 THEN 'eur' ELSE 'usd' END
                   AS currency,
               1 + floor(power(random(), 2) * 12)::int AS k, floor(random() * 4)::int AS a,
               random() AS r1, random() AS r2, random() AS r4
        FROM generate_series(1, :n) AS i
    ) AS drawn
) AS s
"""  # noqa: S608 - constants only; values are bound
_REASONS = (
    "ARRAY['too_expensive', 'missing_feature', 'not_using', 'switched', 'technical', 'other']"
)
_SESSIONS = f"""
INSERT INTO retain_session (
    id, workspace_id, token_hash, customer_stripe_id, subscription_stripe_id, customer_name,
    is_simulation, plan_name, amount_minor, currency, interval, interval_count, mrr_minor,
    period_end, created_at, expires_at, opened_at, current_step, steps_seen, reason_key,
    reason_label, offers_shown, outcome, outcome_at, cancelled_by, ends_at)
SELECT i, ws, md5('bench-token-' || i), 'cus_bs' || i, 'sub_bs' || i, 'Customer ' || i,
       false, 'Pro', amount, currency, 'month', 1, amount,
       created + r5 * interval '30 days', created, created + interval '1 day', created,
       'survey', '["survey"]', reason, initcap(replace(reason, '_', ' ')), '[]', outcome,
       CASE WHEN outcome = 'abandoned' THEN created + interval '1 day'
            WHEN outcome IS NOT NULL THEN created + r3 * interval '10 minutes' END,
       CASE WHEN outcome = 'cancelled' THEN 'flow' END,
       CASE WHEN outcome = 'cancelled' THEN created + r5 * interval '30 days' END
FROM (
    SELECT i, ws, created, amount, currency, reason, r3, r5,
           CASE WHEN created > :t0 - interval '1 day' AND (r1 < 0.3 OR r2 >= 0.9) THEN NULL
                WHEN r2 < 0.25 THEN 'saved' WHEN r2 < 0.9 THEN 'cancelled'
                ELSE 'abandoned' END AS outcome
    FROM (
        SELECT i, {_WS} AS ws,
               :t0 - interval '{SPAN_DAYS} days' + make_interval(secs => i * :step) AS created,
               (9 + floor(random() * 10)::int * 10) * 100 AS amount,
               CASE WHEN i % {EVERY} <> 0 AND random() < 0.15 THEN 'eur' ELSE 'usd' END
                   AS currency,
               ({_REASONS})[1 + floor(random() * 6)::int] AS reason,
               random() AS r1, random() AS r2, random() AS r3, random() AS r5
        FROM generate_series(1, :n) AS i
    ) AS drawn
) AS s
"""  # noqa: S608 - constants only; values are bound
_WINBACKS = f"""
INSERT INTO winback_campaign (
    id, workspace_id, customer_stripe_id, subscription_stripe_id, email, customer_name, kind,
    reason, reason_detail, plan_name, quantity, amount_minor, currency, interval,
    interval_count, mrr_minor, customer_tz, ended_at, state, close_reason, closed_at,
    touches_sent, won_via, regained_mrr_minor, regained_currency, created_at)
SELECT i, ws, 'cus_wb' || i, 'sub_wb' || i, 'customer' || i || '@example.com',
       'Customer ' || i, kind, reason, 'the cancel flow''s answer', 'Pro', 1, amount, currency,
       'month', 1, amount, 'UTC', ended, state,
       CASE WHEN state NOT IN ('active') THEN 'campaign ' || state END,
       CASE WHEN state IN ('won', 'returned', 'stopped')
                THEN ended + least(interval '58 days', :t0 - ended) * r3
            WHEN state = 'ended' THEN ended + interval '58 days' END,
       CASE WHEN state = 'active' THEN 1 ELSE 2 END,
       CASE WHEN state = 'won' THEN 'link' END,
       CASE WHEN state IN ('won', 'returned') THEN amount ELSE 0 END,
       CASE WHEN state IN ('won', 'returned') THEN currency END, ended
FROM (
    SELECT i, ws, ended, amount, currency, reason, kind, r3,
           CASE WHEN r2 < 0.10 THEN 'won' WHEN r2 < 0.15 THEN 'returned'
                WHEN r2 < 0.18 THEN 'stopped'
                WHEN ended > :t0 - interval '58 days' THEN 'active' ELSE 'ended' END AS state
    FROM (
        SELECT i, {_WS} AS ws,
               :t0 - interval '{SPAN_DAYS} days' + make_interval(secs => i * :step) AS ended,
               (9 + floor(random() * 10)::int * 10) * 100 AS amount,
               CASE WHEN i % {EVERY} <> 0 AND random() < 0.15 THEN 'eur' ELSE 'usd' END
                   AS currency,
               (ARRAY['too_expensive', 'missing_feature', 'not_using', 'switched', 'other'])
                   [1 + floor(random() * 5)::int] AS reason,
               CASE WHEN random() < 0.75 THEN 'voluntary' ELSE 'involuntary' END AS kind,
               random() AS r2, random() AS r3
        FROM generate_series(1, :n) AS i
    ) AS drawn
) AS s
"""  # noqa: S608 - constants only; values are bound
# What each service emits (recovery.closing.campaign_facts and close, retain.outcomes.
# session_facts, winback.campaigns.facts and close, insights.churn), ordered by time so
# that ids and the heap follow created_at as they do in a live table.
_FACTS = """'campaign_id', id, 'invoice', invoice_stripe_id, 'customer', customer_stripe_id,
    'subscription', subscription_stripe_id, 'amount_minor', amount_minor,
    'currency', currency, 'decline_class', decline_class, 'decline_code', decline_code"""
_EVENTS = f"""
INSERT INTO domain_event (workspace_id, name, subject, data, occurred_at, created_at, status,
                          due_at, attempts, dispatched_at)
SELECT workspace_id, name, subject, data, at, at, 'done', at, 1, at
FROM (
    SELECT workspace_id, 'recovery.campaign.started' AS name, 'campaign:' || id AS subject,
           json_build_object({_FACTS}) AS data, opened_at AS at
    FROM recovery_campaign
    UNION ALL
    SELECT workspace_id, 'recovery.campaign.' || state, 'campaign:' || id,
           json_build_object({_FACTS}, 'reason', close_reason, 'attribution', attribution,
                             'recovered_minor', recovered_minor), closed_at
    FROM recovery_campaign WHERE state <> 'in_flight'
    UNION ALL
    SELECT workspace_id, 'dunning.email.sent', 'campaign:' || id,
           json_build_object('campaign_id', id, 'touch', 'd0'),
           opened_at + interval '10 hours'
    FROM recovery_campaign
    WHERE opened_at + interval '10 hours' <= coalesce(closed_at, :t0)
    UNION ALL
    SELECT workspace_id, 'recovery.attempt.failed', 'campaign:' || id,
           json_build_object('campaign_id', id, 'invoice', invoice_stripe_id,
                             'decline_code', decline_code),
           opened_at + interval '3 days'
    FROM recovery_campaign
    WHERE id % 3 = 0 AND opened_at + interval '3 days' <= coalesce(closed_at, :t0)
    UNION ALL
    SELECT workspace_id, 'subscription.ended', 'subscription:' || subscription_stripe_id,
           json_build_object('subscription', subscription_stripe_id,
                             'customer', customer_stripe_id, 'kind', 'involuntary',
                             'reason', 'payment_failed', 'mrr_minor', amount_minor,
                             'currency', currency), closed_at
    FROM recovery_campaign WHERE state = 'lost'
    UNION ALL
    SELECT workspace_id, 'cancel.session.' || outcome, 'retain_session:' || id,
           json_build_object('session_id', id, 'customer', customer_stripe_id,
                             'subscription', subscription_stripe_id, 'flow_id', NULL,
                             'version_id', NULL, 'outcome', outcome, 'reason', reason_key,
                             'offer', NULL, 'mrr_minor', mrr_minor, 'currency', currency,
                             'cancelled_by', cancelled_by, 'ends_at', ends_at),
           outcome_at
    FROM retain_session WHERE outcome IS NOT NULL
    UNION ALL
    SELECT workspace_id, 'subscription.ended', 'subscription:' || subscription_stripe_id,
           json_build_object('subscription', subscription_stripe_id,
                             'customer', customer_stripe_id, 'kind', 'voluntary',
                             'reason', reason_key, 'mrr_minor', mrr_minor,
                             'currency', currency), ends_at
    FROM retain_session WHERE outcome = 'cancelled' AND ends_at <= :t0
    UNION ALL
    SELECT workspace_id, 'winback.campaign.started', 'winback_campaign:' || id,
           json_build_object('campaign_id', id, 'customer', customer_stripe_id,
                             'subscription', subscription_stripe_id, 'kind', kind,
                             'reason', reason, 'mrr_minor', mrr_minor, 'currency', currency),
           ended_at
    FROM winback_campaign
    UNION ALL
    SELECT workspace_id,
           'winback.' || CASE state WHEN 'won' THEN 'reactivated' ELSE state END,
           'winback_campaign:' || id,
           json_build_object('campaign_id', id, 'customer', customer_stripe_id,
                             'subscription', subscription_stripe_id, 'kind', kind,
                             'reason', reason, 'mrr_minor', mrr_minor, 'currency', currency,
                             'reason_closed', close_reason, 'won_via', won_via,
                             'regained_mrr_minor', regained_mrr_minor,
                             'regained_currency', regained_currency,
                             'new_subscription', NULL),
           closed_at
    FROM winback_campaign WHERE state <> 'active' AND closed_at <= :t0
) AS e
ORDER BY at
"""  # noqa: S608 - constants only; values are bound
# rollups.contributions in SQL: metric, key, currency and amount per counted event
# (a started campaign counts twice: per decline class and per decline code).
_TEXT = "coalesce({}, '')"
_ROLLUPS = f"""
INSERT INTO insight_daily (workspace_id, day, metric, key, currency, count, amount_minor)
SELECT workspace_id, day, metric, key, currency, count(*), sum(amount)
FROM (
    SELECT e.workspace_id, (e.occurred_at AT TIME ZONE w.timezone)::date AS day,
           CASE WHEN c.code THEN 'failed_code' ELSE m.metric END AS metric,
           left({
    _TEXT.format('''CASE
               WHEN c.code THEN e.data ->> 'decline_code'
               WHEN m.metric IN ('failed', 'lost', 'abandoned') THEN e.data ->> 'decline_class'
               WHEN m.metric = 'recovered' THEN e.data ->> 'attribution'
               WHEN m.metric = 'churned' THEN e.data ->> 'kind'
               ELSE e.data ->> 'reason' END''')
}, 64) AS key,
           lower(left({
    _TEXT.format('''CASE
               WHEN m.metric IN ('won_back', 'returned')
               THEN coalesce(nullif(e.data ->> 'regained_currency', ''), e.data ->> 'currency')
               ELSE e.data ->> 'currency' END''')
}, 3)) AS currency,
           coalesce((CASE
               WHEN m.metric = 'recovered' THEN e.data ->> 'recovered_minor'
               WHEN m.metric IN ('failed', 'lost', 'abandoned') THEN e.data ->> 'amount_minor'
               WHEN m.metric IN ('won_back', 'returned') THEN e.data ->> 'regained_mrr_minor'
               ELSE e.data ->> 'mrr_minor' END)::bigint, 0) AS amount
    FROM domain_event AS e
    JOIN workspace AS w ON w.id = e.workspace_id
    JOIN (VALUES {{metrics}}) AS m (name, metric) ON m.name = e.name
    JOIN (VALUES (false), (true)) AS c (code) ON NOT c.code OR m.metric = 'failed'
) AS contributions
GROUP BY workspace_id, day, metric, key, currency
"""  # noqa: S608 - constants only; values are bound
_SEQUENCES = """
SELECT setval(pg_get_serial_sequence('workspace', 'id'), :workspaces),
       setval(pg_get_serial_sequence('recovery_campaign', 'id'), :campaigns),
       setval(pg_get_serial_sequence('retain_session', 'id'), :sessions),
       setval(pg_get_serial_sequence('winback_campaign', 'id'), :winbacks)
"""


def make_app() -> Any:
    from app import create_app

    return create_app(
        {
            "env": "development",
            "log_level": "WARNING",
            "database_url": PG_URL,
            "broker_url": "memory://localhost/",
            "task_always_eager": False,
        }
    )


def load(flask_app: Any, t0: dt.datetime) -> None:
    """Create the tables and fill them; prints what each step took."""
    from sqlalchemy import text

    from app.events.models import DomainEvent
    from app.extensions import db
    from app.insights.models import InsightDaily
    from app.insights.rollups import METRICS
    from app.recovery.models import Campaign
    from app.retain.models import CancelSession
    from app.winback.models import WinbackCampaign

    models = (Campaign, CancelSession, WinbackCampaign, DomainEvent, InsightDaily)
    metrics = ", ".join(f"('{name}', '{metric}')" for name, metric in METRICS.items())
    span = SPAN_DAYS * 86400
    steps = [
        ("workspaces", _WORKSPACES, {}),
        ("recovery campaigns", _CAMPAIGNS, {"n": CAMPAIGNS, "step": span / CAMPAIGNS}),
        ("cancel sessions", _SESSIONS, {"n": SESSIONS, "step": span / SESSIONS}),
        ("win-back campaigns", _WINBACKS, {"n": WINBACKS, "step": span / WINBACKS}),
        ("domain events", _EVENTS, {}),
        ("insight_daily from the events", _ROLLUPS.replace("{metrics}", metrics), {}),
        ("sequences", _SEQUENCES, {}),
    ]
    common = {
        "t0": t0,
        "small": SMALL_WORKSPACES,
        "workspaces": 1 + SMALL_WORKSPACES,
        "campaigns": CAMPAIGNS,
        "sessions": SESSIONS,
        "winbacks": WINBACKS,
    }
    began = time.perf_counter()
    with flask_app.app_context():
        db.create_all()
        indexes = [index for model in models for index in model.__table__.indexes]
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("SET LOCAL work_mem = '512MB'"))
            conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            conn.execute(text("SELECT setseed(0.16)"))
            for index in indexes:
                index.drop(conn)
            for title, sql, params in steps:
                started = time.perf_counter()
                n = conn.execute(text(sql), {**common, **params}).rowcount
                print(f"    {title}: {n} rows in {time.perf_counter() - started:.1f} s", flush=True)
            started = time.perf_counter()
            for index in indexes:
                index.create(conn)
            print(
                f"    {len(indexes)} indexes built in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            conn.execute(text("CREATE TABLE bench_insights_t0 (t0 timestamptz)"))
            conn.execute(text("INSERT INTO bench_insights_t0 VALUES (:t0)"), {"t0": t0})
        started = time.perf_counter()
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("VACUUM ANALYZE"))
        print(f"    VACUUM ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"loaded in {time.perf_counter() - began:.1f} s", flush=True)


def loaded_t0(flask_app: Any) -> dt.datetime | None:
    """The t0 of the data a previous run loaded, if it finished loading."""
    from sqlalchemy import text

    from app.extensions import db

    with flask_app.app_context(), db.engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass('bench_insights_t0')")).scalar()
        if exists is None:
            return None
        return conn.execute(text("SELECT t0 FROM bench_insights_t0")).scalar()


def describe(flask_app: Any, t0: dt.datetime) -> None:
    """What is stored, per table and for workspace 1; stops if the rollups of a small
    workspace differ from ``rollups.from_scratch`` over its events."""
    from sqlalchemy import select, text

    from app.events.models import DomainEvent
    from app.extensions import db
    from app.insights import rollups

    with flask_app.app_context():
        conn = db.session.connection()
        count = (
            "SELECT count(*), count(*) FILTER (WHERE workspace_id = :ws), "
            "pg_size_pretty(pg_total_relation_size(:table)) FROM {}"
        )
        sizes = {
            table: conn.execute(text(count.format(table)), {"ws": BIG, "table": table}).one()
            for table in (*BIG_TABLES, "insight_daily")
        }
        for table, (n, big, size) in sizes.items():
            print(f"    {table}: {n} rows, {big} of workspace {BIG} ({size} with indexes)")
        in_flight = conn.execute(
            text(
                "SELECT count(*) FROM recovery_campaign WHERE workspace_id = :ws "
                "AND state = 'in_flight'"
            ),
            {"ws": BIG},
        ).scalar()
        names = conn.execute(
            text(
                "SELECT name, count(*) FROM domain_event WHERE workspace_id = :ws "
                "GROUP BY name ORDER BY 2 DESC"
            ),
            {"ws": BIG},
        ).all()
        print(f"    workspace {BIG}: {in_flight} campaigns in flight; events: ", end="")
        print(", ".join(f"{name} {n}" for name, n in names))
        tz = conn.execute(
            text("SELECT timezone FROM workspace WHERE id = :ws"), {"ws": SMALL}
        ).scalar_one()
        events = db.session.execute(
            select(DomainEvent.name, DomainEvent.data, DomainEvent.occurred_at).where(
                DomainEvent.workspace_id == SMALL
            )
        ).all()
        expected = rollups.from_scratch(((e.name, e.data, e.occurred_at) for e in events), tz)
        stored = rollups.stored(db.session, SMALL)
        db.session.remove()
    if stored != expected:
        differ = sorted(set(stored.items()) ^ set(expected.items()))[:5]
        raise SystemExit(f"the SQL rollups differ from rollups.from_scratch: {differ}")
    print(
        f"    workspace {SMALL}: its {len(stored)} rollup rows equal rollups.from_scratch over "
        f"its {len(events)} events"
    )


# -- the timing -------------------------------------------------------------------------------


def calls(t0: dt.datetime) -> dict[str, Callable[[Any], Any]]:
    """Each timed call, given the session."""
    from sqlalchemy import text

    from app.insights import figures, lifetime

    big_today = figures.today_for("Europe/Berlin", t0)
    small_today = figures.today_for("UTC", t0)

    def page(ws: int, today: dt.date) -> Callable[[Any], Any]:
        def view(s: Any) -> Any:
            days = figures.PERIODS[figures.DEFAULT_PERIOD]
            return (
                figures.read(s, ws, days=days, today=today),
                figures.at_risk(s, ws),
                figures.activity(s, ws),
                figures.churn_by_month(s, ws, today=today),
                lifetime.of_workspace(s, ws),
            )

        return view

    def read(days: int) -> Callable[[Any], Any]:
        return lambda s: figures.read(s, BIG, days=days, today=big_today)

    return {
        "SELECT 1": lambda s: s.execute(text("SELECT 1")).scalar_one(),
        "read 7 days": read(7),
        "read 30 days": read(30),
        "read 90 days": read(90),
        "read 365 days": read(365),
        "at_risk": lambda s: figures.at_risk(s, BIG),
        "activity": lambda s: figures.activity(s, BIG),
        "churn_by_month": lambda s: figures.churn_by_month(s, BIG, today=big_today),
        "ltv (stored estimate)": lambda s: lifetime.of_workspace(s, BIG),
        "page view": page(BIG, big_today),
        f"page view, workspace {SMALL}": page(SMALL, small_today),
    }


def time_calls(
    flask_app: Any, timed: dict[str, Callable[[Any], Any]], rounds: int
) -> dict[str, list[float]]:
    """Milliseconds per call, each in its own transaction, the session removed after."""
    from app.extensions import db

    samples: dict[str, list[float]] = {name: [] for name in timed}
    names = list(timed)
    with flask_app.app_context():
        for n in range(WARMUP + rounds):
            shift = n % len(names)
            for name in names[shift:] + names[:shift]:
                began = time.perf_counter()
                timed[name](db.session)
                db.session.remove()
                elapsed = (time.perf_counter() - began) * 1000
                if n >= WARMUP:
                    samples[name].append(elapsed)
    return samples


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


# -- the plans --------------------------------------------------------------------------------


def plans(flask_app: Any, timed: dict[str, Callable[[Any], Any]]) -> tuple[list[str], list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each distinct statement the calls run; the plan
    lines, and the findings (sequential scans, rows removed by filters)."""
    from sqlalchemy import event

    from app.extensions import db

    out: list[str] = []
    findings: list[str] = []
    with flask_app.app_context():
        engine = db.engine
        seen: set[tuple[str, str]] = set()
        for name, call in timed.items():
            if name == "SELECT 1" or name == "page view":  # the page view's are the others'
                continue
            statements: list[tuple[str, Any]] = []

            def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
                statements.append((statement, parameters))  # noqa: B023 - used at once

            event.listen(engine, "before_cursor_execute", record)
            try:
                call(db.session)
            finally:
                event.remove(engine, "before_cursor_execute", record)
                db.session.remove()
            with engine.connect() as conn:
                for statement, parameters in statements:
                    key = (statement, repr(parameters))
                    if key in seen:
                        continue
                    seen.add(key)
                    flat = " ".join(statement.split())
                    out.append(f"-- {name}: {flat}")
                    out.append(f"-- parameters: {parameters}")
                    rows = conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                    ).all()
                    lines = [row[0] for row in rows]
                    out.extend(lines)
                    for line in lines:
                        scan = re.search(r"Seq Scan on (\w+)", line)
                        if scan:
                            big = scan.group(1) in (*BIG_TABLES, "insight_daily")
                            findings.append(
                                f"{name}: sequential scan of {scan.group(1)}"
                                + (" (a big table)" if big else "")
                            )
                        removed = re.search(r"Rows Removed by Filter: (\d+)", line)
                        if removed and int(removed.group(1)) > 1000:
                            findings.append(
                                f"{name}: {removed.group(1)} rows read and removed by a filter"
                            )
                    total = next((ln for ln in lines if ln.startswith("Execution Time")), "")
                    top = lines[0].split("  (cost")[0].strip()
                    used = re.findall(r"(?:using|Index Scan on) (\w+)", " ".join(lines))
                    index = ", ".join(sorted(set(used)))
                    findings.append(f"{name}: {top} via {index or 'no index'}; {total}")
    return out, findings


# -- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--reuse", action="store_true", help="keep the last run's data if there")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not reachable(PG_URL, 5432):
        raise SystemExit(f"PostgreSQL is not reachable at {PG_URL}")
    from app.extensions import db

    began = time.perf_counter()
    t0 = None
    if args.reuse:
        flask_app = make_app()
        t0 = loaded_t0(flask_app)
        with flask_app.app_context():
            db.engine.dispose()
    if t0 is None:
        fresh_database(PG_URL)
        flask_app = make_app()
        t0 = dt.datetime.now(dt.UTC)
        print(f"loading the two years before {t0:%Y-%m-%d %H:%M} UTC", flush=True)
        load(flask_app, t0)
    else:
        print(f"reusing the data loaded for {t0:%Y-%m-%d %H:%M} UTC", flush=True)
    describe(flask_app, t0)

    timed = calls(t0)
    print(
        f"timing {len(timed)} calls: {WARMUP} warm-up rounds, then {args.rounds} rounds "
        f"(load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    samples = time_calls(flask_app, timed, args.rounds)
    base = p95(samples["SELECT 1"])
    ok = True
    print(f"{'call':<28} {'p50 ms':>8} {'p95 ms':>8} {'p95 / SELECT 1':>15}   aim p95 < 100 ms")
    for name, values in samples.items():
        high = p95(values)
        verdict = ""
        if name != "SELECT 1":
            verdict = "PASS" if high < AIM_MS else "FAIL"
            ok = ok and high < AIM_MS
        print(
            f"{name:<28} {statistics.median(values):>8.2f} {high:>8.2f} {high / base:>15.1f}"
            f"   {verdict}"
        )

    plan, findings = plans(flask_app, timed)
    scans = [f for f in findings if "sequential scan" in f and "big table" in f]
    print("findings from EXPLAIN (ANALYZE, BUFFERS):")
    for line in findings:
        print("    " + line)
    print(
        "no sequential scan of a big table"
        if not scans
        else f"{len(scans)} sequential scans of a big table"
    )
    print("the plans:")
    for line in plan:
        print("    " + line)
    with flask_app.app_context():
        db.engine.dispose()
    print(f"total {time.perf_counter() - began:.0f} s; {'PASS' if ok and not scans else 'FAIL'}")
    return 0 if ok and not scans else 1


if __name__ == "__main__":
    sys.exit(main())

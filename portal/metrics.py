"""Prometheus metrics at ``/metrics``, closed to the public (``METRICS_TOKEN`` as a bearer
token, or client addresses in ``METRICS_ALLOW_FROM``).

Request latency is a process metric; with several gunicorn workers set
``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, before start) and every worker's numbers
are summed. Job durations and outcomes are counted in Redis (jobs run in RQ's forked work
horses, on other machines), or in this process in the embedded default. Outbox lag, queue
depth, failed jobs and failed deliveries are read from the database and Redis at scrape
time, so every process answers the same.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import os
import threading
from collections import defaultdict

from flask import Flask, Response, abort, current_app, has_app_context, request
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

log = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "closeloop_http_request_duration_seconds", "Time to answer a request, by route endpoint.",
    ["endpoint", "method", "status"],
)
JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, math.inf)


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(endpoint, method, str(status)).observe(seconds)


# -- job counts: in Redis when there is one, else in this process --------------------------

_local: dict[str, float] = defaultdict(float)
_local_lock = threading.Lock()


def _jobs_key() -> str:
    return f"closeloop:metrics:{current_app.config.get('RQ_QUEUE_PREFIX') or ''}jobs"


def _job_fields(name: str, seconds: float, outcome: str) -> dict[str, float]:
    bucket = next(le for le in JOB_BUCKETS if seconds <= le)
    return {f"count|{name}|{outcome}": 1, f"sum|{name}": seconds, f"bucket|{name}|{bucket}": 1}


def record_job(name: str, seconds: float, outcome: str) -> None:
    """Count one finished job. Never raises: metrics must not fail a job."""
    fields = _job_fields(name, seconds, outcome)
    try:
        from .queueing import redis_connection

        redis = redis_connection() if has_app_context() else None
        if redis is not None:
            pipe = redis.pipeline(transaction=False)
            for field, value in fields.items():
                pipe.hincrbyfloat(_jobs_key(), field, value)
            pipe.execute()
            return
    except Exception as exc:  # noqa: BLE001
        log.warning("job metrics not recorded: %r", exc)
        return
    with _local_lock:
        for field, value in fields.items():
            _local[field] += value


def _job_counts() -> dict[str, float]:
    from .queueing import redis_connection

    redis = redis_connection()
    if redis is None:
        with _local_lock:
            return dict(_local)
    return {k.decode(): float(v) for k, v in redis.hgetall(_jobs_key()).items()}


def _job_families(counts: dict[str, float]):
    total = CounterMetricFamily("closeloop_jobs", "Finished jobs by job and outcome.",
                                labels=["job", "outcome"])
    durations = HistogramMetricFamily("closeloop_job_duration_seconds",
                                      "Time a job took, by job.", labels=["job"])
    per_job: dict[str, dict[float, float]] = defaultdict(dict)
    for field, value in sorted(counts.items()):
        kind, _, rest = field.partition("|")
        if kind == "count":
            name, _, outcome = rest.rpartition("|")
            total.add_metric([name, outcome], value)
        elif kind == "bucket":
            name, _, le = rest.rpartition("|")
            per_job[name][float(le)] = value
    for name, buckets in sorted(per_job.items()):
        running, cumulative = 0.0, []
        for le in JOB_BUCKETS:
            running += buckets.get(le, 0.0)
            cumulative.append(("+Inf" if le == math.inf else str(le), running))
        durations.add_metric([name], cumulative, sum_value=counts.get(f"sum|{name}", 0.0))
    return [total, durations]


# -- read at scrape time -------------------------------------------------------------------

class StateCollector:
    """Gauges read from the database and Redis when Prometheus scrapes."""

    def collect(self):
        for part in (self._outbox, self._queues, self._deliveries):
            try:
                yield from part()
            except Exception as exc:  # noqa: BLE001 — one broken source must not hide the rest
                log.warning("metrics: %s failed: %r", part.__name__, exc)
        try:
            yield from _job_families(_job_counts())
        except Exception as exc:  # noqa: BLE001
            log.warning("metrics: job counts failed: %r", exc)

    def _outbox(self):
        from sqlalchemy import func, or_, select

        from .extensions import db
        from .models import OutboxMessage, utcnow
        from .tenancy import unscoped

        now = utcnow()
        due = (OutboxMessage.relayed_at.is_(None),
               or_(OutboxMessage.run_at.is_(None), OutboxMessage.run_at <= now))
        with unscoped():
            pending, oldest = db.session.execute(
                select(func.count(), func.min(func.coalesce(OutboxMessage.run_at,
                                                            OutboxMessage.created_at)))
                .where(*due)).one()
        if oldest is not None and oldest.tzinfo is None:
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        yield GaugeMetricFamily("closeloop_outbox_pending",
                                "Outbox messages due and not yet relayed to the queue.",
                                value=pending)
        yield GaugeMetricFamily("closeloop_outbox_lag_seconds",
                                "Age of the oldest due outbox message not yet relayed.",
                                value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)

    def _queues(self):
        from .queueing import queue_name, redis_connection

        redis = redis_connection()
        if redis is None:
            return
        from rq import Queue
        from rq.registry import FailedJobRegistry

        depth = GaugeMetricFamily("closeloop_queue_depth", "Jobs waiting in each RQ queue.",
                                  labels=["queue"])
        failed = GaugeMetricFamily("closeloop_queue_failed_jobs",
                                   "Jobs in each queue's failed registry (retries exhausted).",
                                   labels=["queue"])
        for name in current_app.config["RQ_QUEUES"]:
            queue = Queue(queue_name(name), connection=redis)
            depth.add_metric([name], queue.count)
            failed.add_metric([name], FailedJobRegistry(queue=queue).count)
        yield depth
        yield failed

    def _deliveries(self):
        from sqlalchemy import func, select

        from .extensions import db
        from .models import Delivery
        from .tenancy import unscoped

        family = GaugeMetricFamily("closeloop_deliveries_failed",
                                   "Notification sends that failed (e-mail, robots), by channel.",
                                   labels=["channel"])
        with unscoped():
            rows = db.session.execute(select(Delivery.channel, func.count())
                                      .where(Delivery.status == "failed")
                                      .group_by(Delivery.channel)).all()
        for channel, count in rows:
            family.add_metric([channel], count)
        yield family


# -- the endpoint --------------------------------------------------------------------------

def allowed() -> bool:
    """A scrape is allowed with the bearer token, or from an address in METRICS_ALLOW_FROM
    (the client address after PROXY_HOPS is applied)."""
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(
            given[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    for entry in current_app.config.get("METRICS_ALLOW_FROM") or []:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def metrics_view():
    if not allowed():
        abort(403)
    base = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    body = generate_latest(base) + generate_latest(state)
    response = Response(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])


# -- gunicorn hooks for multiprocess mode (name them in gunicorn.conf.py) --------------------

def on_starting(server) -> None:
    """gunicorn ``on_starting``: empty PROMETHEUS_MULTIPROC_DIR before any worker writes, so
    the last run's files (and pids) are not summed in."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def child_exit(server, worker) -> None:
    """gunicorn ``child_exit``: a dead worker's live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

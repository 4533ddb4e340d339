"""Commands that run or enqueue jobs: ``flask worker`` (an RQ worker with the outbox relay
beside it), ``flask clock`` (enqueues the deadline sweep every minute with RQ's cron
scheduler, rq >= 2.5 ``CronScheduler``; without Redis it sweeps in process on the same beat)
and ``flask sweep`` (one sweep now). Flask finds them through the ``flask.commands`` entry
points in pyproject.toml, so the core (portal/) never imports this package."""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)

SWEEP_QUEUE = "default"


@click.command("clock")
@click.option("--interval", default=60, show_default=True, help="Seconds between sweeps.")
@with_appcontext
def clock(interval: int) -> None:
    """Enqueue the deadline sweep every minute (RQ cron), or run it in process without Redis."""
    from portal.deadlines.sweep import run_every
    from portal.queueing import redis_connection

    connection = redis_connection()
    if connection is not None:
        from rq.cron import CronScheduler

        from .sweep import sweep

        scheduler = CronScheduler(connection=connection, name="closeloop-clock")
        scheduler.register(sweep, queue_name=SWEEP_QUEUE, interval=interval,
                           job_timeout=600, result_ttl=3600)
        click.echo(f"clock: enqueueing jobs.sweep.sweep every {interval} s on '{SWEEP_QUEUE}'")
        scheduler.start()
        return
    click.echo(f"clock: no REDIS_URL, sweeping in process every {interval} s")
    run_every(current_app._get_current_object(), interval)


@click.command("sweep")
@with_appcontext
def sweep_once() -> None:
    """Run the deadline sweep once now and print what it did."""
    from .sweep import sweep

    click.echo(json.dumps(sweep()))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@click.option("--queues", default=None, help="Comma-separated queue names.")
@click.option("--no-relay", is_flag=True, help="Do not run the outbox relay in this process.")
@with_appcontext
def worker(burst: bool, queues: str | None, no_relay: bool) -> None:
    """Run an RQ worker with the app's own settings, plus the outbox relay beside it."""
    from rq import Queue, Worker

    from portal.cli import run_relay_forever
    from portal.extensions import db
    from portal.queueing import queue_name, redis_connection

    app = current_app._get_current_object()
    connection = redis_connection()
    if connection is None:
        raise click.ClickException("REDIS_URL is not set: the embedded default runs jobs in "
                                   "process, so there is no worker to start.")
    names = queues.split(",") if queues else app.config["RQ_QUEUES"]
    stop = threading.Event()
    if not no_relay:
        from portal.queueing import relay_pending

        with app.app_context():
            relay_pending()  # move what is already waiting before the first dequeue
            db.session.remove()
        threading.Thread(target=run_relay_forever, args=(app, 1.0, stop), daemon=True).start()
    # A forked work horse must not reuse the parent's pooled database connections.
    engine = db.engine
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    config = app.config
    grace = int(config.get("RQ_HEARTBEAT_GRACE", 60))

    class ClosingLoopWorker(Worker):
        # RQ adds a fixed 60 s to every heartbeat; a configurable grace lets tests see a
        # killed worker's job abandoned (and retried) in seconds rather than minutes.
        def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
            return super().get_heartbeat_ttl(job, working_time) - 60 + grace

    try:
        ClosingLoopWorker(
            [Queue(queue_name(n), connection=connection) for n in names], connection=connection,
            worker_ttl=int(config.get("RQ_WORKER_TTL", 420)),
            job_monitoring_interval=int(config.get("RQ_JOB_MONITORING_INTERVAL", 30)),
            maintenance_interval=int(config.get("RQ_MAINTENANCE_INTERVAL", 600)),
        ).work(burst=burst, with_scheduler=True)
    finally:
        stop.set()
        time.sleep(0)

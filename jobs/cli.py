"""Commands that run or enqueue jobs: ``flask worker`` (an RQ worker with the outbox relay
beside it), ``flask clock`` (enqueues the deadline sweep every minute with RQ's cron
scheduler, rq >= 2.5 ``CronScheduler``, with hourly housekeeping and the mailbox polls; without
Redis it runs them in process on the same beat)
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
MEETING_PACK_INTERVAL = 900  # jobs.meeting_pack.due: claims each tenant's pack on its first working day
HOUSEKEEPING_INTERVAL = 3600  # jobs.housekeeping: orphaned staged uploads, old sign-in failures


@click.command("clock")
@click.option("--interval", default=60, show_default=True, help="Seconds between sweeps.")
@with_appcontext
def clock(interval: int) -> None:
    """Enqueue the deadline sweep every minute, housekeeping every hour and the polls of
    connected mailboxes (RQ cron), or run them in process without Redis."""
    from portal.queueing import queue_name, redis_connection

    app = current_app._get_current_object()
    _require_complete(app)
    connection = redis_connection()
    if connection is None:
        click.echo(f"clock: no REDIS_URL, sweeping in process every {interval} s")
        run_in_process(app, interval)
        return
    from rq.cron import CronScheduler

    from .analytics import INTERVAL as ANALYTICS_INTERVAL
    from .analytics import refresh_loop_figures
    from .housekeeping import hourly
    from .mailboxes import poll_all
    from .meeting_pack import due as meeting_packs_due
    from .sweep import sweep

    scheduler = CronScheduler(connection=connection, name="closeloop-clock")
    queue = queue_name(SWEEP_QUEUE)  # with RQ_QUEUE_PREFIX, where the workers listen
    scheduler.register(sweep, queue_name=queue, interval=interval, job_timeout=600,
                       result_ttl=3600)
    scheduler.register(hourly, queue_name=queue, interval=HOUSEKEEPING_INTERVAL,
                       job_timeout=1800, result_ttl=3600)
    scheduler.register(poll_all, queue_name=queue,
                       interval=app.config["MAIL_INTAKE_INTERVAL"], result_ttl=3600)
    scheduler.register(meeting_packs_due, queue_name=queue, interval=MEETING_PACK_INTERVAL,
                       job_timeout=600, result_ttl=3600)
    scheduler.register(refresh_loop_figures, queue_name=queue, interval=ANALYTICS_INTERVAL,
                       job_timeout=1800, result_ttl=3600)
    click.echo(f"clock: enqueueing jobs.sweep.sweep every {interval} s, "
               f"jobs.housekeeping.hourly every {HOUSEKEEPING_INTERVAL} s, the mailbox polls "
               f"the monthly meeting packs and the analytics loop figures on '{queue}'")
    scheduler.start()


def run_in_process(app, interval: float, stop: threading.Event | None = None) -> None:
    """The clock without Redis: the sweep on every beat, housekeeping hourly, mailbox polls on
    their own beat; a failed pass is logged and the next beat tries again."""
    from .analytics import INTERVAL as ANALYTICS_INTERVAL
    from .analytics import refresh_loop_figures
    from .housekeeping import hourly
    from .mailboxes import poll_all
    from .meeting_pack import due as meeting_packs_due
    from .sweep import sweep

    stop = stop or threading.Event()
    next_poll, last_housekeeping, next_figures = 0.0, time.monotonic(), 0.0
    while not stop.is_set():
        with app.app_context():
            try:
                log.info("sweep: %s", sweep())
                log.info("meeting packs: %s", meeting_packs_due())
                if time.monotonic() >= next_figures:
                    next_figures = time.monotonic() + ANALYTICS_INTERVAL
                    log.info("analytics loop figures: %s", refresh_loop_figures())
                if time.monotonic() - last_housekeeping >= HOUSEKEEPING_INTERVAL:
                    last_housekeeping = time.monotonic()
                    log.info("housekeeping: %s", hourly())
            except Exception as exc:  # noqa: BLE001 — the next beat tries again
                log.warning("sweep failed: %r", exc)
            if time.monotonic() >= next_poll:  # e-mail intake, on its own beat
                next_poll = time.monotonic() + app.config["MAIL_INTAKE_INTERVAL"]
                try:
                    poll_all()
                except Exception as exc:  # noqa: BLE001
                    log.warning("mailbox poll failed: %r", exc)
        stop.wait(interval)


def _require_complete(app) -> None:
    """Production refuses a half configuration (no Redis or no bucket) unless told it is one
    machine on purpose (portal.config.require_complete)."""
    from portal import config

    try:
        config.require_complete(app.config)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


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
    from rq import Queue

    from portal.cli import run_relay_forever
    from portal.extensions import db
    from portal.queueing import queue_name, redis_connection

    from .workers import worker_class

    app = current_app._get_current_object()
    _require_complete(app)
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
    try:
        worker_class(config)(
            [Queue(queue_name(n), connection=connection) for n in names], connection=connection,
            worker_ttl=int(config.get("RQ_WORKER_TTL", 420)),
            job_monitoring_interval=int(config.get("RQ_JOB_MONITORING_INTERVAL", 10)),
            maintenance_interval=int(config.get("RQ_MAINTENANCE_INTERVAL", 15)),
        ).work(burst=burst, with_scheduler=True)
    finally:
        stop.set()
        time.sleep(0)

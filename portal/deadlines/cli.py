"""The clock process: ``flask --app portal clock`` enqueues the deadline sweep every minute
with RQ's cron scheduler (rq >= 2.5 ``CronScheduler``); without Redis (the embedded default)
it runs the sweep in process on the same beat. ``flask --app portal sweep`` runs it once."""

from __future__ import annotations

import json
import logging
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)

SWEEP_QUEUE = "default"
MEETING_PACK_INTERVAL = 900


@click.command("clock")
@click.option("--interval", default=60, show_default=True, help="Seconds between sweeps.")
@with_appcontext
def clock(interval: int) -> None:
    """Enqueue the deadline sweep every minute (RQ cron), or run it in process without Redis."""
    from portal.queueing import redis_connection

    connection = redis_connection()
    if connection is not None:
        from rq.cron import CronScheduler

        from jobs.meeting_pack import due as meeting_packs_due
        from jobs.sweep import sweep

        scheduler = CronScheduler(connection=connection, name="closeloop-clock")
        scheduler.register(sweep, queue_name=SWEEP_QUEUE, interval=interval,
                           job_timeout=600, result_ttl=3600)
        # The monthly quality meeting packs: claimed on each tenant's first working day.
        scheduler.register(meeting_packs_due, queue_name=SWEEP_QUEUE,
                           interval=MEETING_PACK_INTERVAL, job_timeout=600, result_ttl=3600)
        click.echo(f"clock: enqueueing jobs.sweep.sweep every {interval} s on '{SWEEP_QUEUE}'")
        scheduler.start()
        return
    click.echo(f"clock: no REDIS_URL, sweeping in process every {interval} s")
    run_in_process(current_app._get_current_object(), interval)


def run_in_process(app, interval: float, stop: threading.Event | None = None) -> None:
    from jobs.meeting_pack import due as meeting_packs_due
    from jobs.sweep import sweep

    stop = stop or threading.Event()
    while not stop.is_set():
        with app.app_context():
            try:
                log.info("sweep: %s", sweep())
                log.info("meeting packs: %s", meeting_packs_due())
            except Exception as exc:  # noqa: BLE001 — the next beat tries again
                log.warning("sweep failed: %r", exc)
        stop.wait(interval)


@click.command("sweep")
@with_appcontext
def sweep_once() -> None:
    """Run the deadline sweep once now and print what it did."""
    from jobs.sweep import sweep

    click.echo(json.dumps(sweep()))


def register(app) -> None:
    app.cli.add_command(clock)
    app.cli.add_command(sweep_once)

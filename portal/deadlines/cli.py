"""The clock process: ``flask --app portal clock`` enqueues the deadline sweep every minute
with RQ's cron scheduler (rq >= 2.5 ``CronScheduler``); without Redis (the embedded default)
it runs the sweep in process on the same beat. ``flask --app portal sweep`` runs it once."""

from __future__ import annotations

import json
import logging
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
    from portal import config
    from portal.queueing import queue_name, redis_connection

    try:
        config.require_complete(current_app.config)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    connection = redis_connection()
    if connection is not None:
        from rq.cron import CronScheduler

        from jobs.sweep import sweep

        # the queue the workers listen on (RQ_QUEUE_PREFIX when deployments share a Redis)
        queue = queue_name(SWEEP_QUEUE)
        scheduler = CronScheduler(connection=connection, name="closeloop-clock")
        scheduler.register(sweep, queue_name=queue, interval=interval,
                           job_timeout=600, result_ttl=3600)
        from jobs.mailboxes import poll_all  # e-mail intake (portal/mailin)

        scheduler.register(poll_all, queue_name=queue,
                           interval=current_app.config["MAIL_INTAKE_INTERVAL"], result_ttl=3600)
        click.echo(f"clock: enqueueing jobs.sweep.sweep every {interval} s on '{queue}'")
        scheduler.start()
        return
    click.echo(f"clock: no REDIS_URL, sweeping in process every {interval} s")
    run_in_process(current_app._get_current_object(), interval)


def run_in_process(app, interval: float, stop: threading.Event | None = None) -> None:
    from jobs.mailboxes import poll_all
    from jobs.sweep import sweep

    stop = stop or threading.Event()
    next_poll = 0.0
    while not stop.is_set():
        with app.app_context():
            try:
                log.info("sweep: %s", sweep())
            except Exception as exc:  # noqa: BLE001 — the next beat tries again
                log.warning("sweep failed: %r", exc)
            if time.monotonic() >= next_poll:  # e-mail intake, on its own beat
                next_poll = time.monotonic() + app.config["MAIL_INTAKE_INTERVAL"]
                try:
                    poll_all()
                except Exception as exc:  # noqa: BLE001
                    log.warning("mailbox poll failed: %r", exc)
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

"""The clock process: ``flask --app portal clock`` enqueues the deadline sweep every minute
and housekeeping (orphaned staged uploads, old sign-in failures) every hour with RQ's cron
scheduler (rq >= 2.5 ``CronScheduler``); without Redis (the embedded default) it runs them
in process. ``flask --app portal sweep`` runs the sweep once."""

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
HOUSEKEEPING_INTERVAL = 3600  # jobs.housekeeping: orphaned staged uploads, old sign-in failures


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

        from jobs.housekeeping import hourly
        from jobs.mailboxes import poll_all  # e-mail intake (portal/mailin)
        from jobs.sweep import sweep

        scheduler = CronScheduler(connection=connection, name="closeloop-clock")
        queue = queue_name(SWEEP_QUEUE)  # with RQ_QUEUE_PREFIX, where the workers listen
        scheduler.register(sweep, queue_name=queue, interval=interval,
                           job_timeout=600, result_ttl=3600)
        scheduler.register(hourly, queue_name=queue, interval=HOUSEKEEPING_INTERVAL,
                           job_timeout=1800, result_ttl=3600)
        scheduler.register(poll_all, queue_name=queue,
                           interval=current_app.config["MAIL_INTAKE_INTERVAL"], result_ttl=3600)
        click.echo(f"clock: enqueueing jobs.sweep.sweep every {interval} s, "
                   f"jobs.housekeeping.hourly every {HOUSEKEEPING_INTERVAL} s and "
                   f"jobs.mailboxes.poll_all on '{queue}'")
        scheduler.start()
        return
    click.echo(f"clock: no REDIS_URL, sweeping in process every {interval} s")
    run_in_process(current_app._get_current_object(), interval)


def run_in_process(app, interval: float, stop: threading.Event | None = None) -> None:

    from jobs.housekeeping import hourly
    from jobs.mailboxes import poll_all
    from jobs.sweep import sweep

    stop = stop or threading.Event()
    next_poll = 0.0
    last_housekeeping = time.monotonic()
    while not stop.is_set():
        with app.app_context():
            try:
                log.info("sweep: %s", sweep())
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


@click.command("sweep")
@with_appcontext
def sweep_once() -> None:
    """Run the deadline sweep once now and print what it did."""
    from jobs.sweep import sweep

    click.echo(json.dumps(sweep()))


def register(app) -> None:
    app.cli.add_command(clock)
    app.cli.add_command(sweep_once)

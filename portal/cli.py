"""Command-line entry points: the one-command demo, the worker and the outbox relay."""

from __future__ import annotations

import logging
import os
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(seed_demo)
    app.cli.add_command(worker)
    app.cli.add_command(relay)
    from .deadlines.cli import register as register_deadlines

    register_deadlines(app)  # clock (the sweep's beat) and sweep


def _upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade()


def _print_sign_ins(port: int) -> None:
    from .demo import DEMO_PASSWORD, DEMO_STAFF

    base = f"http://127.0.0.1:{port}"
    lines = [
        "",
        "Closeloop demo is ready.",
        f"  Customer portal : {base}/t/demo/",
        f"  Staff workspace : {base}/t/demo/staff/",
        f"  Second tenant   : {base}/t/acme/",
        f"  Password for every account: {DEMO_PASSWORD}",
        "  Staff of tenant demo:",
        *[f"    {local}@demo.example.com" for local, _n, _k in DEMO_STAFF.values()],
        "  Customer contacts of tenant demo:",
        "    contact1@customer1.example.com, contact2@customer1.example.com,",
        "    contact1@customer2.example.com … contact1@customer5.example.com",
        "  Tenant acme: admin@acme.example.com, contact1@acme-customer1.example.com",
        f"  Mail sent by the demo (with its links): {base}/demo/mail",
        "  (each e-mail is also printed here as [mail] to <recipient>: <subject>, <link>)",
        "",
    ]
    click.echo("\n".join(lines))


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the schema and seed the demo tenants (no-op when already seeded)."""
    from .demo import seed_all

    _upgrade_database()
    seed_all()
    click.echo("Demo data seeded.")


@click.command("demo")
@click.option("--port", default=5000, show_default=True, help="Port to serve on.")
@click.option("--no-serve", is_flag=True, help="Seed and print the sign-ins, then exit.")
@with_appcontext
def demo(port: int, no_serve: bool) -> None:
    """Create the embedded database, seed the demo tenants, print sign-ins, and serve."""
    from .demo import seed_all

    if not current_app.config.get("CLOSELOOP_PRODUCTION"):
        current_app.config["DEMO_MAILBOX"] = True  # print mail, list it at /demo/mail
    _upgrade_database()
    seed_all()
    _print_sign_ins(port)
    if no_serve:
        return
    from werkzeug.serving import run_simple

    from .devserver import ClosingRequestHandler, closing

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        _start_embedded_background(app)
    # app.run() refuses to block inside the flask CLI; the server it wraps does not.
    run_simple("127.0.0.1", port, closing(app), threaded=True,
               request_handler=ClosingRequestHandler)


def _start_embedded_background(app: Flask) -> None:
    """What the worker and clock processes do in production, as two threads of the demo:
    relay due outbox work (delayed surveys, retries) and sweep deadlines every minute."""
    from .deadlines.cli import run_in_process

    def sweep_after_a_minute():
        stop = threading.Event()
        stop.wait(60)
        run_in_process(app, 60, stop)

    threading.Thread(target=run_relay_forever, args=(app, 5.0), daemon=True).start()
    threading.Thread(target=sweep_after_a_minute, daemon=True).start()


def run_relay_forever(app: Flask, interval: float = 1.0, stop: threading.Event | None = None):
    """Relay committed outbox messages to RQ until ``stop`` is set."""
    from .extensions import db
    from .queueing import relay_pending

    stop = stop or threading.Event()
    last_sweep = 0.0
    while not stop.is_set():
        with app.app_context():
            try:
                if time.monotonic() - last_sweep > 600:  # re-queue work whose job was lost
                    last_sweep = time.monotonic()
                    import importlib

                    importlib.import_module("jobs.photos").requeue_stale()
                moved = relay_pending()
            except Exception as exc:  # noqa: BLE001 — Redis or the database is down; retry
                log.warning("relay pass failed: %r", exc)
                moved = 0
            finally:
                db.session.remove()
        if not moved:
            stop.wait(interval)


@click.command("relay")
@click.option("--interval", default=1.0, show_default=True)
@with_appcontext
def relay(interval: float) -> None:
    """Relay the outbox to RQ in a loop (runs inside `flask worker` too)."""
    run_relay_forever(current_app._get_current_object(), interval)


def _require_complete(config, app) -> None:
    try:
        config.require_complete(app.config)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def short_lease_scheduler(lease: int):
    """RQ's scheduler with a ``lease``-second lock instead of RQ's fixed 61 s.

    One worker's scheduler holds each queue's lock and renews it every second. When that
    worker is killed (SIGKILL, OOM), the lock outlives it for the whole lease, and every
    retry that waits on the scheduler — including the retry of the job the dead worker was
    running — waits with it. Renewing to a short lease after RQ's own renewal keeps the
    lock while the scheduler lives and frees it ``lease`` seconds after it dies, for the
    next worker's maintenance pass to take. (Written against rq 3.0's scheduler; rq is
    held below 4.)"""
    from datetime import datetime

    from rq.scheduler import RQScheduler
    from rq.scripts import ACQUIRE_OR_REFRESH_LOCK_SCRIPT, acquire_or_refresh_lock
    from rq.utils import now, utcformat

    class ShortLeaseScheduler(RQScheduler):
        # RQ's acquire_locks() and heartbeat() with ``lease`` in place of interval + 60, in
        # one step each (renewing to 61 s and shortening after would leave a window).
        def acquire_locks(self, auto_start=False):
            self._acquired_locks = {
                name for name in self._queue_names
                if acquire_or_refresh_lock(self.connection, self.get_locking_key(name),
                                           self.name, lease) in ("acquired", "refreshed")}
            self._scheduled_job_registries = []
            self.lock_acquisition_time = datetime.now()
            if self._acquired_locks and auto_start and (
                    not self._process or not self._process.is_alive()):
                self.start()
            return self._acquired_locks

        def heartbeat(self):
            self.last_heartbeat = now()
            names = sorted(self._acquired_locks)
            script = self.connection.register_script(ACQUIRE_OR_REFRESH_LOCK_SCRIPT)
            with self.connection.pipeline() as pipeline:
                pipeline.hset(self.key, "last_heartbeat", utcformat(self.last_heartbeat))
                pipeline.expire(self.key, self.interval + 60)
                for name in names:
                    script(keys=[self.get_locking_key(name)], args=[self.name, lease],
                           client=pipeline)
                results = pipeline.execute()
            lost = {name for name, outcome in zip(names, results[2:], strict=True)
                    if outcome == 0}
            if lost:  # taken over by another scheduler after ours lapsed: stop scheduling them
                self.log.warning("Scheduler locks for %s were taken over", ", ".join(lost))
                self._acquired_locks -= lost
                self._scheduled_job_registries = []

    return ShortLeaseScheduler


def worker_class(config):
    """RQ's Worker with the app's clocks: a shorter heartbeat grace and a scheduler whose
    lock is short-leased (see ``short_lease_scheduler``)."""
    from rq import Worker

    grace = int(config.get("RQ_HEARTBEAT_GRACE", 15))
    scheduler_class = short_lease_scheduler(int(config.get("RQ_SCHEDULER_LOCK_SECONDS", 15)))

    class ClosingLoopWorker(Worker):
        # RQ adds a fixed 60 s to every heartbeat; a configurable grace lets a killed worker's
        # job be found abandoned (and retried) in seconds rather than minutes.
        def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
            return super().get_heartbeat_ttl(job, working_time) - 60 + grace

        @property
        def dequeue_timeout(self) -> int:
            # An idle worker blocks in BLPOP for this long and runs maintenance (which finds
            # abandoned jobs) only between waits: RQ's worker_ttl - 15 (405 s) is too late.
            return max(1, min(self.worker_ttl - 15, int(self.maintenance_interval)))

        def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None,
                             log_format=None):
            # RQ's own, with a scheduler whose lock a dead worker cannot hold for a minute.
            self.scheduler = scheduler_class(self.queues, connection=self.connection,
                                             logging_level=logging_level or self.log.level,
                                             serializer=self.serializer)
            self.scheduler.acquire_locks()
            if not self.scheduler.acquired_locks:
                return
            if not burst:
                self.scheduler.start()
                return
            try:
                self.scheduler.register_birth()
                self.scheduler.enqueue_scheduled_jobs()
            finally:
                self.scheduler.release_locks()
                self.scheduler.register_death()

    return ClosingLoopWorker


@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@click.option("--queues", default=None, help="Comma-separated queue names.")
@click.option("--no-relay", is_flag=True, help="Do not run the outbox relay in this process.")
@with_appcontext
def worker(burst: bool, queues: str | None, no_relay: bool) -> None:
    """Run an RQ worker with the app's own settings, plus the outbox relay beside it."""
    from rq import Queue

    from . import config
    from .extensions import db
    from .queueing import queue_name, redis_connection

    app = current_app._get_current_object()
    _require_complete(config, app)
    connection = redis_connection()
    if connection is None:
        raise click.ClickException("REDIS_URL is not set: the embedded default runs jobs in "
                                   "process, so there is no worker to start.")
    names = queues.split(",") if queues else app.config["RQ_QUEUES"]
    stop = threading.Event()
    if not no_relay:
        from .queueing import relay_pending

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

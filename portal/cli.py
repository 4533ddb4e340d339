"""Command-line entry points of the core: the one-command demo (with the embedded default's
relay and clock as threads), seeding it, and the outbox relay. The commands that run or
enqueue jobs (``worker``, ``clock``, ``sweep``) live with the jobs, in jobs/cli.py."""

from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(seed_demo)
    app.cli.add_command(relay)
    app.cli.add_command(warranty_refresh)
    app.cli.add_command(analytics_rollup)
    # The commands that run or enqueue jobs (worker, clock, sweep) are the jobs package's
    # (jobs/cli.py), declared to Flask as "flask.commands" entry points in pyproject.toml.


def _upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade()


def _print_sign_ins(port: int) -> None:
    from .demo import DEMO_API_TOKEN, DEMO_PASSWORD, DEMO_STAFF

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
        f"  REST API        : {base}/t/demo/api/v1/  (reference: {base}/t/demo/api/v1/docs)",
        f"  Demo API token  : {DEMO_API_TOKEN}",
        f'    curl -H "Authorization: Bearer {DEMO_API_TOKEN}" {base}/t/demo/api/v1/complaints',
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


@click.command("warranty-refresh")
@with_appcontext
def warranty_refresh() -> None:
    """Recompute the warranty kept on every complaint of every tenant (once after the upgrade
    that added it; afterwards the app keeps it in step). Commits per tenant."""
    from sqlalchemy import select

    from . import uow
    from .extensions import db
    from .models import Tenant
    from .suppliers import warranty
    from .tenancy import activate

    for tenant in db.session.scalars(select(Tenant).order_by(Tenant.id)).all():
        with activate(tenant):
            changed = warranty.refresh_where()
            uow.commit()
        click.echo(f"{tenant.slug}: {changed} complaints changed")


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
    from .deadlines.sweep import run_every

    def sweep_after_a_minute():
        stop = threading.Event()
        stop.wait(60)
        run_every(app, 60, stop)

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
                    from .photos import requeue_stale

                    requeue_stale()
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


@click.command("analytics-rollup")
@with_appcontext
def analytics_rollup() -> None:
    """Recount every tenant's analytics rollups from scratch: the complaint counts (kept by
    the writes; after a bulk load or a restore) and the loop figures (else every 15 minutes)."""
    from sqlalchemy import select

    from . import uow
    from .analytics import loop_rollup, rollup
    from .extensions import db
    from .models import Tenant
    from .tenancy import activate, unscoped

    with unscoped():
        tenants = db.session.execute(select(Tenant.id, Tenant.timezone).order_by(Tenant.id)).all()
    for tenant_id, zone in tenants:
        with activate(tenant_id):
            counts = rollup.rebuild(tenant_id)
            loops = loop_rollup.refresh(tenant_id, zone)
            uow.commit()
        click.echo(f"tenant {tenant_id}: {counts} complaint-count rows, {loops} loop rows")

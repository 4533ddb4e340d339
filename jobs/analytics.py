"""The loop figures' rollup recounted for every live tenant (portal/analytics/loop_rollup.py),
enqueued by the clock process every 15 minutes (jobs/cli.py). One transaction per tenant, so
a failing tenant leaves the others' figures current; the dashboard prints when they were
counted. Safe to run twice or concurrently (each run replaces the tenant's rows)."""

from __future__ import annotations

import logging

from flask import current_app, has_app_context

from . import _get_app

log = logging.getLogger(__name__)
INTERVAL = 900


def refresh_loop_figures(tenant_ids: list[int] | None = None) -> dict:
    """Recount each active tenant's loop figures; returns rows written per tenant id."""
    from sqlalchemy import select

    from portal import uow
    from portal.analytics import loop_rollup
    from portal.analytics.sql import tune_for_aggregates
    from portal.extensions import db
    from portal.models import Tenant
    from portal.tenancy import activate, unscoped

    app = current_app._get_current_object() if has_app_context() else _get_app()
    written = {}
    with app.app_context():
        with unscoped():
            statement = select(Tenant.id, Tenant.timezone).where(Tenant.status == "active")
            if tenant_ids is not None:
                statement = statement.where(Tenant.id.in_(tenant_ids))
            tenants = db.session.execute(statement.order_by(Tenant.id)).all()
        for tenant_id, zone in tenants:
            try:
                with activate(tenant_id):
                    tune_for_aggregates()
                    written[tenant_id] = loop_rollup.refresh(tenant_id, zone)
                    uow.commit()
            except Exception:  # noqa: BLE001 — the next tenant still gets its figures
                uow.rollback()
                log.exception("loop figures of tenant %s not recounted", tenant_id)
        db.session.remove()
        _vacuum(db.engine)
    return written


def _vacuum(engine) -> None:
    """Every row was rewritten: mark the pages all-visible again, so the page's reads stay
    index-only scans (PostgreSQL; outside a transaction)."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) analytics_loop_monthly"))

"""The deadline sweep job, enqueued every minute by the clock process (portal/deadlines/cli.py).
Runs across all tenants, so it is not a ``tenant_job``; it commits once at the end."""

from __future__ import annotations

from flask import current_app, has_app_context

from . import _get_app


def sweep() -> dict:
    """Run one sweep (portal.deadlines.sweep.run) and commit. Safe to run twice or
    concurrently: each warning/escalation is claimed by exactly one run."""
    from portal import observability, uow
    from portal.deadlines.sweep import run
    from portal.extensions import db

    app = current_app._get_current_object() if has_app_context() else _get_app()
    with app.app_context(), observability.job_context("jobs.sweep.sweep"):
        try:
            result = run()
            uow.commit()
            return result.as_dict()
        except Exception:
            uow.rollback()
            raise
        finally:
            db.session.remove()

"""The deadline sweep job, enqueued every minute by the clock process (``flask clock``,
jobs/cli.py). Runs across all tenants, so it is not a ``tenant_job``; it commits once at the
end (portal.deadlines.sweep.run_committed)."""

from __future__ import annotations

from flask import current_app, has_app_context

from . import _get_app


def sweep() -> dict:
    """Run one sweep and commit. Safe to run twice or concurrently: each warning/escalation
    is claimed by exactly one run."""
    from portal import observability
    from portal.deadlines.sweep import run_committed

    app = current_app._get_current_object() if has_app_context() else _get_app()
    with app.app_context(), observability.job_context("jobs.sweep.sweep"):
        return run_committed()

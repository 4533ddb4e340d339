"""RQ job functions. Each takes ids, not objects, and runs through ``tenant_job``."""

from __future__ import annotations

import functools

from flask import current_app, has_app_context

_app = None


def _get_app():
    global _app
    if _app is None:
        from portal import create_app

        _app = create_app()
    return _app


def tenant_job(func):
    """Run the job in an app context with its tenant (first argument) active; commit on
    success, roll back on error (RQ's Retry then tries again). Reuses the caller's app
    context when run in process (the embedded default). Its log lines carry the queuing
    request's id; its duration and outcome are counted (portal/metrics.py)."""

    @functools.wraps(func)
    def wrapper(tenant_id, *args, **kwargs):
        from portal import observability, tenancy, uow
        from portal.extensions import db

        def run():
            with tenancy.activate(tenant_id), tenancy.scoped():
                try:
                    result = func(*args, **kwargs)
                    uow.commit()
                    return result
                except Exception:
                    uow.rollback()
                    raise

        # A fresh app context gives the job its own database session, in a forked RQ work
        # horse and in process (embedded default) alike.
        app = current_app._get_current_object() if has_app_context() else _get_app()
        with app.app_context(), observability.job_context(
                f"{func.__module__}.{func.__name__}", tenant_id):
            try:
                return run()
            finally:
                db.session.remove()

    return wrapper

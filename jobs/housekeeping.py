"""Hourly housekeeping, enqueued by the clock process (jobs/cli.py): delete staged
uploads no complaint took within a day, and sign-in failures too old to count. Across all
tenants, so not a ``tenant_job``; commits once at the end. Safe to run twice or concurrently."""

from __future__ import annotations

import logging

from flask import current_app, has_app_context

from . import _get_app

log = logging.getLogger(__name__)


def hourly() -> dict:
    """Run both clean-ups and commit. Returns what each removed."""
    from portal import uow
    from portal.accounts.throttle import forget_old_failures
    from portal.extensions import db
    from portal.photos import purge_orphaned_staging

    app = current_app._get_current_object() if has_app_context() else _get_app()
    with app.app_context():
        try:
            result = {"staged_uploads": purge_orphaned_staging(),
                      "sign_in_failures": forget_old_failures()}
            uow.commit()
            log.info("housekeeping: %s", result)
            return result
        except Exception:
            uow.rollback()
            raise
        finally:
            db.session.remove()

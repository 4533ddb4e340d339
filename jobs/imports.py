"""Spreadsheet import jobs: the preview (parse and check) and the apply (write) of one run."""

from __future__ import annotations

import logging

from portal import imports, uow
from portal.extensions import db
from portal.models import ImportRun, utcnow

from . import tenant_job

log = logging.getLogger(__name__)


def _run(run_id: int) -> ImportRun | None:
    return db.session.get(ImportRun, run_id)


def _fail(run_id: int, message: str) -> None:
    """Record the failure in a fresh transaction (the import's own was rolled back)."""
    uow.rollback()
    run = _run(run_id)
    if run is not None:
        run.status, run.error, run.finished_at = "failed", message[:2000], utcnow()
        uow.commit()


@tenant_job
def preview(run_id: int) -> None:
    """Parse and check an uploaded file; stage its rows. Idempotent: a run already past the
    preview is left alone."""
    run = _run(run_id)
    if run is None or run.status not in ("uploaded", "validating"):
        return
    try:
        imports.run_preview(run)
    except Exception as exc:
        log.exception("import %s: preview failed", run_id)
        _fail(run_id, repr(exc))
        raise


@tenant_job
def apply(run_id: int) -> None:
    """Write a previewed run, all or nothing. Idempotent: the upsert makes a retry after a
    crash write the same rows again, and a finished run is left alone."""
    run = _run(run_id)
    if run is None or run.status in ("done", "failed"):
        return
    try:
        imports.run_apply(run)
    except imports.ImportRefused as exc:
        _fail(run_id, str(exc))
    except Exception as exc:
        log.exception("import %s: apply failed", run_id)
        _fail(run_id, repr(exc))
        raise

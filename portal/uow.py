"""The unit of work's boundary: commit, then release what must follow the commit.

Operations only flush. The request, job or CLI command calls ``commit()`` once; the
outbox rows written in that transaction are relayed to the queue only after it has
committed, so a job never runs before the rows it needs exist.
"""

from __future__ import annotations

from .extensions import db


def commit() -> None:
    """Commit the session and relay its outbox messages (failures to relay are retried by the
    relay loop; the data is safe either way)."""
    from .queueing import relay_pending

    pending = db.session.info.pop("outbox_ids", [])
    db.session.commit()
    if pending:
        relay_pending(pending)


def rollback() -> None:
    db.session.info.pop("outbox_ids", None)
    db.session.rollback()

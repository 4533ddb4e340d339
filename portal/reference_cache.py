"""Per-process cache of a tenant's short reference lists (the queue's filter choices: its
departments, staff, product models and customer companies).

Those lists change a few times a day but the queue shows them on every page, four statements
each time. An entry lives ``TTL_SECONDS``; a commit in this process that wrote a row of a
model the entry was built from drops the tenant's entries at once, so whoever made the change
sees it on the next page, and every other process within the TTL. Only use it for lists that
may be that much behind (choices in a form, never a permission or a status).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from .tenancy import active_tenant_id

TTL_SECONDS = 60.0

T = TypeVar("T")
_entries: dict[tuple[int, str], tuple[float, object]] = {}
_built_from: dict[str, tuple[type, ...]] = {}
_lock = threading.Lock()


def cached(name: str, models: tuple[type, ...], build: Callable[[], T]) -> T:
    """``build()`` for the active tenant, from the cache while fresh. ``models`` are the
    tables the value is read from: writing one of them drops the entry."""
    tenant_id = active_tenant_id()
    if tenant_id is None:
        return build()
    _built_from[name] = models
    key = (tenant_id, name)
    entry = _entries.get(key)
    now = time.monotonic()
    if entry is not None and now - entry[0] < TTL_SECONDS:
        return entry[1]  # type: ignore[return-value]
    value = build()
    with _lock:
        _entries[key] = (now, value)
    return value


def forget(tenant_id: int | None = None) -> None:
    """Drop the tenant's entries (every tenant's without an id)."""
    with _lock:
        for key in [k for k in _entries if tenant_id is None or k[0] == tenant_id]:
            _entries.pop(key, None)


@event.listens_for(Session, "after_flush")
def _note_written(session, flush_context) -> None:
    watched = {m for models in _built_from.values() for m in models}
    if not watched:
        return
    touched = session.info.setdefault("reference_written", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, tuple(watched)):
            touched.add((getattr(obj, "tenant_id", None), type(obj)))


@event.listens_for(Session, "after_commit")
def _drop_written(session) -> None:
    touched = session.info.pop("reference_written", None)
    if not touched:
        return
    with _lock:
        for tenant_id, model in touched:
            names = {n for n, models in _built_from.items() if issubclass(model, models)}
            for key in [k for k in _entries if k[1] in names
                        and (tenant_id is None or k[0] == tenant_id)]:
                _entries.pop(key, None)


@event.listens_for(Session, "after_rollback")
def _forget_written(session) -> None:
    session.info.pop("reference_written", None)

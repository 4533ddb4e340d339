"""Per-process cache of a tenant's short reference lists (the queue's filter choices: its
departments, staff, product models and customer companies), correct across processes.

Those lists change a few times a day but the queue shows them on every page, four statements
each time. Every web process keeps its own copy, labelled with the tenant's
``tenants.reference_version``: a flush that writes a row of a model an entry was built from
bumps that counter in the same transaction (``UPDATE tenants SET reference_version =
reference_version + 1``), so the change and the new version commit together. Each request
already reads its tenant row (``portal.tenancy``), so checking the label costs no statement;
an entry whose label differs is rebuilt. A change made through one web process is therefore
seen by every other process on its next request, not after a timeout.

Writes that bypass the ORM's flush (Core ``insert``/``update`` of those tables) must call
``bump(tenant_id)`` themselves. A value built inside a transaction that has bumped but not yet
committed is not kept (it could be rolled back).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from flask import g, has_app_context
from sqlalchemy import event, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .tenancy import active_tenant_id

T = TypeVar("T")
# (tenant id, name) -> (reference_version, value)
_entries: dict[tuple[int, str], tuple[int, object]] = {}
_built_from: dict[str, tuple[type, ...]] = {}
_lock = threading.Lock()
# Columns no reference list shows: writing only these does not change any list (a sign-in
# stamps last_sign_in_at on a staff row; that must not rebuild every process's lists).
IGNORED_COLUMNS = frozenset({"updated_at", "last_sign_in_at", "password_hash",
                             "notification_prefs", "locale"})


def _current_version(tenant_id: int) -> int | None:
    """The active tenant's version as this request read it (no statement), or None when the
    request did not load the tenant row (jobs, CLI): then nothing is cached."""
    if not has_app_context():
        return None
    tenant = g.get("tenant")
    if tenant is None or tenant.id != tenant_id:
        return None
    return tenant.reference_version


def watch(name: str, models: tuple[type, ...]) -> None:
    """Declare that entry ``name`` is read from ``models`` (at import time, so that every
    process bumps the version when it writes one, whether or not it ever built the entry)."""
    _built_from[name] = models


def cached(name: str, models: tuple[type, ...], build: Callable[[], T]) -> T:
    """``build()`` for the active tenant, from the cache while its version is current.
    ``models`` are the tables the value is read from: writing one of them bumps the version."""
    from .extensions import db

    watch(name, models)
    tenant_id = active_tenant_id()
    if tenant_id is None:
        return build()
    version = _current_version(tenant_id)
    if version is None:
        return build()
    entry = _entries.get((tenant_id, name))
    if entry is not None and entry[0] == version:
        return entry[1]  # type: ignore[return-value]
    value = build()
    if tenant_id not in db.session.info.get("reference_bumped", ()):
        with _lock:
            _entries[(tenant_id, name)] = (version, value)
    return value


def forget(tenant_id: int | None = None) -> None:
    """Drop this process's entries for the tenant (every tenant's without an id)."""
    with _lock:
        for key in [k for k in _entries if tenant_id is None or k[0] == tenant_id]:
            _entries.pop(key, None)


def bump(tenant_id: int, session: Session | None = None) -> None:
    """Mark the tenant's reference lists changed, in the session's transaction."""
    from .extensions import db
    from .models import Tenant

    session = session or db.session
    table = Tenant.__table__
    version = session.connection().execute(
        update(table).where(table.c.id == tenant_id)
        .values(reference_version=table.c.reference_version + 1,
                updated_at=table.c.updated_at)  # not a change of the tenant's own settings
        .returning(table.c.reference_version)).scalar()
    session.info.setdefault("reference_bumped", set()).add(tenant_id)
    tenant = session.identity_map.get(Session.identity_key(Tenant, tenant_id))
    if tenant is not None and version is not None:
        set_committed_value(tenant, "reference_version", version)


def _changes_a_list(session: Session, obj) -> bool:
    if obj in session.new or obj in session.deleted:
        return True
    from sqlalchemy import inspect

    state = inspect(obj)
    return any(attr.key not in IGNORED_COLUMNS and attr.history.has_changes()
               for attr in state.attrs)


@event.listens_for(Session, "before_flush")
def _note_written(session, flush_context, instances) -> None:
    watched = tuple({m for models in _built_from.values() for m in models})
    if not watched:
        return
    touched = session.info.setdefault("reference_touched", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, watched) and _changes_a_list(session, obj):
            # new rows get their tenant stamped during the flush: read it afterwards
            touched.add(obj if obj in session.new else getattr(obj, "tenant_id", None))


@event.listens_for(Session, "after_flush")
def _bump_written(session, flush_context) -> None:
    touched = session.info.pop("reference_touched", None)
    if not touched:
        return
    ids = {t if isinstance(t, int) or t is None else getattr(t, "tenant_id", None)
           for t in touched}
    for tenant_id in sorted(ids - {None}):
        bump(tenant_id, session)


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    session.info.pop("reference_bumped", None)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session) -> None:
    session.info.pop("reference_touched", None)
    session.info.pop("reference_bumped", None)

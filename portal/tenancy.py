"""Tenant scoping, enforced in one place.

Every tenant-owned model mixes in ``TenantScoped``. One ``do_orm_execute`` hook
adds ``tenant_id = <active tenant>`` to every ORM SELECT/UPDATE/DELETE that
touches such a model (joins, relationship loads and aliases included), and one
``before_flush`` hook stamps new rows with the active tenant and refuses rows of
another. With no active tenant, touching tenant-owned data raises
``TenantScopeError`` unless the code says ``with unscoped():`` — a greppable
escape meant for platform tooling only (the demo seeder, the operator area).

Known gaps (tested in tests/portal/test_tenancy.py): raw ``text()`` SQL is not
scoped, and ``Session.get`` returns an object already in the identity map
without a query. Request sessions are short-lived, so the second needs a session
shared across tenants, which only ``unscoped()`` code does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from weakref import WeakKeyDictionary

from flask import Flask, abort, g, make_response, render_template, request
from sqlalchemy import ForeignKey, bindparam, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, with_loader_criteria
from sqlalchemy.sql.util import find_tables
from werkzeug.local import LocalProxy

from .extensions import db

_active_tenant_id: ContextVar[int | None] = ContextVar("active_tenant_id", default=None)
_unscoped: ContextVar[bool] = ContextVar("tenant_unscoped", default=False)


class TenantScopeError(RuntimeError):
    """Tenant-owned data was touched with no tenant active, or across tenants."""


class TenantScoped:
    """Mixin for every row that belongs to one tenant."""

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )


def active_tenant_id() -> int | None:
    return _active_tenant_id.get()


@contextmanager
def activate(tenant_or_id) -> Iterator[None]:
    """Run a block as the given tenant (jobs, CLI, tests). Restores the previous one after."""
    tenant_id = getattr(tenant_or_id, "id", tenant_or_id)
    token = _active_tenant_id.set(tenant_id)
    try:
        yield
    finally:
        _active_tenant_id.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Platform tooling only: see and write every tenant's rows. Grep for it in review."""
    token = _unscoped.set(True)
    try:
        yield
    finally:
        _unscoped.reset(token)


@contextmanager
def scoped() -> Iterator[None]:
    """Undo an enclosing ``unscoped()`` for a block: a job that the outbox relay (which runs
    unscoped) calls in process must still see only its own tenant's rows."""
    token = _unscoped.set(False)
    try:
        yield
    finally:
        _unscoped.reset(token)


def _scoped_tables() -> frozenset:
    global _SCOPED_TABLES
    if _SCOPED_TABLES is None:
        _SCOPED_TABLES = frozenset(
            m.local_table for m in db.Model.registry.mappers if issubclass(m.class_, TenantScoped))
    return _SCOPED_TABLES


_SCOPED_TABLES: frozenset | None = None


def _touches_scoped(state) -> bool:
    statement = state.statement
    known = _TOUCHES.get(statement)
    if known is None:
        known = _TOUCHES[statement] = _reads_scoped(state)
    return known


def _reads_scoped(state) -> bool:
    if any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
        return True
    # ``select(func.count()).select_from(Model)`` names no entity, so no mapper: look at the
    # tables it reads (the loader criteria then filter them like any other).
    return not _scoped_tables().isdisjoint(
        find_tables(state.statement, include_aliases=True, include_joins=True,
                    include_selects=True))


# The answer per statement object (statements are immutable; one built once and asked on
# every request, like the tenant by its slug, is walked once). Weak: a statement built for
# one request is forgotten with it.
_TOUCHES: WeakKeyDictionary = WeakKeyDictionary()


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_statement(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if _unscoped.get():
        return
    tenant_id = _active_tenant_id.get()
    if state.execution_options.get("closeloop_scoped_statement"):
        # A ScopedStatement: the criteria are written in, the tenant is its parameter.
        if tenant_id is None or (state.parameters or {}).get("scope_tenant_id") != tenant_id:
            raise TenantScopeError("a tenant's statement bound to another tenant")
        return
    if tenant_id is None:
        if _touches_scoped(state):
            raise TenantScopeError(
                "tenant-owned data queried with no active tenant; use tenancy.activate() "
                "or, for platform tooling, tenancy.unscoped()"
            )
        return
    # With a tenant active the criteria go on every statement: they filter only tenant-owned
    # entities, and walking each statement's tables to skip the others cost a tenth of a page.
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        )
    )


class ScopedStatement:
    """A statement over tenant-owned tables built once and asked on every page (the staff
    header's counts, the queue's rows, their deadline badges, the signed-in user). The
    tenant's condition is on every tenant-owned table, as the hook above writes it, but as a
    parameter bound to the active tenant at each execution. Through the hook, each execution
    laid the scoping option over a new copy of the statement, whose cache key SQLAlchemy then
    computed again: a fifth of a queue page. Built once, the key is computed once and the SQL
    comes from SQLAlchemy's compiled cache."""

    def __init__(self, statement):
        # Not propagated to loaders: an object it loads lazy-loads and refreshes through the
        # session like any other (with the hook's criteria), not with this unbound parameter.
        self.statement = statement.options(with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == bindparam("scope_tenant_id", required=False),
            include_aliases=True, propagate_to_loaders=False)
        ).execution_options(closeloop_scoped_statement=True)

    def _bound(self, params: dict) -> dict:
        tenant_id = _active_tenant_id.get()
        if tenant_id is None or _unscoped.get():
            raise TenantScopeError("a tenant's statement asked with no single active tenant")
        return {**params, "scope_tenant_id": tenant_id}

    def execute(self, **params):
        """Rows of columns for the active tenant, ``params`` bound by name: run on the
        session's connection (no ORM objects, no ORM execution set-up)."""
        bound = self._bound(params)
        if db.session.autoflush:  # what the session does before it queries
            db.session.flush()
        return db.session.connection().execute(self.statement, bound)

    def objects(self, **params):
        """The same through the session, for a statement of ORM entities (the hook checks
        the tenant parameter instead of adding its criteria again)."""
        return db.session.execute(self.statement, self._bound(params))


@event.listens_for(Session, "before_flush")
def _stamp_and_check_tenant(session, flush_context, instances) -> None:
    if _unscoped.get():
        return
    tenant_id = _active_tenant_id.get()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            if obj.tenant_id is None:
                raise TenantScopeError(f"new {type(obj).__name__} with no active tenant")
            raise TenantScopeError(f"{type(obj).__name__} written with no active tenant")
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} of tenant {obj.tenant_id} "
                                   f"written while tenant {tenant_id} is active")
    for obj in session.dirty:
        if isinstance(obj, TenantScoped) and obj.tenant_id != tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} moved to or changed outside its tenant")


def _load_current_tenant():
    return g.get("tenant")


current_tenant = LocalProxy(_load_current_tenant)


@lru_cache(maxsize=1)
def _tenant_by_slug():
    """Built once: SQLAlchemy computes a statement's cache key once per object."""
    from .models import Tenant

    return select(Tenant).where(Tenant.slug == bindparam("slug"))


def register_tenancy(app: Flask) -> None:
    """Resolve the tenant once per request from the ``<tenant_slug>`` URL value."""

    @app.url_value_preprocessor
    def _resolve_tenant(endpoint, values):
        g.tenant = None
        slug = values.pop("tenant_slug", None) if values else None
        if slug is None:
            g._tenant_token = _active_tenant_id.set(None)
            return
        tenant = db.session.scalar(_tenant_by_slug(), {"slug": slug})
        if tenant is None or not tenant.is_live:
            g._tenant_token = _active_tenant_id.set(None)
            if tenant is not None and tenant.status == "suspended":
                if request.path.split("/", 4)[3:4] == ["api"]:  # API callers get a problem
                    from .api.problems import problem

                    g.api_request = True
                    abort(problem(503, code="tenant_suspended"))
                abort(make_response(render_template("errors/suspended.html", tenant=tenant), 503))
            abort(404)
        g.tenant = tenant
        g._tenant_token = _active_tenant_id.set(tenant.id)

    @app.url_defaults
    def _add_tenant_slug(endpoint, values):
        if "tenant_slug" in values or g.get("tenant") is None:
            return
        if app.url_map.is_endpoint_expecting(endpoint, "tenant_slug"):
            values["tenant_slug"] = g.tenant.slug

    @app.teardown_request
    def _forget_tenant(exc):
        token = g.pop("_tenant_token", None)
        if token is not None:
            _active_tenant_id.reset(token)

"""The two figures the staff header shows on every workspace page: what waits on the user (My
work) and their unread notifications (the bell). One statement per request for both, compiled
once per process and role set (``tenancy.ScopedStatement``), kept on ``g`` for the rest of
the request; marking notifications read forgets it."""

from __future__ import annotations

from flask import g, has_app_context
from sqlalchemy import String, bindparam, func, select

from . import my_work
from .models import Notification
from .tenancy import ScopedStatement

_STATEMENTS: dict[frozenset[str], ScopedStatement] = {}  # a few role sets per tenant at most


def _statement(roles: frozenset[str]) -> ScopedStatement:
    unread = (select(func.count()).select_from(Notification)
              .where(Notification.recipient == bindparam("recipient", type_=String, required=False),
                     Notification.read_at.is_(None)).scalar_subquery())
    work = my_work.count_expression(my_work.RoleSet(roles))
    return ScopedStatement(select(work.label("work"), unread.label("unread")))


def header_counts(user) -> tuple[int, int]:
    """(waiting in My work, unread notifications) for a signed-in staff user."""
    cached = g.get("_header_counts")
    if cached is not None and cached[0] == user.get_id():
        return cached[1]
    roles = frozenset(user.roles or ())
    statement = _STATEMENTS.get(roles)
    if statement is None:
        statement = _STATEMENTS[roles] = _statement(roles)
    row = statement.execute(my_work_user_id=user.id, recipient=user.get_id()).one()
    counts = (int(row.work or 0), int(row.unread or 0))
    g._header_counts = (user.get_id(), counts)
    return counts


def forget() -> None:
    """Drop this request's figures (after marking notifications read)."""
    if has_app_context():
        g.pop("_header_counts", None)

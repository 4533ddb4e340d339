"""The two figures the staff header shows on every workspace page: what waits on the user (My
work) and their unread notifications (the bell). One statement per request for both, compiled
once per process and role set (``tenancy.ScopedStatement``), kept on ``g`` for the rest of
the request; marking notifications read forgets it."""

from __future__ import annotations

from functools import cache

from flask import g, has_app_context
from sqlalchemy import String, bindparam, select

from . import my_work, notifications
from .tenancy import ScopedStatement


@cache  # one per role set: a handful per tenant
def _statement(roles: frozenset[str]) -> ScopedStatement:
    unread = notifications.unread(bindparam("recipient", type_=String, required=False))
    work = my_work.count_expression(my_work.RoleSet(roles))
    return ScopedStatement(select(work.label("work"), unread.scalar_subquery().label("unread")))


def header_counts(user) -> tuple[int, int]:
    """(waiting in My work, unread notifications) for a signed-in staff user."""
    cached = g.get("_header_counts")
    if cached is not None and cached[0] == user.get_id():
        return cached[1]
    row = _statement(frozenset(user.roles or ())).execute(
        my_work_user_id=user.id, recipient=user.get_id()).one()
    counts = (int(row.work or 0), int(row.unread or 0))
    g._header_counts = (user.get_id(), counts)
    return counts


def forget() -> None:
    """Drop this request's figures (after marking notifications read)."""
    if has_app_context():
        g.pop("_header_counts", None)

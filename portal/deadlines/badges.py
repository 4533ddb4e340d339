"""A page of queue rows' deadline badges as display-ready text (the most urgent running clock
of each row): the same text internal/_clock_badge.html renders for one complaint, computed
with the language, time zone and phrases looked up once per page instead of once per row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from .. import reference_cache
from ..extensions import db
from ..models import CalendarException, DeadlineClock, Tenant, utcnow
from ..tenancy import ScopedStatement
from .calendar import BusinessCalendar, calendar_for
from .clocks import Context, _contexts, clock_label, humanize_minutes, running_state


@dataclass(frozen=True)
class BadgeText:
    """A queue row's badge, display-ready: ``css`` (ok, warn, late, paused), ``title`` (the
    clock and its due time), ``text`` (time left, late by, or paused)."""

    css: str
    title: str
    text: str


# The running clocks' columns a badge needs, for a page of complaints: built once
# (tenancy.ScopedStatement); ordered so that the most urgent (earliest due) comes last and wins.
_CLOCKS = ScopedStatement(
    select(DeadlineClock.complaint_id, DeadlineClock.kind, DeadlineClock.due_at,
           DeadlineClock.paused_at, DeadlineClock.warn_at, DeadlineClock.working_time)
    .where(DeadlineClock.complaint_id.in_(bindparam("ids", expanding=True)),
           DeadlineClock.stopped_at.is_(None))
    .order_by(DeadlineClock.due_at.desc(), DeadlineClock.id.desc()))  # as badge_for's order


def badge_texts(rows, now: datetime | None = None) -> dict[int, BadgeText | None]:
    """The most urgent running clock of each row as display text, for a page of queue rows:
    one statement for the clocks (only the columns a badge reads), and the language, time
    zone and phrases looked up once per page rather than once per row (the same text
    internal/_clock_badge.html renders)."""
    from ..i18n import _translations, datetime_formatter

    ids = [row.id for row in rows]
    found = {clock.complaint_id: clock for clock in _CLOCKS.execute(ids=ids)} if ids else {}
    contexts: dict[int, Context] = {}
    now = now or utcnow()
    when = datetime_formatter("short")
    words = _translations()
    paused, late, left = (words.ugettext("Paused"), words.ugettext("Late by %(time)s"),
                          words.ugettext("%(time)s left"))
    texts: dict[int, BadgeText | None] = {}
    for row in rows:
        clock = found.get(row.id)
        if clock is None:
            texts[row.id] = None
            continue
        ctx = contexts.get(row.tenant_id) or contexts.setdefault(
            row.tenant_id, _display_context(row.tenant_id))
        state, level, minutes = running_state(ctx.calendar, clock, now)
        if state == "paused":
            text = paused
        elif state == "late":
            text = late % {"time": humanize_minutes(-minutes)}
        else:
            text = left % {"time": humanize_minutes(minutes)}
        texts[row.id] = BadgeText("paused" if state == "paused" else level,
                                  f"{clock_label(clock.kind)} · {when(clock.due_at)}", text)
    return texts


def _display_context(tenant_id: int) -> Context:
    """The tenant's calendar and policy for showing badges: this request's own when it has
    loaded one (it may have changed them), else the calendar from the per-process reference
    cache (portal/reference_cache.py: its days' working time stays computed across requests;
    a change of the tenant or its calendar exceptions in this process drops it at once, in
    another within a minute). Only for display: clocks are scheduled with ``context_for``."""
    ctx = _contexts().get(tenant_id)
    if ctx is not None:
        return ctx
    tenant = db.session.get(Tenant, tenant_id)
    calendar = reference_cache.cached("deadline_calendar", (CalendarException, Tenant),
                                      lambda: _calendar(tenant))
    from .policy import policy_for

    return Context(tenant, calendar, policy_for(tenant))


def _calendar(tenant: Tenant) -> BusinessCalendar:
    return calendar_for(tenant, dict(db.session.execute(
        select(CalendarException.day, CalendarException.working)).all()))

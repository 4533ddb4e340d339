"""The recurrence check's clock: an effective verdict schedules a follow-up (three months
later by default) to confirm the problem has not come back. Its clock runs on the complaint
after closing (closing stops every other clock), warns the owner on the morning of the day
(the sweep's "deadline near"), is missed at the end of that day and escalates like the others.
Flushes, never commits; the complaint's tenant is active."""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import DeadlineClock, utcnow
from .clocks import _tenant_of, context_for, start

KIND = "recurrence_check"
DEFAULT_MONTHS = 3
MORNING = time(8, 0)


def months_later(day: date, months: int = DEFAULT_MONTHS) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def _clock(complaint) -> DeadlineClock | None:
    return db.session.scalar(select(DeadlineClock).where(
        DeadlineClock.complaint_id == complaint.id, DeadlineClock.kind == KIND,
        DeadlineClock.action_id.is_(None)).limit(1))


def schedule(complaint, follow_up_on: date, at: datetime | None = None) -> DeadlineClock | None:
    """Start (or move) the complaint's recurrence-check clock to ``follow_up_on``: warned at
    08:00 that day in the tenant's time zone, due at the day's end. None if the policy has
    the clock switched off."""
    ctx = context_for(_tenant_of(complaint))
    zone = ctx.calendar.zone
    warn_at = datetime.combine(follow_up_on, MORNING, tzinfo=zone)
    due_at = datetime.combine(follow_up_on + timedelta(days=1), time(0, 0), tzinfo=zone)
    at = at or utcnow()
    clock = _clock(complaint)
    if clock is None:
        clock = start(ctx, KIND, complaint=complaint, at=at, due_at=due_at)
        if clock is None:
            return None
    else:
        clock.started_at, clock.due_at, clock.budget_minutes = at, due_at, max(
            1, int((due_at - at).total_seconds() // 60))
        clock.stopped_at = clock.stop_reason = clock.paused_at = None
        clock.warned_at = clock.breached_at = clock.escalated_at = None
        clock.second_escalated_at = None
        clock.second_escalation_at = due_at + (due_at - at) * ctx.second_share
    clock.warn_at = min(warn_at, due_at)
    db.session.flush()
    return clock


def stop(complaint, reason: str, at: datetime | None = None) -> None:
    """Stop the recurrence-check clock (checked, or the verdict was overturned)."""
    clock = _clock(complaint)
    if clock is not None and clock.stopped_at is None:
        clock.stopped_at, clock.stop_reason = at or utcnow(), reason
        clock.paused_at = None
        db.session.flush()

"""The daily deadline digest: with the tenant setting ``deadline_digest_hour`` (an hour of
the tenant's day, e.g. 8), people who are not a clock's owner — department managers, the
managers — are not told of each missed deadline and escalation as it happens (the sweep
leaves them out, portal/deadlines/sweep.py); they get one message a day listing the
complaints whose deadlines were missed or escalated in the past 24 hours. The owner is still
told at once. Sent by the sweep during the hour after the chosen one; its dedupe key (the
tenant's local date) makes it once a day however often the sweep runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Action, Complaint, DeadlineClock, Department, StaffUser, Tenant

WINDOW = timedelta(hours=24)
MAX_LISTED = 30


def enabled(tenant: Tenant) -> bool:
    return tenant.setting("deadline_digest_hour") is not None


def due(tenant: Tenant, now: datetime) -> str | None:
    """The tenant's local date when ``now`` falls in the digest hour, else None."""
    hour = tenant.setting("deadline_digest_hour")
    if hour is None:
        return None
    local = now.astimezone(ZoneInfo(tenant.timezone))
    return local.date().isoformat() if local.hour == int(hour) else None


def send(tenant: Tenant, now: datetime) -> int:
    """Write today's digests for ``tenant`` (active) if it is the hour; returns how many."""
    from ..notifications import notify

    day = due(tenant, now)
    if day is None:
        return 0
    clocks = list(db.session.scalars(select(DeadlineClock).where(
        DeadlineClock.complaint_id.is_not(None),
        or_(DeadlineClock.breached_at >= now - WINDOW,
            DeadlineClock.second_escalated_at >= now - WINDOW))))
    if not clocks:
        return 0
    complaints = {c.id: c for c in db.session.scalars(select(Complaint).where(
        Complaint.id.in_({c.complaint_id for c in clocks})))}
    actions = {a.id: a for a in db.session.scalars(select(Action).where(
        Action.id.in_({c.action_id for c in clocks if c.action_id})))}
    staff = {u.id: u for u in db.session.scalars(select(StaffUser))}
    departments = {d.id: d for d in db.session.scalars(select(Department))}
    managers = [u for u in staff.values() if u.active and u.has_role("manager")]
    lists: dict[int, set[str]] = {}
    for clock in clocks:
        complaint = complaints[clock.complaint_id]
        action = actions.get(clock.action_id)
        owner_id = (action.owner_id if action is not None else None) or complaint.owner_id
        department = departments.get(complaint.responsible_department_id
                                     or getattr(staff.get(owner_id), "department_id", None))
        manager = staff.get(department.manager_id) if department is not None else None
        for person in ([manager] if manager is not None else managers):
            if person is not None and person.id != owner_id and person.active:
                lists.setdefault(person.id, set()).add(complaint.number)
    for person_id, numbers in lists.items():
        listed = sorted(numbers)
        notify("deadline.digest", [staff[person_id]],
               data={"count": len(listed), "numbers": listed[:MAX_LISTED], "day": day},
               dedupe_key=f"digest:{day}")
    return len(lists)

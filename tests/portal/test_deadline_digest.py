"""The daily digest (tenant setting ``deadline_digest_hour``): the owner hears of a missed
deadline at once; the department manager, who is not the owner, gets one digest a day."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.deadlines.sweep import run
from portal.models import DeadlineClock, Department, Notification
from portal.tenancy import activate


def _breach_then_digest(db, make_tenant, make_staff, make_complaint, digest_hour):
    tenant = make_tenant(settings={"deadline_digest_hour": digest_hour})
    owner, manager = make_staff(tenant, "after_sales"), make_staff(tenant, "manager")
    complaint = make_complaint(tenant)
    with activate(tenant):
        department = db.session.get(Department, owner.department_id)
        department.manager_id = manager.id
        complaint.owner_id = owner.id
        complaint.responsible_department_id = department.id
        db.session.flush()
        clock = db.session.scalar(select(DeadlineClock).where(
            DeadlineClock.complaint_id == complaint.id, DeadlineClock.kind == "first_contact"))
        started, number = clock.started_at, complaint.number
    return tenant, owner, manager, started, number


def _notes(db, tenant, person):
    with activate(tenant):
        db.session.expire_all()
        return [(n.event, n.data) for n in db.session.scalars(
            select(Notification).where(Notification.recipient == person.get_id())
            .order_by(Notification.id))]


def test_non_owners_get_one_digest_a_day(db, make_tenant, make_staff, make_complaint):
    tenant, owner, manager, started, number = _breach_then_digest(
        db, make_tenant, make_staff, make_complaint, None)
    at = started + timedelta(hours=24, minutes=30)  # the digest hour's minute 30
    with activate(tenant):
        tenant.settings = {**(tenant.settings or {}),
                           "deadline_digest_hour": at.astimezone(ZoneInfo(tenant.timezone)).hour}
        db.session.flush()
    run(started + timedelta(hours=24, minutes=1))
    assert [e for e, d in _notes(db, tenant, owner)
            if d.get("clock_kind") == "first_contact"] == ["deadline.breached"]
    assert [e for e, _d in _notes(db, tenant, manager) if e == "deadline.breached"] == []
    # In the digest hour: one digest naming the complaint, however often the sweep runs.
    run(at)
    run(at + timedelta(minutes=5))
    digests = [d for e, d in _notes(db, tenant, manager) if e == "deadline.digest"]
    assert len(digests) == 1 and number in digests[0]["numbers"]
    assert all(e != "deadline.digest" for e, _d in _notes(db, tenant, owner))


def test_without_the_setting_the_manager_is_told_at_once(db, make_tenant, make_staff,
                                                         make_complaint):
    tenant, owner, manager, started, number = _breach_then_digest(
        db, make_tenant, make_staff, make_complaint, None)
    run(started + timedelta(hours=24, minutes=1))
    assert "deadline.breached" in [e for e, _d in _notes(db, tenant, manager)]
    assert number

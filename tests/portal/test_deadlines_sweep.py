"""The sweep warns, escalates and escalates again exactly once per step, across tenants."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.complaints import workflow
from portal.deadlines import clocks as clocks_module
from portal.deadlines.sweep import run
from portal.models import (
    DeadlineClock,
    Delivery,
    Department,
    Notification,
    OutboxMessage,
    TimelineEvent,
)
from portal.tenancy import activate, unscoped


def _setup(db, make_tenant, make_staff, make_complaint, **tenant_fields):
    tenant = make_tenant(**tenant_fields)
    owner = make_staff(tenant, "after_sales")
    manager = make_staff(tenant, "manager")
    complaint = make_complaint(tenant)
    with activate(tenant):
        department = db.session.get(Department, owner.department_id)
        department.manager_id = manager.id
        complaint.owner_id = owner.id
        complaint.responsible_department_id = department.id
        db.session.flush()
    return tenant, owner, manager, complaint


def _clock(db, complaint, kind):
    db.session.expire_all()
    return db.session.scalar(select(DeadlineClock).where(
        DeadlineClock.complaint_id == complaint.id, DeadlineClock.kind == kind))


def _notes(db, tenant):
    with activate(tenant):
        return [(n.recipient, n.event, n.data.get("clock_kind")) for n in db.session.scalars(
            select(Notification).order_by(Notification.id))]


def test_each_step_happens_once(db, make_tenant, make_staff, make_complaint):
    tenant, owner, manager, complaint = _setup(db, make_tenant, make_staff, make_complaint)
    with activate(tenant):
        clock = _clock(db, complaint, "first_contact")  # 24 h calendar time
        started = clock.started_at
    # The complaint's working-time clocks (forward: half a working day) run on the calendar
    # of the day the test runs and may warn in any of these hours, so the checks below are of
    # this clock's own steps and notifications, not the sweep's totals.
    def warnings():
        return [n for n in _notes(db, tenant) if n[1:] == ("deadline.warning", "first_contact")]

    # 17 h in: nothing yet (warning at 75 % = 18 h).
    run(started + timedelta(hours=17))
    assert warnings() == []
    with activate(tenant):
        assert _clock(db, complaint, "first_contact").warned_at is None
    # 18 h 1 min: the owner is warned, once, even when the sweep runs twice.
    first = run(started + timedelta(hours=18, minutes=1))
    assert first.warned >= 1
    run(started + timedelta(hours=18, minutes=2))
    assert warnings() == [(f"staff:{owner.id}", "deadline.warning", "first_contact")]
    # 24 h 1 min: breached; owner and department manager escalated, once.
    breach = run(started + timedelta(hours=24, minutes=1))
    assert breach.breached >= 1
    run(started + timedelta(hours=24, minutes=5))
    notes = _notes(db, tenant)
    assert notes.count((f"staff:{owner.id}", "deadline.breached", "first_contact")) == 1
    assert notes.count((f"staff:{manager.id}", "deadline.breached", "first_contact")) == 1
    # A further half of the budget (12 h) later: second escalation to the manager only. The
    # counts are of this clock's notifications: the complaint's working-time clocks run on the
    # calendar of the day the test runs and may escalate in the same hours.
    def escalations():
        return [n for n in _notes(db, tenant) if n[1:] == ("deadline.escalated", "first_contact")]

    run(started + timedelta(hours=35))
    assert escalations() == []
    second = run(started + timedelta(hours=36, minutes=1))
    assert second.escalated >= 1
    run(started + timedelta(hours=40))
    assert len(escalations()) == 1
    notes = _notes(db, tenant)
    assert notes.count((f"staff:{manager.id}", "deadline.escalated", "first_contact")) == 1
    assert (f"staff:{owner.id}", "deadline.escalated", "first_contact") not in notes
    with activate(tenant):
        kinds = [e.kind for e in db.session.scalars(select(TimelineEvent).where(
            TimelineEvent.complaint_id == complaint.id, TimelineEvent.data["clock_kind"]
            .as_string() == "first_contact"))]
        assert kinds == ["deadline.warning", "deadline.breached", "deadline.escalated"]
        clock = _clock(db, complaint, "first_contact")
        assert clock.warned_at and clock.breached_at and clock.second_escalated_at
        # Every e-mail is a Delivery with a queued job.
        deliveries = db.session.scalar(select(func.count()).select_from(Delivery))
        assert deliveries == len(notes)
    with unscoped():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.job == "jobs.notify.deliver")) >= deliveries


def test_paused_and_stopped_clocks_are_left_alone(db, make_tenant, make_staff, make_complaint,
                                                  monkeypatch):
    tenant, owner, manager, complaint = _setup(db, make_tenant, make_staff, make_complaint)
    with activate(tenant):
        started = _clock(db, complaint, "first_contact").started_at
        # Verification starts (stops first_contact), then the customer is asked (pauses
        # the answer clock) for 10 hours.
        monkeypatch.setattr(clocks_module, "utcnow", lambda: started + timedelta(hours=1))
        workflow.transition(complaint, owner, "start_verification")
        monkeypatch.setattr(clocks_module, "utcnow", lambda: started + timedelta(hours=2))
        workflow.transition(complaint, owner, "request_information", "Serial number?")
        answer = _clock(db, complaint, "answer")
        assert answer.paused_at is not None
    # Paused: 50 h after start the answer clock (48 h) is not breached.
    result = run(started + timedelta(hours=50))
    with activate(tenant):
        answer = _clock(db, complaint, "answer")
        assert answer.breached_at is None
        assert _clock(db, complaint, "first_contact").stop_reason == "start_verification"
        contact = complaint.contact
        monkeypatch.setattr(clocks_module, "utcnow", lambda: started + timedelta(hours=12))
        workflow.transition(complaint, contact, "provide_information", "Here it is")
        answer = _clock(db, complaint, "answer")
        # Paused 10 h (2 h -> 12 h): due moves from 48 h to 58 h after the start.
        assert answer.paused_at is None and answer.paused_minutes == 600
        assert answer.due_at == started + timedelta(hours=58)
    assert result.breached == 0 or all(
        n[2] != "answer" for n in _notes(db, tenant) if n[1] == "deadline.breached")
    run(started + timedelta(hours=57))
    with activate(tenant):
        assert _clock(db, complaint, "answer").breached_at is None
    run(started + timedelta(hours=58, minutes=1))
    with activate(tenant):
        assert _clock(db, complaint, "answer").breached_at is not None


def test_sweep_spans_tenants_and_keeps_them_apart(db, make_tenant, make_staff, make_complaint):
    a = _setup(db, make_tenant, make_staff, make_complaint)
    b = _setup(db, make_tenant, make_staff, make_complaint, timezone="Europe/Berlin")
    with activate(a[0]):
        started = _clock(db, a[3], "first_contact").started_at
    result = run(started + timedelta(hours=25))
    assert {a[0].id, b[0].id} <= result.tenants
    for tenant, _owner, _manager, complaint in (a, b):
        with activate(tenant):
            mine = db.session.scalars(select(Notification)).all()
            assert mine and all(n.complaint_id == complaint.id for n in mine)


def test_rejected_as_misuse_uses_the_24_hour_answer(db, make_tenant, make_staff, make_complaint,
                                                     monkeypatch):
    tenant, owner, manager, complaint = _setup(db, make_tenant, make_staff, make_complaint)
    with activate(tenant):
        started = _clock(db, complaint, "answer").started_at
        workflow.transition(complaint, owner, "start_verification")
        monkeypatch.setattr(clocks_module, "utcnow", lambda: started + timedelta(hours=30))
        workflow.transition(complaint, owner, "reject", "Operated outside the manual")
        answer = _clock(db, complaint, "answer")
        assert answer.stop_reason == "reject"
        assert answer.due_at == started + timedelta(hours=24)
        from portal.deadlines import clocks_for

        view = next(v for v in clocks_for(complaint) if v.kind == "answer")
        assert view.state == "breached" and round(view.late_by_minutes) == 6 * 60

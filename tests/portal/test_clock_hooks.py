"""Changes that are not status changes still move the clocks: a class-A classification
starts its clock at once, and an action's due date gets a clock when the action is added."""

from datetime import timedelta

from sqlalchemy import select

from portal.complaints import casework, workflow
from portal.complaints.operations import classify
from portal.models import DeadlineClock, Department, utcnow
from portal.tenancy import activate


def _clock_kinds(db, complaint):
    return {c.kind for c in db.session.scalars(
        select(DeadlineClock).where(DeadlineClock.complaint_id == complaint.id))}


def test_class_a_clock_starts_when_classified(db, make_tenant, make_staff, make_complaint):
    tenant = make_tenant()
    quality = make_staff(tenant, "quality", "after_sales")
    complaint = make_complaint(tenant)
    with activate(tenant):
        assert "class_a_plan" not in _clock_kinds(db, complaint)
        department = db.session.scalar(select(Department))
        classify(complaint, quality, severity="major", info_class="A", cause_category="machine",
                 responsible_department_id=department.id)
        assert "class_a_plan" in _clock_kinds(db, complaint)


def _contained(db, tenant, quality, complaint):
    """Walk a minor complaint to containment and add a measure due tomorrow."""
    department = db.session.scalar(select(Department))
    workflow.transition(complaint, quality, "start_verification")
    workflow.transition(complaint, quality, "accept")
    classify(complaint, quality, severity="minor", info_class="B",
             cause_category="machine", responsible_department_id=department.id)
    workflow.transition(complaint, quality, "start_containment")
    return casework.add_action(complaint, quality, kind="containment", title="Spare part",
                               owner_id=quality.id, due_at=utcnow() + timedelta(days=1))


def _action_clocks(db, action):
    return db.session.scalars(select(DeadlineClock).where(
        DeadlineClock.action_id == action.id)).all()


def test_action_due_date_gets_a_clock(db, make_tenant, make_staff, make_complaint):
    tenant = make_tenant()
    quality = make_staff(tenant, "quality", "after_sales")
    complaint = make_complaint(tenant)
    with activate(tenant):
        action = _contained(db, tenant, quality, complaint)
        clocks = _action_clocks(db, action)
    assert len(clocks) == 1 and clocks[0].stopped_at is None


def test_closing_stops_action_clocks(db, make_tenant, make_staff, make_complaint):
    tenant = make_tenant()
    quality = make_staff(tenant, "quality", "after_sales")
    complaint = make_complaint(tenant)
    with activate(tenant):
        action = _contained(db, tenant, quality, complaint)
        workflow.transition(complaint, quality, "answer", message="Fixed with a spare part.")
        workflow.transition(complaint, quality, "close")
        clocks = _action_clocks(db, action)
    assert len(clocks) == 1 and clocks[0].stopped_at is not None

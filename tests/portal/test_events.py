"""Domain events: every workflow transition announces its event from the one listener, the
operations announce the others, and every name comes from the catalogue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import events
from portal.complaints import casework, requests, workflow
from portal.complaints.operations import classify
from portal.complaints.workflow import TRANSITIONS
from portal.models import Action, utcnow
from portal.tenancy import activate


@pytest.fixture
def heard():
    seen: list[events.Event] = []
    events.subscribe("test", seen.append)
    try:
        yield seen
    finally:
        events._subscribers.pop("test", None)


def test_every_transition_has_a_catalogued_event():
    assert {t.name for t in TRANSITIONS} == set(events.TRANSITION_EVENTS)
    assert set(events.TRANSITION_EVENTS.values()) <= set(events.EVENTS)


def test_unknown_events_are_refused(app):
    with pytest.raises(ValueError):
        events.announce("complaint_exploded", object())


def test_a_whole_loop_announces_each_step_once(db, heard, make_tenant, make_staff,
                                               make_contact, make_complaint):
    tenant = make_tenant()
    quality, after_sales = make_staff(tenant, "quality"), make_staff(tenant, "after_sales")
    manager, logistics = make_staff(tenant, "manager"), make_staff(tenant, "logistics")
    contact = make_contact(tenant)
    complaint = make_complaint(tenant, contact)
    with activate(tenant):
        workflow.transition(complaint, after_sales, "start_verification")
        workflow.transition(complaint, after_sales, "request_information", "Photos please")
        workflow.transition(complaint, contact, "provide_information", "Here")
        workflow.transition(complaint, quality, "accept")
        classify(complaint, quality, severity="minor", info_class="B", cause_category="machine",
                 owner_id=quality.id, responsible_department_id=quality.department_id)
        workflow.transition(complaint, quality, "start_containment")
        casework.add_action(complaint, after_sales, kind="containment", title="Spare",
                            owner_id=after_sales.id, due_at=utcnow() + timedelta(days=1))
        action = db.session.scalar(select(Action).where(Action.complaint_id == complaint.id))
        casework.complete_action(complaint, action, after_sales, result="Done")
        request = requests.create_request(complaint, after_sales, kind="replacement",
                                          quantity=1)
        requests.ship(complaint, request, logistics, carrier="sf", tracking_number="SF123")
        claim = requests.create_request(complaint, after_sales, kind="claim", amount=100)
        requests.decide(complaint, claim, manager, approve=True, note=None)
        workflow.transition(complaint, quality, "answer", "Replaced the bearing")
        workflow.transition(complaint, contact, "customer_accept")
        complaint_id = complaint.id
    names = [e.name for e in heard]
    assert names == ["submitted", "verification_started", "information_requested",
                     "information_supplied", "accepted", "classified", "assigned",
                     "containment_started", "containment_added", "action_done",
                     "request_created", "request_shipped", "request_created",
                     "request_approved", "answered", "customer_accepted", "closed"]
    assert {e.complaint.id for e in heard} == {complaint_id}
    assert len({e.id for e in heard}) == len(heard)
    closed = heard[-1]
    assert closed.actor is contact and closed.data["to_status"] == "closed"

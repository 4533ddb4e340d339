"""The state machine: every allowed transition works for every allowed role, and every
forbidden (state, transition) or (role, transition) pair is refused without changing a thing."""

import itertools

import pytest
from sqlalchemy import select

from portal.complaints import workflow
from portal.complaints.permissions import Refused
from portal.complaints.workflow import STATES, TRANSITIONS
from portal.models import ROLES, Action, Department, TimelineEvent, utcnow
from portal.tenancy import activate

ACTORS = (*ROLES, "customer", "other_customer")
NAMES = sorted({t.name for t in TRANSITIONS})


@pytest.fixture
def world(db, make_tenant, make_staff, make_contact, make_complaint):
    """A tenant, one staff user per role, the complaint's contact and a stranger contact."""
    tenant = make_tenant()
    actors = {role: make_staff(tenant, role) for role in ROLES}
    contact = make_contact(tenant)
    actors["customer"] = contact
    actors["other_customer"] = make_contact(tenant)

    def complaint_in(status: str):
        complaint = make_complaint(tenant, contact)
        with activate(tenant):
            department = db.session.scalar(select(Department))
            # Everything every guard asks for, so only roles and states decide.
            complaint.severity = "minor"
            complaint.cause_category = "machine"
            complaint.responsible_department_id = department.id
            complaint.root_cause = "Bearing preload too low"
            complaint.effective = True
            db.session.add_all([
                Action(complaint_id=complaint.id, kind="containment", title="Spare part"),
                Action(complaint_id=complaint.id, kind="corrective", title="Fix torque",
                       done_at=utcnow()),
            ])
            complaint.status = status  # test set-up only: put the complaint in a state
            db.session.flush()
        return complaint

    return tenant, actors, complaint_in


ALLOWED = [(t, source, role) for t in TRANSITIONS for source in t.source
           for role in sorted(t.roles)]


@pytest.mark.parametrize("t,source,role", ALLOWED,
                         ids=[f"{t.name}:{s}:{r}" for t, s, r in ALLOWED])
def test_allowed_transition(world, db, t, source, role):
    tenant, actors, complaint_in = world
    complaint = complaint_in(source)
    with activate(tenant):
        workflow.transition(complaint, actors[role], t.name, message="Because.")
        db.session.flush()
        assert complaint.status == t.target
        # Listeners (clocks, surveys) may write their own entries after the transition's.
        event = db.session.scalars(select(TimelineEvent).where(
            TimelineEvent.complaint_id == complaint.id,
            TimelineEvent.kind == f"transition.{t.name}")).one()
        assert (event.from_status, event.to_status) == (source, t.target)
        assert event.actor == actors[role].get_id()
        assert event.customer_visible == t.customer_visible


FORBIDDEN_ROLES = [(t, source, actor) for t in TRANSITIONS for source in t.source
                   for actor in ACTORS if actor not in t.roles]


@pytest.mark.parametrize("t,source,actor", FORBIDDEN_ROLES,
                         ids=[f"{t.name}:{s}:{a}" for t, s, a in FORBIDDEN_ROLES])
def test_forbidden_role(world, t, source, actor):
    tenant, actors, complaint_in = world
    complaint = complaint_in(source)
    with activate(tenant), pytest.raises(Refused) as error:
        workflow.transition(complaint, actors[actor], t.name, message="Because.")
    assert error.value.code == "forbidden"
    assert complaint.status == source


FORBIDDEN_STATES = [(name, state) for name, state in itertools.product(NAMES, STATES)
                    if workflow.find(name, state) is None]


@pytest.mark.parametrize("name,state", FORBIDDEN_STATES,
                         ids=[f"{n}:{s}" for n, s in FORBIDDEN_STATES])
def test_forbidden_from_state(world, name, state):
    tenant, actors, complaint_in = world
    complaint = complaint_in(state)
    with activate(tenant), pytest.raises(Refused) as error:
        workflow.transition(complaint, actors["manager"], name, message="Because.")
    assert error.value.code == "not_from_status"
    assert complaint.status == state


@pytest.mark.parametrize("t", [t for t in TRANSITIONS if t.needs_message],
                         ids=lambda t: f"{t.name}:{t.source[0]}")
def test_message_required(world, t):
    tenant, actors, complaint_in = world
    complaint = complaint_in(t.source[0])
    role = sorted(t.roles)[0]
    with activate(tenant), pytest.raises(Refused) as error:
        workflow.transition(complaint, actors[role], t.name, message="   ")
    assert error.value.code == "message_required"


@pytest.mark.parametrize("name,state,spoil", [
    ("start_containment", "accepted", lambda c: setattr(c, "severity", None)),
    ("start_analysis", "containment", "containment"),
    ("start_corrective_action", "analysis", lambda c: setattr(c, "root_cause", "")),
    ("submit_for_verification", "corrective_action", "corrective"),
    ("answer", "verifying_effectiveness", lambda c: setattr(c, "effective", None)),
    ("answer", "containment", lambda c: setattr(c, "severity", "major")),
])
def test_guards_refuse(world, db, name, state, spoil):
    tenant, actors, complaint_in = world
    complaint = complaint_in(state)
    with activate(tenant):
        if callable(spoil):
            spoil(complaint)
        else:
            for action in db.session.scalars(select(Action).where(
                    Action.complaint_id == complaint.id, Action.kind == spoil)):
                if spoil == "corrective":
                    action.done_at = None
                else:
                    db.session.delete(action)
        db.session.flush()
        t = workflow.find(name, state)
        role = sorted(r for r in t.roles if r != "customer")[0]
        with pytest.raises(Refused) as error:
            workflow.transition(complaint, actors[role], name, message="Answer.")
    assert error.value.code == "guard"
    assert complaint.status == state


def test_customer_of_another_company_cannot_act(world):
    tenant, actors, complaint_in = world
    complaint = complaint_in("answered")
    with activate(tenant), pytest.raises(Refused) as error:
        workflow.transition(complaint, actors["other_customer"], "customer_accept")
    assert error.value.code == "forbidden"


def test_effects_of_the_loop(world, db):
    """Reject keeps the reason; answer stamps answered_at; close stamps closed_at; reopen clears it."""
    tenant, actors, complaint_in = world
    with activate(tenant):
        rejected = complaint_in("verifying")
        workflow.transition(rejected, actors["after_sales"], "reject", message="Misuse.")
        assert rejected.rejection_reason == "Misuse."

        complaint = complaint_in("verifying_effectiveness")
        workflow.transition(complaint, actors["quality"], "answer", message="We fixed it.")
        assert complaint.answer == "We fixed it." and complaint.answered_at is not None
        workflow.transition(complaint, actors["customer"], "customer_accept")
        assert complaint.closed_at is not None and complaint.customer_verdict == "accepted"
        workflow.transition(complaint, actors["manager"], "reopen", message="Came back.")
        assert complaint.status == "analysis" and complaint.closed_at is None
        assert complaint.effective is None


def test_available_lists_only_what_the_actor_may_do(world):
    tenant, actors, complaint_in = world
    complaint = complaint_in("answered")
    with activate(tenant):
        assert {t.name for t in workflow.available(complaint, actors["customer"])} == {
            "customer_accept", "dispute"}
        assert workflow.available(complaint, actors["other_customer"]) == []
        assert workflow.can(complaint, actors["quality"], "close")
        assert not workflow.can(complaint, actors["logistics"], "close")


def test_listeners_are_called(world, monkeypatch):
    tenant, actors, complaint_in = world
    seen = []
    monkeypatch.setattr(workflow, "_listeners", [lambda c, t, a, f: seen.append((t.name, f))])
    complaint = complaint_in("received")
    with activate(tenant):
        workflow.transition(complaint, actors["after_sales"], "start_verification")
    assert seen == [("start_verification", "received")]

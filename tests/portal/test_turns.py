"""The audit of issue 10's lists: a complaint walked through the whole loop through the real
operations, and at each step exactly the notifications the issue names are written — which
kind, to whom, by which channel — and nothing else; preferences and the tenant's channels
are honoured, the sweep's action notices come once each however often it runs, and a reply
by e-mail outside a question reaches the owner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.complaints import casework, eight_d, requests, workflow
from portal.complaints.operations import classify
from portal.deadlines import sweep
from portal.models import Delivery, Department, Notification, utcnow
from portal.notifications import set_preferences
from portal.tenancy import activate


class Ledger:
    """What was written since the last look: {(kind, recipient): channel} where channel is
    "email" (an in-app row and an e-mail), "in_app" or "email only" (the row born read)."""

    def __init__(self, db):
        self.db, self.seen = db, 0

    def new(self) -> dict[tuple[str, str], str]:
        from portal.tenancy import unscoped

        with unscoped():
            return self._new()

    def _new(self) -> dict[tuple[str, str], str]:
        rows = self.db.session.scalars(select(Notification).where(
            Notification.id > self.seen).order_by(Notification.id)).all()
        emailed = {d.notification_id for d in self.db.session.scalars(
            select(Delivery).where(Delivery.notification_id.in_([r.id for r in rows])))}
        result: dict[tuple[str, str], str] = {}
        for row in rows:
            key = (row.event, row.recipient)
            assert key not in result, f"{key} written twice"
            result[key] = ("email" if row.read_at is None else "email only") \
                if row.id in emailed else "in_app"
            self.seen = max(self.seen, row.id)
        return result


@pytest.fixture
def loop(db, make_tenant, make_staff, make_contact, make_complaint):
    tenant = make_tenant(settings={"tell_customer_containment": True,
                                   "return_approval_chain": ["after_sales", "quality",
                                                             "manager"]})
    with activate(tenant):
        production = Department(name="Production", kind="production")
        db.session.add(production)
        db.session.flush()
    people = {
        "after_sales": make_staff(tenant, "after_sales"),
        "quality": make_staff(tenant, "quality"),
        "quality2": make_staff(tenant, "quality"),
        "manager": make_staff(tenant, "manager"),
        "logistics": make_staff(tenant, "logistics"),
        "finance": make_staff(tenant, "finance"),
        # the owner: a responder of the production department, and a colleague of theirs
        "owner": make_staff(tenant, "responder", department=production),
        "colleague": make_staff(tenant, "technical", department=production),
    }
    with activate(tenant):
        contact = make_contact(tenant, locale="zh_CN")
    return tenant, people, contact, production


def _who(people, customer, **expected) -> dict:
    """``name=(kind, channel)`` → {(kind, recipient id): channel}."""
    out = {}
    for name, (kind, channel) in expected.items():
        person = customer if name == "contact" else people[name]
        out[(kind, person.get_id())] = channel
    return out


def _receive(complaint, request, logistics):
    """The return's goods received on its record (RMA)."""
    from portal.extensions import db
    from portal.models import GoodsReturn
    from portal.returns import records

    ret = db.session.scalar(select(GoodsReturn).where(GoodsReturn.request_id == request.id))
    records.receive(complaint, ret, logistics, quantity_received=2, received_on=utcnow().date(),
                    condition="intact", location="Q-1", tag="QT-1")


def _appraise(complaint, request, after_sales, quality):
    from portal.extensions import db
    from portal.models import GoodsReturn
    from portal.returns import appraisal, records

    ret = db.session.scalar(select(GoodsReturn).where(GoodsReturn.request_id == request.id))
    records.analyse(complaint, ret, after_sales, analysis="noise", grade="suspected_defect")
    appraisal.appraise(complaint, ret, quality, verdict="quality_problem", appraisal="seized",
                       defective_quantity=2, origin="self_made")


def test_each_step_tells_exactly_whose_turn_it_is(db, loop, make_complaint):
    tenant, p, contact, production = loop
    ledger, mail = Ledger(db), "email"
    customer = "email"  # and the portal's bell

    def step(expected: dict, action, *args, **kwargs):
        result = action(*args, **kwargs)
        assert ledger.new() == _who(p, contact, **expected), action
        return result

    with activate(tenant):
        complaint = make_complaint(tenant, contact)
        assert ledger.new() == _who(p, contact, after_sales=("work.arrived", mail))
        step({}, workflow.transition, complaint, p["after_sales"], "start_verification")
        step({"contact": ("customer.information_requested", customer)}, workflow.transition,
             complaint, p["after_sales"], "request_information", "Which lot?")
        step({"after_sales": ("work.customer_replied", mail)}, workflow.transition,
             complaint, contact, "provide_information", "Lot 7")
        step({"contact": ("customer.accepted", customer),
              "quality": ("work.to_classify", mail), "quality2": ("work.to_classify", mail)},
             workflow.transition, complaint, p["after_sales"], "accept")
        step({"owner": ("work.assigned", mail), "colleague": ("work.department", mail)},
             classify, complaint, p["quality"], severity="major", info_class="B",
             cause_category="man", owner_id=p["owner"].id,
             responsible_department_id=production.id)
        step({"contact": ("customer.containment", customer)}, workflow.transition,
             complaint, p["quality"], "start_containment")
        # Item 5: the owner (a responder) records the containment measure himself.
        due = utcnow() + timedelta(days=3)
        step({"colleague": ("work.action_assigned", mail)}, casework.add_action, complaint,
             p["owner"], kind="containment", title="Sort the stock",
             owner_id=p["colleague"].id, due_at=due)
        ret = requests.create_request(complaint, p["after_sales"], kind="return", quantity=2)
        assert ledger.new() == {}  # after-sales signs the first step itself
        step({"quality": ("work.approval_waiting", mail),
              "quality2": ("work.approval_waiting", mail)},
             requests.decide, complaint, ret, p["after_sales"], approve=True, note=None)
        step({"manager": ("work.approval_waiting", mail)},
             requests.decide, complaint, ret, p["quality2"], approve=True, note=None)
        step({"logistics": ("work.request_to_fulfil", mail)},
             requests.decide, complaint, ret, p["manager"], approve=True, note=None)
        replacement = step({"logistics": ("work.request_to_fulfil", mail)},
                           requests.create_request, complaint, p["after_sales"],
                           kind="replacement", quantity=1)
        step({"contact": ("customer.shipped", customer)}, requests.ship, complaint,
             replacement, p["logistics"], carrier="sf", tracking_number="SF1234567")
        step({"contact": ("customer.received", customer),
              "after_sales": ("work.return_received", mail),
              "quality": ("work.return_received", mail),
              "quality2": ("work.return_received", mail)},
             _receive, complaint, ret, p["logistics"])
        _appraise(complaint, ret, p["after_sales"], p["quality"])  # needed to close later
        told = ledger.new()
        assert told[("customer.return_appraised", contact.get_id())] == customer
        step({}, workflow.transition, complaint, p["quality"], "start_analysis")
        # The responsible department writes the root cause, its 8D and the corrective action.
        step({}, eight_d.start_report, complaint, p["colleague"])
        step({}, casework.record_root_cause, complaint, p["colleague"], text="No torque spec",
             whys=["Loose"], factors=[], expected_version=complaint.version)
        action = step({"colleague": ("work.action_assigned", mail)}, casework.add_action,
                      complaint, p["owner"], kind="corrective", title="Torque in the instruction",
                      owner_id=p["colleague"].id, due_at=due)
        step({}, workflow.transition, complaint, p["owner"], "start_corrective_action")
        step({}, casework.complete_action, complaint, action, p["colleague"], result="WI-203")
        step({"quality": ("work.to_verify", mail), "quality2": ("work.to_verify", mail)},
             workflow.transition, complaint, p["owner"], "submit_for_verification")
        step({}, casework.verify_effectiveness, complaint, p["quality"], effective=True,
             note="Two weeks quiet", expected_version=complaint.version)
        step({"contact": ("customer.answered", customer)}, workflow.transition, complaint,
             p["after_sales"], "answer", "We replaced the bearing.")
        step({"owner": ("work.customer_disputed", mail)}, workflow.transition, complaint,
             contact, "dispute", "Still noisy")
        step({}, workflow.transition, complaint, p["owner"], "start_corrective_action")
        step({"quality": ("work.to_verify", mail), "quality2": ("work.to_verify", mail)},
             workflow.transition, complaint, p["owner"], "submit_for_verification")
        step({}, casework.verify_effectiveness, complaint, p["quality"], effective=True,
             note="Quiet now", expected_version=complaint.version)
        step({"contact": ("customer.answered", customer)}, workflow.transition, complaint,
             p["after_sales"], "answer", "We also changed the grease.")
        # The customer closed it by accepting: not told about their own act.
        step({}, workflow.transition, complaint, contact, "customer_accept")


def test_preferences_and_channels_decide_the_channel(db, loop, make_complaint,
                                                      make_tenant, make_staff):
    tenant, p, contact, production = loop
    ledger = Ledger(db)
    with activate(tenant):
        set_preferences(p["colleague"], {"work.action_assigned": {"in_app": True}})
        set_preferences(p["owner"], {})  # everything off
        complaint = make_complaint(tenant, contact)
        ledger.new()
        workflow.transition(complaint, p["after_sales"], "start_verification")
        workflow.transition(complaint, p["after_sales"], "accept")
        classify(complaint, p["quality"], severity="minor", info_class="B",
                 cause_category="man", owner_id=p["owner"].id,
                 responsible_department_id=production.id)
        workflow.transition(complaint, p["quality"], "start_containment")
        casework.add_action(complaint, p["quality"], kind="containment", title="Sort",
                            owner_id=p["colleague"].id, due_at=utcnow() + timedelta(days=2))
        told = ledger.new()
        assert ("work.assigned", p["owner"].get_id()) not in told  # switched off
        assert told[("work.action_assigned", p["colleague"].get_id())] == "in_app"
    # A tenant that sends no e-mail: the bell only, for staff; the customer is not mailed.
    quiet = make_tenant(settings={"notification_channels": ["in_app"]})
    after_sales, quality = make_staff(quiet, "after_sales"), make_staff(quiet, "quality")
    with activate(quiet):
        case = make_complaint(quiet)
        workflow.transition(case, after_sales, "start_verification")
        workflow.transition(case, after_sales, "accept")
        told = ledger.new()
        assert told[("work.to_classify", quality.get_id())] == "in_app"
        assert all(channel == "in_app" for channel in told.values()), told


def test_the_sweep_tells_an_action_owner_once_each(db, loop, make_complaint):
    tenant, p, contact, production = loop
    ledger = Ledger(db)
    now = utcnow()
    with activate(tenant):
        tenant.settings = {**(tenant.settings or {}), "deadline_digest_hour": 3}
        complaint = make_complaint(tenant, contact)
        workflow.transition(complaint, p["after_sales"], "start_verification")
        workflow.transition(complaint, p["after_sales"], "accept")
        classify(complaint, p["quality"], severity="major", info_class="B",
                 cause_category="man", owner_id=p["owner"].id,
                 responsible_department_id=production.id)
        workflow.transition(complaint, p["quality"], "start_containment")
        casework.add_action(complaint, p["owner"], kind="containment", title="Sort",
                            owner_id=p["colleague"].id, due_at=now + timedelta(hours=30))
        db.session.flush()
        ledger.new()
    colleague = p["colleague"].get_id()
    sweep.run(now + timedelta(hours=2))
    assert ("work.action_due_soon", colleague) not in ledger.new()  # not yet a day before
    for _ in range(2):  # the sweep runs twice: told once
        sweep.run(now + timedelta(hours=7))
    told = ledger.new()
    assert {k for k in told if k[1] == colleague} == {("work.action_due_soon", colleague)}
    for _ in range(2):
        sweep.run(now + timedelta(hours=31))
    told = ledger.new()
    assert ("work.action_overdue", colleague) in told
    assert ("deadline.breached", colleague) not in told  # told as their work, not twice
    with activate(tenant):
        row = db.session.scalar(select(Notification).where(
            Notification.event == "work.action_overdue"))
        assert row.data["title"] == "Sort" and row.data["due_at"]


def test_an_emailed_reply_outside_a_question_reaches_the_owner(db, loop, make_complaint):
    from imap_tools import MailMessage

    from portal.mailin import _thread

    tenant, p, contact, production = loop
    ledger = Ledger(db)
    with activate(tenant):
        complaint = make_complaint(tenant, contact)
        workflow.transition(complaint, p["after_sales"], "start_verification")
        workflow.transition(complaint, p["after_sales"], "accept")
        classify(complaint, p["quality"], severity="minor", info_class="B",
                 cause_category="man", owner_id=p["owner"].id,
                 responsible_department_id=production.id)
        ledger.new()
        raw = (f"From: {contact.name} <{contact.email}>\r\nTo: service@example.com\r\n"
               f"Subject: Re: {complaint.number}\r\nMessage-ID: <r1@example.com>\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nIt got worse today.\r\n")
        _thread(complaint, MailMessage.from_bytes(raw.encode()), contact.email.lower(),
                "It got worse today.")
        assert ledger.new() == {("work.customer_replied", p["owner"].get_id()): "email"}

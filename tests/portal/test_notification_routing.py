"""Every turn reaches its person: portal/notifications/routing.py maps each domain event to
its recipients, honours preferences and the tenant's channels, and never sends twice; the
customer's e-mails reach a real SMTP sink with a link that signs them in."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal import events, uow
from portal.complaints import casework, requests, workflow
from portal.complaints.operations import classify
from portal.models import Delivery, Department, Notification, utcnow
from portal.notifications import set_preferences
from portal.tenancy import activate
from tests.conftest import csrf_from


class _Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink(app, monkeypatch):
    sink, port = _Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_URL", f"smtp://127.0.0.1:{port}")
    try:
        yield sink
    finally:
        controller.stop()


def _told(db, kind: str) -> dict[str, int]:
    rows = db.session.scalars(select(Notification).where(Notification.event == kind)).all()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.recipient] = counts.get(row.recipient, 0) + 1
    return counts


def test_each_turn_reaches_its_person_once(db, make_tenant, make_staff, make_contact,
                                           make_complaint):
    tenant = make_tenant()
    after_sales, quality = make_staff(tenant, "after_sales"), make_staff(tenant, "quality")
    second_quality = make_staff(tenant, "quality")
    manager, responder = make_staff(tenant, "manager"), make_staff(tenant, "responder")
    with activate(tenant):
        production = Department(name="Production", kind="production")
        db.session.add(production)
        db.session.flush()
        colleague = make_staff(tenant, "responder", department=production)
        contact = make_contact(tenant)
        complaint = make_complaint(tenant, contact)
        assert _told(db, "work.arrived") == {after_sales.get_id(): 1}
        workflow.transition(complaint, after_sales, "start_verification")
        workflow.transition(complaint, after_sales, "request_information", "Photo of the label?")
        workflow.transition(complaint, contact, "provide_information", "Attached")
        workflow.transition(complaint, quality, "accept")
        classify(complaint, quality, severity="minor", info_class="B", cause_category="machine",
                 owner_id=quality.id, responsible_department_id=production.id)
        # quality made itself owner: nobody is told about their own act.
        assert _told(db, "work.assigned") == {}
        assert _told(db, "work.department") == {colleague.get_id(): 1}
        casework.add_action(complaint, quality, kind="containment", title="Sort stock",
                            owner_id=responder.id, due_at=utcnow() + timedelta(days=1))
        assert _told(db, "work.action_assigned") == {responder.get_id(): 1}
        # The return's chain is after_sales -> quality -> manager: each signer in turn.
        ret = requests.create_request(complaint, after_sales, kind="return", quantity=2)
        assert _told(db, "work.approval_waiting") == {}  # the creator holds step 1's role
        requests.decide(complaint, ret, after_sales, approve=True, note=None)
        assert _told(db, "work.approval_waiting") == {quality.get_id(): 1,
                                                      second_quality.get_id(): 1}
        requests.decide(complaint, ret, second_quality, approve=True, note=None)
        waiting = _told(db, "work.approval_waiting")
        assert waiting[manager.get_id()] == 1 and quality.get_id() in waiting
        assert waiting[second_quality.get_id()] == 1  # not told again: it signed already
        workflow.transition(complaint, quality, "start_containment")
        workflow.transition(complaint, quality, "answer", "We replaced the bearing.")
        workflow.transition(complaint, contact, "dispute", "Still noisy")
        assert _told(db, "work.customer_disputed") == {quality.get_id(): 1}
        # The reply answered after-sales' question: the one who asked heard it.
        assert _told(db, "work.customer_replied") == {after_sales.get_id(): 1}
        # The customer: the question, acceptance, the answer; not their own dispute.
        for kind in ("customer.information_requested", "customer.accepted",
                     "customer.answered"):
            assert _told(db, kind) == {contact.get_id(): 1}, kind
        question = db.session.scalar(select(Notification).where(
            Notification.event == "customer.information_requested"))
        assert question.data["message"] == "Photo of the label?"
        assert _told(db, "customer.closed") == {}


def test_preferences_and_tenant_channels_are_honoured(db, make_tenant, make_staff,
                                                      make_complaint):
    tenant = make_tenant(settings={"notification_channels": ["in_app"]})
    quality, quiet = make_staff(tenant, "quality"), make_staff(tenant, "quality")
    after_sales = make_staff(tenant, "after_sales")
    with activate(tenant):
        set_preferences(quiet, {})  # everything off
        complaint = make_complaint(tenant)
        workflow.transition(complaint, after_sales, "start_verification")
        workflow.transition(complaint, after_sales, "accept")
        for owner in (quality, quiet):
            classify(complaint, after_sales, severity="minor", info_class="B",
                     cause_category="machine", owner_id=owner.id)
        assert _told(db, "work.assigned") == {quality.get_id(): 1}
        # The tenant sends no e-mail: no delivery at all, the bell only.
        assert db.session.scalars(select(Delivery)).all() == []


def test_an_event_announced_twice_sends_once(db, make_tenant, make_staff, make_complaint,
                                             smtp_sink):
    tenant = make_tenant()
    owner, boss = make_staff(tenant, "quality"), make_staff(tenant, "manager")
    complaint = make_complaint(tenant)
    with activate(tenant):
        uow.commit()
        event = events.Event(name="assigned", complaint=complaint, actor=boss,
                             data={"owner_id": owner.id})
        from portal.notifications import routing

        routing.on_event(event)
        routing.on_event(event)  # the same event again (a retried job)
        uow.commit()
        assert _told(db, "work.assigned") == {owner.get_id(): 1}
        delivery = db.session.scalar(select(Delivery))
        assert delivery.status == "sent"
        from jobs.notify import deliver

        assert deliver(tenant.id, delivery.id) == "skipped"  # the send job run twice
    assert [m["To"] for m in smtp_sink.messages].count(owner.email) == 1


def test_customer_mails_name_the_case_and_sign_in(client, db, app, make_tenant, make_staff,
                                                  make_contact, make_product, make_complaint,
                                                  smtp_sink):
    tenant = make_tenant()
    after_sales, logistics = make_staff(tenant, "after_sales"), make_staff(tenant, "logistics")
    product = make_product(tenant, code="PX-9")
    contact = make_contact(tenant, locale="zh_CN")
    address = contact.email
    with activate(tenant):
        complaint = make_complaint(tenant, contact, product_model_id=product.id)
        number = complaint.number
        workflow.transition(complaint, after_sales, "start_verification")
        workflow.transition(complaint, after_sales, "request_information",
                            "<script>alert(1)</script> Which lot?")
        uow.commit()
        workflow.transition(complaint, after_sales, "resume_verification", "Called")
        workflow.transition(complaint, after_sales, "accept")
        replacement = requests.create_request(complaint, after_sales, kind="replacement",
                                              quantity=1)
        requests.ship(complaint, replacement, logistics, carrier="sf",
                      tracking_number="SF1234567")
        uow.commit()
    to_customer = [m for m in smtp_sink.messages if m["To"] == address]
    subjects = [m["Subject"] for m in to_customer]
    assert len(to_customer) == 3, subjects
    for mail in to_customer:
        assert number in mail["Subject"]
        text = mail.get_body(("plain",)).get_content()
        assert "PX-9 型号" in text and number in text
    question = to_customer[0]
    assert "需要" in question["Subject"] or "信息" in question["Subject"], question["Subject"]
    html = question.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "SF1234567" in to_customer[2].get_body(("plain",)).get_content()
    # The link signs the contact in and opens the complaint.
    link = next(line for line in question.get_body(("plain",)).get_content().splitlines()
                if "/sign-in/link/" in line).strip()
    path = urlsplit(link).path
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/t/{tenant.slug}/complaints/{number}")
    opened = client.get(response.headers["Location"])
    assert opened.status_code == 200 and number in opened.get_data(as_text=True)
    # The link works once.
    again = client.post(path, data={"csrf_token": csrf_from(client.get(path).get_data(
        as_text=True))})
    assert "/complaints/" not in again.headers.get("Location", "")


def test_a_visitor_gets_the_follow_link(db, make_tenant, make_staff, smtp_sink):
    from portal.complaints.operations import submit_complaint
    from portal.complaints.timeline import Visitor

    tenant = make_tenant()
    after_sales = make_staff(tenant, "after_sales")
    with activate(tenant):
        complaint, _ = submit_complaint(tenant, Visitor("Wang"), data={
            "reporter_name": "Wang", "reporter_email": "wang@visitor.example.com",
            "title": "Noise", "description": "Loud", "defect_quantity": 1,
            "demands": ["answer"]})
        workflow.transition(complaint, after_sales, "start_verification")
        workflow.transition(complaint, after_sales, "reject", "Damaged in transport by you")
        uow.commit()
        number = complaint.number
    mail = next(m for m in smtp_sink.messages if m["To"] == "wang@visitor.example.com")
    text = mail.get_body(("plain",)).get_content()
    assert number in mail["Subject"] and "Damaged in transport by you" in text
    assert f"/t/{tenant.slug}/follow/" in text


@pytest.mark.parametrize("told", [True, False])
def test_containment_is_told_when_the_tenant_says_so(db, make_tenant, make_staff,
                                                     make_contact, make_complaint, told):
    tenant = make_tenant(settings={"tell_customer_containment": told})
    quality = make_staff(tenant, "quality")
    contact = make_contact(tenant)
    with activate(tenant):
        complaint = make_complaint(tenant, contact)
        workflow.transition(complaint, quality, "start_verification")
        workflow.transition(complaint, quality, "accept")
        classify(complaint, quality, severity="minor", info_class="B", cause_category="machine",
                 owner_id=quality.id, responsible_department_id=quality.department_id)
        workflow.transition(complaint, quality, "start_containment")
        expected = {contact.get_id(): 1} if told else {}
        assert _told(db, "customer.containment") == expected

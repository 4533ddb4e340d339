"""Issue 10, item 2: every e-mail the customer gets about their complaint — information
requested (with the question), accepted, containment started (the tenant's choice),
replacement shipped (with the tracking number), return received, answer ready, closed,
survey ready — reaches a real SMTP sink once, in the contact's language, naming the complaint
number and the product, with a link that works; the answer's link opens the page where the
customer accepts or disputes, and the survey is reachable from the closed complaint's page."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from portal import uow
from portal.complaints import casework, requests, workflow
from portal.complaints.operations import classify
from portal.models import Survey, utcnow
from portal.tenancy import activate
from tests.conftest import csrf_from
from tests.portal.test_notification_routing import smtp_sink  # noqa: F401 — the fixture

# (what the mail is about, a word its Chinese subject carries)
EXPECTED = [("information_requested", "信息"), ("accepted", "受理"), ("containment", "措施"),
            ("shipped", "补发货物"), ("received", "收到"), ("return_appraised", "鉴定"),
            ("answered", "答复"), ("closed", "关闭"), ("survey", "满意")]


def _link(mail) -> str:
    text = mail.get_body(("plain",)).get_content()
    return next(word for line in text.splitlines() for word in line.split()
                if word.startswith("http"))


def _open(client, link: str) -> str:
    """Follow a sign-in link as the mail's reader does: the page, then its button."""
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _receive(complaint, request, logistics):
    """The return's goods received on its record (RMA): the customer is told."""
    from portal.extensions import db
    from portal.models import GoodsReturn
    from portal.returns import records

    ret = db.session.scalar(select(GoodsReturn).where(GoodsReturn.request_id == request.id))
    records.receive(complaint, ret, logistics, quantity_received=1, received_on=utcnow().date(),
                    condition="intact", location="Q-1", tag="QT-1")
    return ret


def _appraise(complaint, ret, after_sales, quality):
    """Analysed and appraised: a complaint closes only with its returns appraised."""
    from portal.returns import appraisal, records

    records.analyse(complaint, ret, after_sales, analysis="噪音", grade="suspected_defect")
    appraisal.appraise(complaint, ret, quality, verdict="quality_problem", appraisal="轴承卡滞",
                       defective_quantity=1, origin="self_made")


def _walk(tenant, staff, contact, complaint):
    after_sales, quality, logistics = staff
    workflow.transition(complaint, after_sales, "start_verification")
    workflow.transition(complaint, after_sales, "request_information", "哪一批次？")
    workflow.transition(complaint, contact, "provide_information", "批次 7")
    workflow.transition(complaint, after_sales, "accept")
    classify(complaint, quality, severity="minor", info_class="B", cause_category="man",
             owner_id=quality.id, responsible_department_id=quality.department_id)
    workflow.transition(complaint, quality, "start_containment")
    casework.add_action(complaint, quality, kind="containment", title="挑选库存",
                        owner_id=quality.id, due_at=utcnow())
    replacement = requests.create_request(complaint, after_sales, kind="replacement",
                                          quantity=1)
    requests.ship(complaint, replacement, logistics, carrier="sf",
                  tracking_number="SF7654321")
    ret = requests.create_request(complaint, after_sales, kind="return", quantity=1)
    _appraise(complaint, _receive(complaint, ret, logistics), after_sales, quality)
    workflow.transition(complaint, quality, "answer", "已更换轴承。")
    uow.commit()


def test_every_customer_mail_names_the_case_and_links_back(client, db, make_tenant,
                                                          make_staff, make_contact,
                                                          make_product, make_complaint,
                                                          smtp_sink):  # noqa: F811
    tenant = make_tenant(settings={"tell_customer_containment": True,
                                   "return_approval_chain": [], "survey_delay_hours": 0})
    staff = (make_staff(tenant, "after_sales"), make_staff(tenant, "quality"),
             make_staff(tenant, "logistics"))
    product = make_product(tenant, code="PX-9")
    contact = make_contact(tenant, locale="zh_CN")
    address = contact.email
    with activate(tenant):
        complaint = make_complaint(tenant, contact, product_model_id=product.id)
        number = complaint.number
        _walk(tenant, staff, contact, complaint)
    mails = [m for m in smtp_sink.messages if m["To"] == address]
    answered = mails[-1]
    assert "答复" in answered["Subject"]
    # The answer's link opens the complaint where the customer accepts or disputes.
    html = _open(client, _link(answered))
    assert "接受答复" in html or "Accept the answer" in html
    assert "/dispute" in html and "已更换轴承。" in html
    client.get(f"/t/{tenant.slug}/sign-out")
    with activate(tenant):
        complaint = db.session.merge(complaint)
        workflow.transition(complaint, staff[0], "close")  # staff close it
        uow.commit()
        survey = db.session.scalar(select(Survey).where(Survey.complaint_id == complaint.id))
        assert survey.sent_at is not None  # no delay: sent when the closing committed
    mails = [m for m in smtp_sink.messages if m["To"] == address]
    assert len(mails) == len(EXPECTED), [m["Subject"] for m in mails]  # each once
    by_kind = {}
    for what, word in EXPECTED:  # the closing and the survey are sent by separate jobs
        found = [m for m in mails if word in m["Subject"]]
        assert len(found) == 1, (what, [m["Subject"] for m in mails])
        by_kind[what] = found[0]
        text = found[0].get_body(("plain",)).get_content()
        assert number in found[0]["Subject"] and "PX-9" in text and number in text, what
        assert _link(found[0]).startswith("http"), what
    assert "哪一批次？" in by_kind["information_requested"].get_body(("plain",)).get_content()
    shipped = by_kind["shipped"].get_body(("plain",)).get_content()
    assert "承运商：顺丰速运" in shipped and "SF7654321" in shipped  # carrier next to the number
    assert shipped.index("顺丰速运") < shipped.index("SF7654321")
    # The survey is reachable from the closed complaint's page too, not only by e-mail.
    page = _open(client, _link(by_kind["closed"]))
    assert 'id="survey"' in page
    survey_path = page.split('id="survey"')[1].split('href="')[1].split('"')[0]
    assert survey_path == urlsplit(_link(by_kind["survey"])).path
    assert client.get(survey_path).status_code == 200


def test_a_visitor_is_written_to_in_the_language_they_filed_in(db, make_tenant, make_staff,
                                                               smtp_sink):  # noqa: F811
    from portal.complaints.operations import submit_complaint
    from portal.complaints.timeline import Visitor

    tenant = make_tenant(default_locale="zh_CN")
    after_sales = make_staff(tenant, "after_sales")
    with activate(tenant):
        complaint, _ = submit_complaint(tenant, Visitor("Tom"), data={
            "reporter_name": "Tom", "reporter_email": "tom@visitor.example.com",
            "reporter_locale": "en", "title": "Noise", "description": "Loud",
            "defect_quantity": 1, "demands": ["answer"]})
        workflow.transition(complaint, after_sales, "start_verification")
        workflow.transition(complaint, after_sales, "request_information", "Which lot?")
        uow.commit()
        number = complaint.number
    mail = next(m for m in smtp_sink.messages if m["To"] == "tom@visitor.example.com")
    assert mail["Subject"] == f"{number}: we need more information"
    assert f"/t/{tenant.slug}/follow/" in mail.get_body(("plain",)).get_content()

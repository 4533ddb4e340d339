"""A closed complaint's survey through the real thing: outbox -> Redis (scheduled by the
tenant's delay) -> `flask worker` -> SMTP sink; then the link, a plain GET, and the answer."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from portal import uow
from portal.models import Survey

from .conftest import needs_services, wait_for

pytestmark = [needs_services, pytest.mark.services]


def test_closed_complaints_survey_arrives_get_records_nothing_and_post_scores(real):
    from portal.complaints import workflow
    from portal.complaints.operations import submit_complaint
    from portal.models import Contact, CustomerCompany, Department, StaffUser, Tenant

    email = f"buyer-{uuid.uuid4().hex[:6]}@buyer.example.com"
    with real.tenant_context() as db:
        tenant = Tenant(slug=f"s{uuid.uuid4().hex[:8]}", name="Survey Works",
                        default_locale="en",
                        settings={"survey_delay_hours": 0.001,  # 3.6 s: RQ's scheduler holds it
                                  "survey_weights": {"overall": 2, "service": 1, "quality": 1}})
        db.session.add(tenant)
        db.session.commit()
        tenant_id, slug = tenant.id, tenant.slug
    with real.tenant_context(tenant_id) as db:
        tenant = db.session.get(Tenant, tenant_id)
        department = Department(name="After-sales", kind="after_sales")
        db.session.add(department)
        db.session.flush()
        lead = StaffUser(email="lead@works.example.com", name="Lead", roles=["after_sales"],
                         department_id=department.id)
        company = CustomerCompany(name="Buyer Ltd")
        db.session.add_all([lead, company])
        db.session.flush()
        contact = Contact(company_id=company.id, email=email, name="Buyer", locale="en")
        db.session.add(contact)
        db.session.flush()
        complaint, _ = submit_complaint(tenant, contact, data={
            "reporter_name": "Buyer", "reporter_email": email, "title": "Loose cable",
            "description": "The cable comes loose.", "defect_quantity": 1, "demands": ["answer"]})
        complaint.status = "answered"  # the earlier steps belong to the workflow's tests
        db.session.flush()
        workflow.transition(complaint, lead, "close")
        complaint_id = complaint.id
        uow.commit()

    real.start_worker()
    # The customer also gets "your complaint is closed"; the survey is its own e-mail.
    message = wait_for(lambda: next((m for m in real.sink.to(email)
                                     if "Survey Works" in m["Subject"]), None), timeout=60,
                       what="the survey e-mail at the SMTP sink")
    assert "Survey Works" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://closeloop\.test(/t/[^\s]+/survey/[A-Za-z0-9_\-]+)", text).group(1)

    client = real.app.test_client()

    def survey_row():
        with real.tenant_context(tenant_id) as db:
            row = db.session.query(Survey).filter_by(complaint_id=complaint_id).one()
            db.session.expunge(row)
            return row

    page = client.get(link)  # what a mail scanner does
    assert page.status_code == 200
    row = survey_row()
    assert row.sent_at is not None and row.opened_at is not None
    assert row.answered_at is None and row.total_score is None and not row.answers

    from tests.conftest import csrf_from

    scores = {"price": 100, "delivery": 100, "use": 100,  # overall 100 (weight 2)
              "response_time": 50, "efficiency": 50, "effectiveness": 50,  # service 50
              "quality": 0, "safety": 50}  # quality 25
    response = client.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                       **{k: str(v) for k, v in scores.items()},
                                       "comments": "Cable clips please"})
    assert response.status_code == 303
    row = survey_row()
    assert row.answered_at is not None
    assert row.total_score == Decimal("68.75")  # (100*2 + 50 + 25) / 4
    assert row.comments == "Cable clips please"
    assert [m["Subject"] for m in real.sink.to(email)].count(message["Subject"]) == 1  # once
    assert urlsplit(link).path.startswith(f"/t/{slug}/survey/")

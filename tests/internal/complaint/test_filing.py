"""Filing by staff (internal/complaint/filing.py): on a customer's behalf and production
exceptions; the role is checked, bad input refused with what was typed kept."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Complaint
from portal.tenancy import activate


def test_staff_file_a_complaint_on_behalf(shop, as_role, make_company, db):
    company = make_company(shop.tenant, "华东精密")
    with activate(shop.tenant):
        company_id = company.id
    staff = as_role("after_sales")
    data = {"channel": "phone", "company": str(company_id), "reporter_name": "李先生",
            "product_model": str(shop.product_id), "shipped_on": "2026-01-10",
            "defect_quantity": "2", "title": "主轴异响", "description": "开机十分钟后异响",
            "serials": "cl001005\nCL001006", "demands": ["exchange"], "submission_key": "k1"}
    missing = dict(data, serials="", title="Typed title")
    response = staff.post("/complaints/new", missing, page="/complaints/new")
    assert response.status_code == 422
    assert "Give at least one serial number." in response.get_data(as_text=True)
    assert "Typed title" in response.get_data(as_text=True)
    assert staff.post("/complaints/new", data, page="/complaints/new").status_code == 303
    assert staff.post("/complaints/new", data, page="/complaints/new").status_code == 303  # resend
    with activate(shop.tenant):
        complaints = db.session.scalars(select(Complaint).where(Complaint.source == "staff")).all()
        assert len(complaints) == 1
        c = complaints[0]
        assert c.channel == "phone" and c.customer_company_id == company_id
        assert [s.value for s in c.serial_numbers] == ["CL001005", "CL001006"]
        assert all(s.shipment_id for s in c.serial_numbers)  # matched to the catalogue
    page = staff.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "2026-01" in page and "200" in page  # lot and quantity shipped


def test_production_exception(shop, as_role, db):
    staff = as_role("responder")
    data = {"channel": "in_process", "reporter_name": "Line 3", "product_model": str(shop.product_id),
            "lot": "L-77", "defect_quantity": "12", "title": "Burr on housing",
            "description": "Burr found at station 4", "submission_key": "p1"}
    response = staff.post("/complaints/new?production=1", data, page="/complaints/new?production=1")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with activate(shop.tenant):
        c = db.session.scalar(select(Complaint).where(Complaint.source == "production"))
        assert c.channel == "in_process" and c.lot == "L-77"
    # the wrong channel for a production exception is refused
    bad = dict(data, channel="phone", submission_key="p2")
    assert staff.post("/complaints/new?production=1", bad,
                      page="/complaints/new?production=1").status_code == 422


def test_filing_needs_the_role(shop, as_role):
    assert as_role("logistics").get("/complaints/new").status_code == 403
    assert as_role("logistics").get("/complaints/new?production=1").status_code == 403
    assert as_role("after_sales").get("/complaints/new").status_code == 200
    assert as_role("responder").get("/complaints/new?production=1").status_code == 200
    assert as_role("finance").get("/complaints/1/cost-transfer.pdf").status_code in (403, 404)

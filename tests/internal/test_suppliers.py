"""Suppliers (issue 12): admin manages supplier records; quality opens corrective action
requests against complaints; the supplier answers through a one-time link (expiring,
re-sendable, revocable) with evidence files; quality decides; deliveries and charge-backs;
the scorecard and its export; warranty status; permissions, hostile input, other tenants."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.complaints import vocabulary
from portal.models import (
    CostEntry,
    OutboxMessage,
    SerialNumber,
    Shipment,
    Supplier,
    SupplierCharge,
    SupplierContact,
    SupplierEvidence,
    SupplierRequest,
    TimelineEvent,
    utcnow,
)
from portal.suppliers import requests as scars
from portal.suppliers import warranty
from portal.tenancy import activate
from tests.conftest import csrf_from
from tests.customer.conftest import EXE, PDF, image_bytes

LINK = re.compile(r"https?://\S+/supplier/([A-Za-z0-9_\-]+)")


def _supplier(db, tenant, code="SP-01", name="Spindle Works", locale="en", email=None):
    with activate(tenant):
        supplier = Supplier(name=name, code=code, locale=locale, product_codes=["CL-3000"],
                            part_numbers=["SPN-100"])
        db.session.add(supplier)
        db.session.flush()
        db.session.add(SupplierContact(supplier_id=supplier.id, name="Li Supplier",
                                       email=email or f"{code.lower()}@supplier.example.com"))
        db.session.flush()
        return supplier.id


def _mails(db, to):
    return [m for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.job == "jobs.mail.send_email")) if m.args[0] == to]


@pytest.fixture
def world(db, shop, make_complaint):
    complaint = make_complaint(shop.tenant, contact=shop.contact, title="Spindle seized")
    supplier_id = _supplier(db, shop.tenant)
    with activate(shop.tenant):
        return {"complaint_id": complaint.id, "number": complaint.number,
                "supplier_id": supplier_id}


def _open(as_role, world, role="quality", **changes):
    data = {"complaint_number": world["number"], "supplier_id": str(world["supplier_id"]),
            "part_number": "SPN-100", "defect": "Bearing seized after 50 hours",
            "defective_quantity": "3", "replacement_quantity": "3",
            "asks": ["replacement", "eight_d"]}
    data.update(changes)
    return as_role(role).post("/suppliers/requests/new", data, page="/suppliers/requests/new")


def _opened(db, shop, world, as_role):
    response = _open(as_role, world)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with activate(shop.tenant):
        scar = db.session.scalars(select(SupplierRequest)).one()
        token = LINK.search(_mails(db, "sp-01@supplier.example.com")[-1].args[2]).group(1)
        return scar.id, token


def _answer(client, shop, token, files=None, **changes):
    path = f"/t/{shop.slug}/supplier/{token}"
    page = client.get(path)
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "name": "Li Supplier",
            "containment": "All 400 in stock sorted", "root_cause": "Grease missing",
            "corrective_action": "Automatic greasing check"}
    data.update(changes)
    if files:
        data["evidence"] = files
    return client.post(path, data=data, content_type="multipart/form-data")


# -- suppliers (admin) --------------------------------------------------------------------

def test_admin_creates_edits_and_deactivates_suppliers(db, shop, as_role):
    admin = as_role("admin")
    response = admin.post("/admin/suppliers", {
        "name": "<script>alert(1)</script> Bearings", "code": "BR-7", "locale": "zh_CN",
        "product_codes": "CL-3000, CL-4000", "part_numbers": "BRG-1\nBRG-2\nBRG-1"},
        page="/admin/suppliers")
    assert response.status_code == 303
    with activate(shop.tenant):
        supplier = db.session.scalars(select(Supplier)).one()
        assert supplier.part_numbers == ["BRG-1", "BRG-2"]
        assert supplier.product_codes == ["CL-3000", "CL-4000"]
        sid = supplier.id
    html = admin.get(f"/admin/suppliers/{sid}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    duplicate = admin.post("/admin/suppliers", {"name": "Other", "code": "br-7",
                                                "locale": "en"}, page="/admin/suppliers")
    assert duplicate.status_code == 422
    assert "A supplier with this name or code exists already." in duplicate.get_data(as_text=True)
    assert 'value="Other"' in duplicate.get_data(as_text=True)  # nothing typed is lost
    bad = admin.post("/admin/suppliers", {"name": "X", "code": "../etc", "locale": "en",
                                          "part_numbers": "=1+2"}, page="/admin/suppliers")
    assert bad.status_code == 422
    assert "Not a valid code: =1+2" in bad.get_data(as_text=True)
    contact = admin.post(f"/admin/suppliers/{sid}/contacts", {"name": "Wang", "email": "nope"},
                         page=f"/admin/suppliers/{sid}")
    assert contact.status_code == 422
    assert "Enter a valid e-mail address." in contact.get_data(as_text=True)
    ok = admin.post(f"/admin/suppliers/{sid}/contacts", {"name": "Wang",
                                                         "email": "Wang@Bearing.example.com"},
                    page=f"/admin/suppliers/{sid}")
    assert ok.status_code == 303
    off = admin.post(f"/admin/suppliers/{sid}/deactivate", {}, page=f"/admin/suppliers/{sid}")
    assert off.status_code == 303
    with activate(shop.tenant):
        db.session.expire_all()
        supplier = db.session.get(Supplier, sid)
        assert not supplier.active and supplier.contacts[0].email == "wang@bearing.example.com"


def test_only_admins_manage_suppliers_and_other_tenants_are_404(db, shop, as_role, make_tenant):
    assert as_role("quality").get("/admin/suppliers").status_code == 403
    assert as_role("quality").post("/admin/suppliers", {"name": "X", "code": "X1",
                                                        "locale": "en"},
                                   page="/").status_code == 403
    other = _supplier(db, make_tenant(), code="OT-1")
    assert as_role("admin").get(f"/admin/suppliers/{other}").status_code == 404
    assert as_role("admin").post(f"/admin/suppliers/{other}/deactivate", {},
                                 page="/admin/suppliers").status_code == 404


# -- corrective action requests -------------------------------------------------------------

def test_quality_opens_a_request_and_the_supplier_gets_a_link(db, shop, world, as_role):
    scar_id, token = _opened(db, shop, world, as_role)
    with activate(shop.tenant):
        scar = db.session.get(SupplierRequest, scar_id)
        assert scar.number.startswith("SCAR-") and scar.state == "sent"
        assert scar.token_hash == scars.token_hash(token) and token not in (scar.token_hash,)
        days = (scar.due_at - scar.created_at).days
        assert 28 <= days <= 31
        mail = _mails(db, "sp-01@supplier.example.com")[-1]
        assert "SPN-100" in mail.args[2] and scar.number in mail.args[1]
        events = db.session.scalars(select(TimelineEvent).where(
            TimelineEvent.complaint_id == world["complaint_id"],
            TimelineEvent.kind.like("supplier_request.%"))).all()
        assert [e.kind for e in events] == ["supplier_request.opened"]
        assert not any(e.customer_visible for e in events)
    page = as_role("quality").get(f"/suppliers/requests/{scar_id}").get_data(as_text=True)
    assert scar.number in page and "Spindle Works" in page
    assert scar.number in as_role("manager").get("/suppliers/requests").get_data(as_text=True)


def test_mail_in_the_suppliers_language(db, shop, world, as_role):
    with activate(shop.tenant):
        db.session.get(Supplier, world["supplier_id"]).locale = "zh_CN"
        db.session.flush()
    _opened(db, shop, world, as_role)
    with activate(shop.tenant):
        assert "纠正" in _mails(db, "sp-01@supplier.example.com")[-1].args[1]


@pytest.mark.parametrize("role", ["after_sales", "logistics", "responder", "admin"])
def test_only_quality_and_managers_open_requests(db, shop, world, as_role, role):
    assert _open(as_role, world, role=role).status_code == 403


def test_open_request_validation(db, shop, world, as_role, make_tenant, make_complaint):
    response = _open(as_role, world, defective_quantity="0", asks=[], part_number="<b>x")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a whole number of at least 1." in html
    assert "Choose at least one thing to ask for." in html
    assert "Bearing seized after 50 hours" in html  # nothing typed lost
    other_tenant = make_tenant()
    foreign = make_complaint(other_tenant)
    with activate(other_tenant):
        number = foreign.number
    with activate(shop.tenant):  # numbers restart per tenant: make sure it is not ours
        ours = {c for c in db.session.scalars(select(SupplierRequest.number))}
    assert number not in ours
    other_supplier = _supplier(db, other_tenant, code="OT-2")
    refused = _open(as_role, world, supplier_id=str(other_supplier))
    assert refused.status_code == 422
    assert "Not a valid choice" in refused.get_data(as_text=True)
    missing = _open(as_role, world, complaint_number="QC-1999-99999")
    assert "No complaint has this number." in missing.get_data(as_text=True)
    with activate(shop.tenant):
        assert db.session.scalars(select(SupplierRequest)).all() == []


def test_another_tenants_request_is_404(db, shop, world, as_role, make_tenant, make_staff,
                                        make_complaint, client, sign_in):
    scar_id, _token = _opened(db, shop, world, as_role)
    other = make_tenant()
    quality = make_staff(other, "quality")
    assert sign_in(client, other, quality.email).status_code == 303
    base = f"/t/{other.slug}/staff"
    assert client.get(f"{base}/suppliers/requests/{scar_id}").status_code == 404
    html = client.get(f"{base}/suppliers/requests").get_data(as_text=True)
    token = csrf_from(html)
    assert client.post(f"{base}/suppliers/requests/{scar_id}/revoke",
                       data={"csrf_token": token}).status_code == 404


def test_supplier_answers_with_evidence_then_the_link_is_used(db, shop, world, as_role, client):
    scar_id, token = _opened(db, shop, world, as_role)
    page = client.get(f"/t/{shop.slug}/supplier/{token}")
    assert page.status_code == 200 and "Bearing seized" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    files = [(io.BytesIO(image_bytes("PNG")), "photo.png"), (io.BytesIO(PDF), "8d.pdf")]
    response = _answer(client, shop, token, files=files,
                       root_cause="<script>alert('x')</script> grease missing")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with activate(shop.tenant):
        scar = db.session.get(SupplierRequest, scar_id)
        assert scar.state == "answered" and scars.link_state(scar) == "used"
        kinds = sorted(e.content_type for e in scar.evidence)
        assert kinds == ["application/pdf", "image/png"]
    again = client.get(f"/t/{shop.slug}/supplier/{token}")
    assert "This request has been answered" in again.get_data(as_text=True)
    detail = as_role("quality").get(f"/suppliers/requests/{scar_id}").get_data(as_text=True)
    assert "&lt;script&gt;" in detail and "<script>alert('x')" not in detail
    with activate(shop.tenant):
        evidence_id = db.session.scalars(select(SupplierEvidence.id)).first()
    download = as_role("quality").get(f"/suppliers/requests/{scar_id}/evidence/{evidence_id}")
    assert download.status_code == 200 and download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.data == image_bytes("PNG") or download.data == PDF
    download.close()
    assert as_role("logistics").get(f"/suppliers/requests/{scar_id}").status_code == 403


def test_disguised_and_oversized_files_are_refused(db, shop, world, as_role, client,
                                                   monkeypatch):
    scar_id, token = _opened(db, shop, world, as_role)
    response = _answer(client, shop, token, files=[(io.BytesIO(EXE), "photo.png")])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "photo.png is not a JPEG, PNG or PDF file." in html
    assert "Grease missing" in html  # nothing typed lost
    from portal.suppliers import evidence

    monkeypatch.setattr(evidence, "MAX_BYTES", 100_000)  # a small limit keeps the test light
    big = b"%PDF-" + b"0" * 100_000
    response = _answer(client, shop, token, files=[(io.BytesIO(big), "big.pdf")])
    assert response.status_code == 422
    assert "big.pdf is larger than 1 MB." in response.get_data(as_text=True)
    with activate(shop.tenant):
        assert db.session.get(SupplierRequest, scar_id).state == "sent"
        assert db.session.scalars(select(SupplierEvidence)).all() == []


def test_answer_validation(db, shop, world, as_role, client):
    _scar_id, token = _opened(db, shop, world, as_role)
    response = _answer(client, shop, token, containment="", root_cause="x" * 4001)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in html and "At most 4000 characters." in html


def test_expired_revoked_and_replaced_links(db, shop, world, as_role, client):
    scar_id, token = _opened(db, shop, world, as_role)
    assert client.get(f"/t/{shop.slug}/supplier/not-a-token").status_code == 404
    quality = as_role("quality")
    resent = quality.post(f"/suppliers/requests/{scar_id}/resend", {},
                          page=f"/suppliers/requests/{scar_id}")
    assert resent.status_code == 303
    old = client.get(f"/t/{shop.slug}/supplier/{token}")
    assert old.status_code == 404 and "This link does not work" in old.get_data(as_text=True)
    with activate(shop.tenant):
        new = LINK.search(_mails(db, "sp-01@supplier.example.com")[-1].args[2]).group(1)
        db.session.get(SupplierRequest, scar_id).token_expires_at = utcnow() - timedelta(seconds=1)
        db.session.flush()
    expired = client.get(f"/t/{shop.slug}/supplier/{new}")
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)
    with activate(shop.tenant):
        db.session.get(SupplierRequest, scar_id).token_expires_at = utcnow() + timedelta(days=1)
        db.session.flush()
    assert client.get(f"/t/{shop.slug}/supplier/{new}").status_code == 200
    assert quality.post(f"/suppliers/requests/{scar_id}/revoke", {},
                        page=f"/suppliers/requests/{scar_id}").status_code == 303
    assert client.get(f"/t/{shop.slug}/supplier/{new}").status_code == 404
    with activate(shop.tenant):
        kinds = [e.kind for e in db.session.scalars(select(TimelineEvent).where(
            TimelineEvent.kind.like("supplier_request.%")).order_by(TimelineEvent.id))]
        assert kinds == ["supplier_request.opened", "supplier_request.link_sent",
                         "supplier_request.link_revoked"]
    assert as_role("after_sales").post(f"/suppliers/requests/{scar_id}/resend", {},
                                       page="/").status_code == 403


def test_reject_needs_a_reason_and_sends_a_new_link_then_accept(db, shop, world, as_role,
                                                                client):
    scar_id, token = _opened(db, shop, world, as_role)
    assert _answer(client, shop, token).status_code == 303
    quality = as_role("quality")
    page = f"/suppliers/requests/{scar_id}"
    no_reason = quality.post(f"{page}/decide", {"reason": ""}, page=page)
    assert no_reason.status_code == 422
    assert "This field is required." in no_reason.get_data(as_text=True)
    assert quality.post(f"{page}/decide", {"reason": "No evidence of the greasing check"},
                        page=page).status_code == 303
    with activate(shop.tenant):
        mails = _mails(db, "sp-01@supplier.example.com")
        assert len(mails) == 2
        second = LINK.search(mails[-1].args[2]).group(1)
    rejected_page = client.get(f"/t/{shop.slug}/supplier/{second}").get_data(as_text=True)
    assert "No evidence of the greasing check" in rejected_page
    assert _answer(client, shop, second).status_code == 303
    assert quality.post(f"{page}/decide", {"accept": "y"}, page=page).status_code == 303
    assert as_role("responder").post(f"{page}/decide", {"accept": "y"},
                                     page="/").status_code == 403
    with activate(shop.tenant):
        scar = db.session.get(SupplierRequest, scar_id)
        assert scar.state == "accepted" and scar.decided_at is not None


def test_deliveries_and_charge_back_on_the_cost_sheet(db, shop, world, as_role):
    scar_id, _token = _opened(db, shop, world, as_role)
    quality = as_role("quality")
    page = f"/suppliers/requests/{scar_id}"
    assert quality.post(f"{page}/delivery", {"quantity": "-2"}, page=page).status_code == 422
    assert quality.post(f"{page}/delivery", {"quantity": "2"}, page=page).status_code == 303
    bad = quality.post(f"{page}/charge", {"category": "scrap", "amount": "0",
                                          "currency": "CNY"}, page=page)
    assert bad.status_code == 422
    assert "Enter an amount above zero." in bad.get_data(as_text=True)
    assert quality.post(f"{page}/charge", {"category": "scrap", "amount": "1250.50",
                                           "currency": "CNY", "note": "3 spindles scrapped"},
                        page=page).status_code == 303
    with activate(shop.tenant):
        scar = db.session.get(SupplierRequest, scar_id)
        assert scar.replacement_delivered == 2
        charge = db.session.scalars(select(SupplierCharge)).one()
        entry = db.session.get(CostEntry, charge.cost_entry_id)
        assert entry.complaint_id == world["complaint_id"] and entry.amount == Decimal("1250.50")
        assert "Spindle Works" in entry.note and charge.supplier_id == world["supplier_id"]
        assert scars.supplier_costs(world["complaint_id"]) == {entry.id: "Spindle Works"}


def test_late_requests_escalate_once_in_the_sweep(db, shop, world, as_role):
    from portal.deadlines import sweep

    scar_id, _token = _opened(db, shop, world, as_role)
    assert sweep.run().supplier_overdue == 0
    later = utcnow() + timedelta(days=32)
    assert sweep.run(later).supplier_overdue == 1
    assert sweep.run(later).supplier_overdue == 0
    with activate(shop.tenant):
        assert db.session.get(SupplierRequest, scar_id).escalated_at is not None
        assert db.session.scalar(select(TimelineEvent).where(
            TimelineEvent.kind == "supplier_request.overdue")).customer_visible is False
    html = as_role("quality").get("/suppliers/requests").get_data(as_text=True)
    assert "Overdue" in html


# -- scorecard --------------------------------------------------------------------------------

def test_scorecard_counts_and_export(db, shop, world, as_role, client):
    with activate(shop.tenant):
        db.session.get(Supplier, world["supplier_id"]).name = "=HYPERLINK(\"x\")"
        db.session.flush()
    scar_id, token = _opened(db, shop, world, as_role)
    assert _answer(client, shop, token).status_code == 303
    assert _open(as_role, world).status_code == 303  # the same part again: a repeat
    quality = as_role("quality")
    quality.post(f"/suppliers/requests/{scar_id}/charge",
                 {"category": "claim", "amount": "99", "currency": "CNY"},
                 page=f"/suppliers/requests/{scar_id}")
    with activate(shop.tenant):
        score = [s for s in __import__("portal.suppliers.scorecard", fromlist=["x"]).scores(
            date.today() - timedelta(days=1), date.today()) if s.requests][0]
    assert (score.requests, score.answered, score.on_time, score.repeats, score.defective) \
        == (2, 1, 1, 1, 6)
    assert score.charged == {"CNY": Decimal("99.00")}
    assert score.on_time_rate == 1.0  # the second request is not due yet: not counted
    html = quality.get("/suppliers/scorecard").get_data(as_text=True)
    assert "99.00 CNY" in html
    detail = quality.get(f"/suppliers/scorecard/{world['supplier_id']}")
    assert detail.status_code == 200
    export = quality.get("/suppliers/scorecard.xlsx")
    assert export.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.values)
    assert rows[1][1] == "'=HYPERLINK(\"x\")" and rows[1][2] == 2
    assert quality.get("/suppliers/scorecard?start=nonsense").status_code == 200
    assert as_role("logistics").get("/suppliers/scorecard").status_code == 403


# -- warranty ---------------------------------------------------------------------------------

def test_warranty_status_from_shipment(db, shop, make_complaint):
    with activate(shop.tenant):
        product = shop.product
        assert warranty.status_for(product, date(2026, 1, 10)) == ("unknown", None)
        product.warranty_months = 12
        assert warranty.status_for(product, date(2026, 1, 31), date(2027, 1, 31)) == \
            ("in_warranty", date(2027, 1, 31))
        assert warranty.status_for(product, date(2026, 1, 31), date(2027, 2, 1))[0] == "expired"
        assert warranty.warranty_end(date(2024, 2, 29), 12) == date(2025, 2, 28)
        assert warranty.status_for(product, None) == ("unknown", None)
        shipment = db.session.scalars(select(Shipment)).one()
    complaint = make_complaint(shop.tenant, contact=shop.contact)
    with activate(shop.tenant):
        serial = SerialNumber(complaint_id=complaint.id, value="CL001005",
                              shipment_id=shipment.id)
        loose = SerialNumber(complaint_id=complaint.id, value="ZZ999")
        db.session.add_all([serial, loose])
        db.session.flush()
        assert warranty.serial_status(serial, date(2026, 6, 1)) == \
            ("in_warranty", date(2027, 1, 10))
        assert warranty.serial_status(serial, date(2027, 1, 11))[0] == "expired"
        assert warranty.serial_status(loose)[0] == "unknown"


def test_admin_sets_a_models_warranty_term(db, shop, as_role):
    admin = as_role("admin")
    page = f"/admin/products/{shop.product_id}"
    data = {"code": "CL-3000", "name_zh": "型号", "name_en": "Model", "active": "y"}
    bad = admin.post(page, {**data, "warranty_months": "0"}, page=page)
    assert bad.status_code == 422
    assert "Between 1 and 240 months." in bad.get_data(as_text=True)
    assert admin.post(page, {**data, "warranty_months": "18"}, page=page).status_code == 303
    with activate(shop.tenant):
        db.session.expire_all()
        from portal.models import ProductModel

        assert db.session.get(ProductModel, shop.product_id).warranty_months == 18


def test_every_timeline_event_has_a_label_in_both_languages(db, shop, world, as_role, client):
    from flask_babel import force_locale

    scar_id, token = _opened(db, shop, world, as_role)
    assert _answer(client, shop, token).status_code == 303
    with activate(shop.tenant):
        kinds = set(db.session.scalars(select(TimelineEvent.kind).where(
            TimelineEvent.kind.like("supplier_request.%"))))
    assert kinds <= set(vocabulary.EVENT_LABELS)
    with force_locale("zh_CN"):
        assert str(vocabulary.EVENT_LABELS["supplier_request.answered"]) == "供应商已答复纠正措施要求"


def test_supplier_search_is_plain_text(db, shop, world, as_role, make_tenant):
    _supplier(db, make_tenant(), code="OT-9", name="Other tenant's supplier")
    admin = as_role("admin")
    html = admin.get("/admin/suppliers?q=' OR 1=1 --").get_data(as_text=True)
    assert "Spindle Works" not in html and "Other tenant" not in html
    html = admin.get("/admin/suppliers?q=spindle").get_data(as_text=True)
    assert "Spindle Works" in html and "Other tenant" not in html

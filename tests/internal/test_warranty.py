"""Warranty known at intake (issue 12): a model's term from shipment or installation, each
serial's status on the staff page (no statement per serial), installation dates staff
record (validated, refused for the wrong role, another tenant's serial a 404), the queue's
bookmarkable filter, and out-of-warranty replacement and on-site requests chargeable for
staff, the customer (in their language) and the costs."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, text

from portal.complaints import costs, requests
from portal.complaints.operations import submit_complaint
from portal.extensions import db as _db
from portal.models import (
    Complaint,
    CostEntry,
    ProductModel,
    SerialNumber,
    ServiceRequest,
    Shipment,
    TimelineEvent,
)
from portal.suppliers import warranty
from portal.suppliers.warranty import Warranty
from portal.tenancy import activate
from tests.conftest import PASSWORD
from tests.internal.conftest import advance

SHIPPED = date(2026, 1, 10)  # the shop's shipment: serials CL001000–CL001199


def _term(db, shop, months, basis="shipment"):
    with activate(shop.tenant):
        product = db.session.get(ProductModel, shop.product_id)
        product.warranty_months, product.warranty_basis = months, basis
        db.session.flush()


def _file(db, shop, serials=("CL001005",), **data) -> SimpleNamespace:
    with activate(shop.tenant):
        shipment = db.session.scalars(select(Shipment).where(Shipment.lot == "2026-01")).one()
        fields = {"reporter_name": "Wang", "title": "Spindle noise", "description": "Loud.",
                  "defect_quantity": 1, "demands": ["replacement"],
                  "product_model_id": shop.product_id}
        fields.update(data)
        complaint, _ = submit_complaint(shop.tenant, shop.contact, data=fields, serials=[
            {"value": v, "shipment_id": shipment.id} for v in serials])
        db.session.flush()
        return SimpleNamespace(id=complaint.id, number=complaint.number)


def _status(db, shop, complaint_id):
    with activate(shop.tenant):
        db.session.expire_all()
        found = db.session.get(Complaint, complaint_id)
        return found.warranty_status, found.warranty_ends_on


# -- the rules ------------------------------------------------------------------------------

def test_term_counts_from_shipment_or_installation():
    model = ProductModel(code="X", name_zh="x", name_en="x", warranty_months=12,
                         warranty_basis="installation")
    on = date(2026, 12, 6)
    assert warranty.term(model, SHIPPED, None, on) == Warranty(basis="installation")
    assert warranty.term(model, SHIPPED, date(2026, 2, 1), on) == \
        Warranty("in_warranty", date(2027, 2, 1), date(2026, 2, 1), "installation")
    model.warranty_basis = "shipment"
    assert warranty.term(model, SHIPPED, date(2026, 2, 1), date(2027, 1, 11)).status == "expired"
    model.warranty_months = None
    assert warranty.term(model, SHIPPED, None, on).status == "unknown"
    covered = Warranty("in_warranty", date(2027, 1, 1))
    expired = Warranty("expired", date(2026, 1, 1))
    later = Warranty("expired", date(2026, 3, 1))
    assert warranty.combine([expired, covered]) == covered  # one unit covered: covered
    assert warranty.combine([expired, Warranty()]).status == "unknown"
    assert warranty.combine([expired, later]) == later
    assert warranty.combine([]).status == "unknown"


def test_a_new_complaint_gets_its_warranty_and_a_term_change_follows(db, shop, as_role):
    _term(db, shop, 12)
    complaint = _file(db, shop)
    assert _status(db, shop, complaint.id) == ("in_warranty", date(2027, 1, 10))
    loose = _file(db, shop, serials=(), shipped_on=None)
    assert _status(db, shop, loose.id) == ("unknown", None)
    admin = as_role("admin")
    page = f"/admin/products/{shop.product_id}"
    data = {"code": "CL-3000", "name_zh": "型号", "name_en": "Model", "active": "y",
            "warranty_months": "6", "warranty_basis": "shipment"}
    assert admin.post(page, data, page=page).status_code == 303
    assert _status(db, shop, complaint.id) == ("expired", date(2026, 7, 10))
    bad = admin.post(page, {**data, "warranty_basis": "forever"}, page=page)
    assert bad.status_code == 422
    assert admin.post(page, {**data, "warranty_basis": "installation"},
                      page=page).status_code == 303
    assert _status(db, shop, complaint.id) == ("unknown", None)


# -- the staff page -------------------------------------------------------------------------

def _statements(app, client, path) -> tuple[int, str]:
    seen = []

    def count(*args, **kwargs):
        seen.append(1)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def test_each_serials_warranty_on_the_staff_page_without_a_statement_per_serial(
        app, db, shop, as_role):
    _term(db, shop, 12)
    one = _file(db, shop)
    many = _file(db, shop, serials=[f"CL00{n}" for n in range(1010, 1016)])
    staff = as_role("quality")
    _statements(app, staff, f"/complaints/{one.id}")  # warm the caches
    few, html = _statements(app, staff, f"/complaints/{one.id}")
    more, html_many = _statements(app, staff, f"/complaints/{many.id}")
    assert few == more
    assert 'id="complaint-warranty"' in html and "In warranty" in html
    assert "until 2027-01-10" in html and "From shipment" in html
    assert html_many.count("warranty-in_warranty") == 7  # six serials and the complaint


def test_staff_record_an_installation_date(db, shop, as_role, make_tenant, make_staff):
    _term(db, shop, 24, basis="installation")
    complaint = _file(db, shop)
    with activate(shop.tenant):
        serial_id = db.session.scalars(select(SerialNumber.id).where(
            SerialNumber.complaint_id == complaint.id)).one()
    assert _status(db, shop, complaint.id) == ("unknown", None)
    page = f"/complaints/{complaint.id}"
    path = f"/complaints/{complaint.id}/serials/{serial_id}/installation"
    staff = as_role("after_sales")
    assert "no installation date recorded" in staff.get(page).get_data(as_text=True)
    future = (date.today() + timedelta(days=3)).isoformat()
    refused = staff.post(path, {"installed_on": future}, page=page)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "lies in the future" in body and f'value="{future}"' in body  # typed value kept
    early = staff.post(path, {"installed_on": "2025-12-31"}, page=page)
    assert early.status_code == 422 and "cannot come before the shipment" in \
        early.get_data(as_text=True)
    assert staff.post(path, {"installed_on": "2026-13-45"}, page=page).status_code == 422
    assert staff.post(path, {"installed_on": "<script>"}, page=page).status_code == 422
    assert as_role("logistics").post(path, {"installed_on": "2026-02-01"},
                                     page="/").status_code == 403
    assert staff.post(path, {"installed_on": "2026-02-01"}, page=page).status_code == 303
    assert _status(db, shop, complaint.id) == ("in_warranty", date(2028, 2, 1))
    with activate(shop.tenant):
        entry = db.session.scalars(select(TimelineEvent).where(
            TimelineEvent.kind == "serial.installed")).one()
        assert entry.data["to"] == "2026-02-01" and entry.complaint_id == complaint.id
    other_complaint = _file(db, shop, serials=("CL001100",))
    wrong = f"/complaints/{other_complaint.id}/serials/{serial_id}/installation"
    assert staff.post(wrong, {"installed_on": "2026-02-01"}, page=page).status_code == 404
    other = make_tenant()
    make_staff(other, "after_sales")
    assert staff.post(f"/complaints/{complaint.id + 10_000}/serials/{serial_id}/installation",
                      {"installed_on": "2026-02-01"}, page=page).status_code == 404


# -- the queue ------------------------------------------------------------------------------

def test_queue_filters_by_warranty_and_the_link_keeps_it(db, shop, as_role):
    _term(db, shop, 12)
    covered = _file(db, shop, title="Covered spindle")
    with activate(shop.tenant):
        old = Shipment(product_model_id=shop.product_id, lot="2024-01", quantity=10,
                       shipped_on=date(2024, 1, 5), serial_first="CL009000",
                       serial_last="CL009009")
        db.session.add(old)
        db.session.flush()
        expired, _ = submit_complaint(shop.tenant, shop.contact, data={
            "reporter_name": "Li", "title": "Old spindle", "description": "Loud.",
            "product_model_id": shop.product_id, "demands": ["replacement"]},
            serials=[{"value": "CL009001", "shipment_id": old.id}])
        db.session.flush()
        expired = SimpleNamespace(id=expired.id, number=expired.number)
    unknown = _file(db, shop, serials=(), product_model_id=None, title="Unknown spindle")
    staff = as_role("quality")
    html = staff.get("/?view=all&warranty=expired").get_data(as_text=True)
    assert expired.number in html
    assert covered.number not in html and unknown.number not in html
    assert '<option value="expired" selected>' in html
    html = staff.get("/?view=all&warranty=in_warranty").get_data(as_text=True)
    assert covered.number in html and expired.number not in html
    html = staff.get("/?view=all&warranty=unknown").get_data(as_text=True)
    assert unknown.number in html and covered.number not in html
    html = staff.get("/?view=all&warranty=%3Cscript%3E").get_data(as_text=True)
    assert covered.number in html and expired.number in html  # an odd value is ignored
    assert "<script>" not in html.split("</header>")[-1]
    with activate(shop.tenant):
        assert db.session.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_complaints_warranty' "
            "AND schemaname = current_schema()"
        )).scalar_one().endswith("(tenant_id, warranty_status, created_at) INCLUDE (status, id)")


# -- chargeable requests ----------------------------------------------------------------------

@pytest.fixture
def expired_case(db, shop):
    _term(db, shop, 6)  # ended 2026-07-10
    found = _file(db, shop)
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, found.id)
    advance(db, shop, complaint, "accepted")
    return found


def test_out_of_warranty_replacement_and_onsite_are_chargeable(db, shop, as_role,
                                                                 expired_case):
    page = f"/complaints/{expired_case.id}"
    staff = as_role("after_sales")
    for kind in ("replacement", "onsite", "exchange"):
        response = staff.post(f"/complaints/{expired_case.id}/requests",
                              {"kind": kind, "quantity": "1"}, page=page)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with activate(shop.tenant):
        flags = dict(db.session.execute(select(ServiceRequest.kind,
                                               ServiceRequest.chargeable)).all())
    assert flags == {"replacement": True, "onsite": True, "exchange": False}
    html = staff.get(page).get_data(as_text=True)
    assert html.count("Chargeable (out of warranty)") == 2
    with activate(shop.tenant):
        actor = shop.staff["finance"]
        # Read afresh: the requests above changed the complaint in their own sessions, and
        # the set-up's object may still sit unexpired in this session's (weak) identity map,
        # depending on when the garbage collector ran (a full run found it stale).
        complaint = db.session.get(Complaint, expired_case.id, populate_existing=True)
        charged = costs.add_cost(complaint, actor, category="replacement", amount=100)
        freight = costs.add_cost(complaint, actor, category="freight", amount=20)
        assert (charged.chargeable, freight.chargeable) == (True, False)
        assert db.session.get(CostEntry, charged.id).chargeable
    assert "Chargeable to the customer" in staff.get(page + "?panel=costs").get_data(as_text=True)


def test_in_warranty_or_unknown_requests_are_free(db, shop):
    _term(db, shop, 12)
    covered = _file(db, shop)
    unknown = _file(db, shop, serials=(), shipped_on=None)
    for found in (covered, unknown):
        with activate(shop.tenant):
            complaint = db.session.get(Complaint, found.id)
        advance(db, shop, complaint, "accepted")
        with activate(shop.tenant):
            request = requests.create_request(complaint, shop.staff["after_sales"],
                                              kind="replacement", quantity=1)
            assert request.chargeable is False


def test_the_customer_sees_a_chargeable_request_in_their_language(
        app, db, shop, expired_case, sign_in):
    with activate(shop.tenant):
        requests.create_request(db.session.get(Complaint, expired_case.id),
                                shop.staff["after_sales"], kind="onsite", quantity=1)
        shop.contact.locale = "zh_CN"
        email, number = shop.contact.email, expired_case.number
        db.session.flush()
    client = app.test_client()
    assert sign_in(client, shop.tenant, email, PASSWORD, staff=False).status_code == 303
    html = client.get(f"/t/{shop.slug}/complaints/{number}").get_data(as_text=True)
    assert 'id="requests"' in html and "现场服务" in html and "有偿服务" in html
    assert "您的产品保修期已于 2026年7月10日 结束" in html


def test_the_upgrade_command_recomputes_every_tenants_complaints(app, db, shop):
    _term(db, shop, 12)
    complaint = _file(db, shop)
    with activate(shop.tenant):  # as a row written before the column existed
        db.session.execute(Complaint.__table__.update().values(
            warranty_status="unknown", warranty_ends_on=None))
    result = app.test_cli_runner().invoke(args=["warranty-refresh"])
    assert result.exit_code == 0, result.output
    assert f"{shop.slug}: 1 complaints changed" in result.output
    assert _status(db, shop, complaint.id) == ("in_warranty", date(2027, 1, 10))


# -- installation dates on shipments ------------------------------------------------------------

SHIPMENT_HEADER = ["Model code", "Lot", "Quantity", "Ship date", "Installation date"]


def test_imported_installation_dates_start_the_warranty_and_a_rerun_keeps_them(db, shop):
    from portal import imports

    _term(db, shop, 24, basis="installation")
    complaint = _file(db, shop)
    assert _status(db, shop, complaint.id) == ("unknown", None)
    with activate(shop.tenant):
        models, customers = imports.catalogue_maps()

        def check(header, rows):
            return imports.validate_shipments(header, iter(rows), models=models,
                                              customers=customers, default_pattern=None)

        bad = check(SHIPMENT_HEADER, [(2, ["CL-3000", "2026-01", 200, "2026-01-10",
                                           "2026-01-01"]),
                                      (3, ["CL-3000", "2026-02", 200, "2026-02-10", "soon"])])
        assert [p["code"] for p in bad.problems] == ["installed_before_shipped", "bad_date"]
        good = check(SHIPMENT_HEADER, [(2, ["CL-3000", "2026-01", 200, "2026-01-10",
                                            "2026-01-20"])])
        imports.upsert_shipments(good.rows)
    assert _status(db, shop, complaint.id) == ("in_warranty", date(2028, 1, 20))
    with activate(shop.tenant):  # the ERP's file without the column: the date stays
        again = check(SHIPMENT_HEADER[:4], [(2, ["CL-3000", "2026-01", 210, "2026-01-10"])])
        imports.upsert_shipments(again.rows)
        db.session.expire_all()
        shipment = db.session.scalars(select(Shipment)).one()
        assert (shipment.quantity, shipment.installed_on) == (210, date(2026, 1, 20))
    assert _status(db, shop, complaint.id) == ("in_warranty", date(2028, 1, 20))


def test_the_shipment_form_takes_an_installation_date(db, shop, as_role):
    admin = as_role("admin")
    data = {"product_model_id": str(shop.product_id), "lot": "2026-05", "quantity": "20",
            "shipped_on": "2026-05-04", "customer_company_id": "0"}
    early = admin.post("/admin/shipments", {**data, "installed_on": "2026-05-01"},
                       page="/admin/shipments")
    assert early.status_code == 422
    html = early.get_data(as_text=True)
    assert "The installation cannot come before the shipment." in html
    assert 'value="2026-05-01"' in html  # what was typed stays
    done = admin.post("/admin/shipments", {**data, "installed_on": "2026-05-09"},
                      page="/admin/shipments")
    assert done.status_code == 303
    with activate(shop.tenant):
        shipment = db.session.scalars(select(Shipment).where(Shipment.lot == "2026-05")).one()
        assert shipment.installed_on == date(2026, 5, 9)

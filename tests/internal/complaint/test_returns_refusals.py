"""A returned part's steps refuse what they must: the wrong role (403, nothing written), the
wrong moment (409), bad input (422 with the message beside the field and what was typed kept),
hostile input (markup shown as text, a disguised file, another complaint's or tenant's return:
404); and neither the return nor its complaint closes while the return has no appraisal."""

from __future__ import annotations

import gc
import io
import warnings

import pytest

from portal.complaints.permissions import Refused
from portal.models import GoodsReturn
from portal.tenancy import activate
from tests.internal.complaint.returns_support import (
    ANALYSIS,
    RECEIPT,
    appraisal,
    approved_return,
    jpeg_bytes,
    walk,
)

# (step, the step signed before it, roles refused, form data)
STEPS = [
    ("receive", None, ("after_sales", "quality", "technical", "finance", "manager"), RECEIPT),
    ("analyse", "receive", ("logistics", "quality", "technical", "responder"), ANALYSIS),
    ("appraise", "analyse", ("after_sales", "logistics", "technical", "manager"),
     {"verdict": "misuse", "origin": "self_made", "appraisal": "x"}),
    ("issue", "appraise", ("quality", "technical", "finance", "responder"),
     {"issued_quantity": "1"}),
    ("close", "appraise", ("logistics", "technical", "finance", "responder"), {}),
]


def _state(db, shop, rid):
    with activate(shop.tenant):
        db.session.expire_all()
        ret = db.session.get(GoodsReturn, rid)
        return ret.state, ret.updated_at


@pytest.mark.parametrize("step,before,roles,data", STEPS, ids=[s[0] for s in STEPS])
def test_only_the_steps_role_signs_it(shop, as_role, make_complaint, db, step, before, roles,
                                      data):
    ids = approved_return(db, shop, make_complaint)
    if before:
        walk(db, shop, ids, before)
    state = _state(db, shop, ids["rid"])
    for role in roles:
        response = as_role(role).post(f"{ids['base']}/{step}", data, page=ids["page"])
        assert response.status_code == 403, (role, response.get_data(as_text=True)[:500])
        assert _state(db, shop, ids["rid"]) == state  # nothing written


def test_steps_out_of_order_are_refused(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)
    assert as_role("after_sales").post(f"{ids['base']}/analyse", ANALYSIS,
                                       page=ids["page"]).status_code == 409
    assert as_role("quality").post(f"{ids['base']}/appraise", appraisal(ids["supplier_id"]),
                                   page=ids["page"]).status_code == 409
    walk(db, shop, ids, "receive")
    assert as_role("logistics").post(f"{ids['base']}/receive", RECEIPT,
                                     page=ids["page"]).status_code == 409


def test_a_return_waiting_for_approval_cannot_be_received(shop, as_role, make_complaint, db):
    from portal.complaints import requests as service_requests
    from tests.internal.conftest import advance

    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, "containment")
    with activate(shop.tenant):
        request = service_requests.create_request(complaint, shop.staff["after_sales"],
                                                  kind="return", quantity=1)
        from sqlalchemy import select

        rid = db.session.scalar(select(GoodsReturn.id).where(GoodsReturn.request_id == request.id))
    response = as_role("logistics").post(f"/complaints/{complaint.id}/returns/{rid}/receive",
                                         RECEIPT, page=f"/complaints/{complaint.id}")
    assert response.status_code == 409


@pytest.mark.parametrize("change,field,message", [
    ({"quantity_received": "3"}, "quantity_received", "Enter a whole number from 1 to 2."),
    ({"quantity_received": "0"}, "quantity_received", "Enter a whole number from 1."),
    ({"received_on": "2999-01-01"}, "received_on", "The date cannot be in the future."),
    ({"received_on": "yesterday"}, "received_on", "Not a valid date value."),
    ({"quarantine_tag": ""}, "quarantine_tag", "This field is required."),
    ({"quarantine_tag": "T" * 41}, "quarantine_tag", "This is too long."),
    ({"condition": "melted"}, "condition", "Not a valid choice."),
])
def test_receipt_validation_keeps_what_was_typed(shop, as_role, make_complaint, db, change,
                                                 field, message):
    ids = approved_return(db, shop, make_complaint)
    data = {**RECEIPT, **change}
    response = as_role("logistics").post(f"{ids['base']}/receive", data, page=ids["page"],
                                         headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:1000]
    assert f'id="receive-{ids["rid"]}-{field}-error"' in html and message in html
    assert "财务部仓库 隔离区 Q-3" in html  # what was typed elsewhere is kept
    assert _state(db, shop, ids["rid"])[0] == "awaiting_goods"


def test_appraisal_of_a_purchased_part_names_its_supplier(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "analyse")
    staff = as_role("quality")
    response = staff.post(f"{ids['base']}/appraise", appraisal(ids["supplier_id"]) | {
        "supplier_id": ""}, page=ids["page"], headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Name the supplier of this purchased part." in response.get_data(as_text=True)
    response = staff.post(f"{ids['base']}/appraise", appraisal(ids["supplier_id"]) | {
        "defective_quantity": "5"}, page=ids["page"])
    assert response.status_code == 422
    assert _state(db, shop, ids["rid"])[0] == "analysed"


def test_a_supplier_without_contact_is_refused_before_anything_is_stored(
        shop, as_role, make_complaint, db):
    from portal.models import SupplierContact

    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "analyse")
    with activate(shop.tenant):
        for contact in db.session.query(SupplierContact):
            contact.active = False
        db.session.flush()
    response = as_role("quality").post(f"{ids['base']}/appraise", appraisal(ids["supplier_id"]),
                                       page=ids["page"])
    assert response.status_code == 422
    assert "no active contact" in response.get_data(as_text=True)
    assert _state(db, shop, ids["rid"])[0] == "analysed"


@pytest.mark.parametrize("name,payload", [
    ("invoice.jpg", b"%PDF-1.4 not a photo"),
    ("../../etc/passwd.png", b"<script>alert(1)</script>"),
    ("big.jpg", b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024 + 10)),
])
def test_disguised_or_oversized_photos_are_refused(shop, as_role, make_complaint, db, name,
                                                   payload):
    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "analyse")
    data = appraisal(ids["supplier_id"]) | {"photos": (io.BytesIO(payload), name)}
    with warnings.catch_warnings():
        # Werkzeug's test client spools a large body to a temporary file it never closes.
        warnings.simplefilter("ignore", ResourceWarning)
        response = as_role("quality").post(f"{ids['base']}/appraise", data, page=ids["page"],
                                           content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        del response, data
        gc.collect()
    status = 422 if "is larger than" in html or "is not a JPEG" in html else 0
    assert status == 422, html[:500]
    assert "passwd.png" in html or name in html  # named, without its path
    assert "../" not in html.split("form-errors", 1)[-1][:2000]
    with activate(shop.tenant):
        db.session.expire_all()
        ret = db.session.get(GoodsReturn, ids["rid"])
        assert ret.state == "analysed" and not ret.evidence and ret.supplier_request_id is None


def test_markup_is_shown_as_text(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)
    hostile = "<script>alert('x')</script>'; DROP TABLE goods_returns; --"
    response = as_role("logistics").post(f"{ids['base']}/receive", RECEIPT | {
        "warehouse_location": hostile[:80]}, page=ids["page"])
    assert response.status_code == 303
    html = as_role("quality").get(ids["page"]).get_data(as_text=True)
    assert "<script>alert('x')" not in html and "&lt;script&gt;" in html


def test_another_complaints_or_tenants_return_is_404(shop, as_role, make_complaint, db,
                                                     make_tenant, make_staff):
    ids = approved_return(db, shop, make_complaint)
    other = make_complaint(shop.tenant, shop.contact)
    staff = as_role("logistics")
    wrong = f"/complaints/{other.id}/returns/{ids['rid']}"
    assert staff.post(f"{wrong}/receive", RECEIPT, page=ids["page"]).status_code == 404
    assert staff.get(f"{wrong}/appraisal.pdf").status_code == 404
    assert staff.get(f"{ids['base']}/photos/0").status_code == 404
    foreign = make_tenant()
    make_staff(foreign, "logistics")
    assert staff.get(f"{ids['base']}/photos/9").status_code == 404


def test_no_appraisal_no_closing(shop, as_role, make_complaint, db):
    from portal.complaints import workflow
    from portal.models import Complaint

    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "analyse")
    response = as_role("quality").post(f"{ids['base']}/close", {}, page=ids["page"],
                                       headers={"HX-Request": "true"})
    assert response.status_code == 422  # a clear refusal (no close form is drawn before either)
    assert "This return has no appraisal yet" in response.get_data(as_text=True)
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, ids["cid"])
        ret = db.session.get(GoodsReturn, ids["rid"])
        from portal.returns import records

        with pytest.raises(Refused) as refused:
            records.close_return(complaint, ret, shop.staff["quality"])
        assert refused.value.code == "guard"
        complaint.status = "answered"  # as if answered: the close transition's guard speaks
        db.session.flush()
        with pytest.raises(Refused) as refused:
            workflow.transition(complaint, shop.staff["quality"], "close")
        assert ids["rma"] in str(refused.value.message)
        with pytest.raises(Refused) as refused:  # nor by the customer accepting the answer
            workflow.transition(complaint, shop.contact, "customer_accept")
        assert refused.value.code == "guard"
    walk_appraisal(db, shop, ids)
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, ids["cid"])
        workflow.transition(complaint, shop.staff["quality"], "close")
        assert complaint.status == "closed"


def walk_appraisal(db, shop, ids):
    from portal.models import Complaint
    from portal.returns import appraisal as appraising

    with activate(shop.tenant):
        appraising.appraise(db.session.get(Complaint, ids["cid"]),
                            db.session.get(GoodsReturn, ids["rid"]), shop.staff["quality"],
                            verdict="no_fault", appraisal="ok", defective_quantity=None,
                            origin="self_made")
        db.session.flush()


def test_photos_of_the_appraisal_stay_with_staff(shop, as_role, make_complaint, db, app,
                                                 sign_in):
    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "analyse")
    data = appraisal(ids["supplier_id"], origin="self_made") | {
        "supplier_id": "", "photos": (io.BytesIO(jpeg_bytes()), "a.jpg")}
    data["origin"] = "self_made"
    assert as_role("quality").post(f"{ids['base']}/appraise", data, page=ids["page"],
                                   content_type="multipart/form-data").status_code == 303
    client = app.test_client()
    with activate(shop.tenant):
        email = shop.contact.email
    sign_in(client, shop.tenant, email, staff=False)
    response = client.get(f"/t/{shop.slug}/staff{ids['base']}/photos/0")
    assert response.status_code in (302, 303, 403, 404)


@pytest.mark.parametrize("step,before,role,data,field,message", [
    ("analyse", "receive", "after_sales", {"grade": "to_confirm", "analysis": " "},
     "analysis", "This field is required."),
    ("analyse", "receive", "after_sales", {"grade": "guess", "analysis": "x"},
     "grade", "Not a valid choice."),
    ("appraise", "analyse", "quality", {"verdict": "quality_problem", "origin": "self_made",
                                        "appraisal": "x", "defective_quantity": "0"},
     "defective_quantity", "Enter a whole number from 1 to 2."),
    ("appraise", "analyse", "quality", {"verdict": "misuse", "origin": "made_up",
                                        "appraisal": "x"}, "origin", "Not a valid choice."),
    ("issue", "appraise", "after_sales", {"issued_quantity": "3"}, "issued_quantity",
     "Enter a whole number from 1 to 2."),
    ("issue", "appraise", "logistics", {"issued_quantity": "-1"}, "issued_quantity",
     "Enter a whole number from 1."),
])
def test_each_step_validates(shop, as_role, make_complaint, db, step, before, role, data, field,
                             message):
    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, before)
    state = _state(db, shop, ids["rid"])
    response = as_role(role).post(f"{ids['base']}/{step}", data, page=ids["page"],
                                  headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:800]
    assert f'id="{step}-{ids["rid"]}-{field}-error"' in html and message in html
    assert _state(db, shop, ids["rid"]) == state


def test_an_exchange_is_received_without_an_approval_chain(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint, kind="exchange")
    response = as_role("logistics").post(f"{ids['base']}/receive", RECEIPT, page=ids["page"])
    assert response.status_code == 303
    assert _state(db, shop, ids["rid"])[0] == "received"


def test_another_tenants_supplier_cannot_be_named(shop, as_role, make_complaint, db,
                                                  make_tenant):
    from portal.models import Supplier, SupplierContact

    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "analyse")
    other = make_tenant()
    with activate(other):
        theirs = Supplier(name="Theirs", code="TH-1")
        db.session.add(theirs)
        db.session.flush()
        db.session.add(SupplierContact(supplier_id=theirs.id, name="x", email="x@th.example.com"))
        db.session.flush()
        theirs_id = theirs.id
    for value in (str(theirs_id), "1 OR 1=1", "../../1"):
        response = as_role("quality").post(f"{ids['base']}/appraise", appraisal(
            ids["supplier_id"]) | {"supplier_id": value}, page=ids["page"])
        assert response.status_code == 422, value
        assert "Name the supplier of this purchased part." in response.get_data(as_text=True)
    assert _state(db, shop, ids["rid"])[0] == "analysed"

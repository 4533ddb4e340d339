"""A returned spindle through the complaint page, each step posted by the role that signs it:
the RMA number at the request, logistics' receipt into quarantine, after-sales' first
analysis, quality's appraisal of a purchased part (scrapped as material waste, a supplier
request opened from it, due in a month), good parts issued, the appraisal form printed, the
return closed; the customer's page shows the progress and none of the internal notes; each
step's deadline clock starts, stops and escalates on the sweep."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from portal.models import (
    DeadlineClock,
    GoodsReturn,
    Notification,
    SupplierRequest,
    TimelineEvent,
    utcnow,
)
from portal.tenancy import activate
from tests.conftest import PASSWORD
from tests.internal.complaint.returns_support import (
    ANALYSIS,
    RECEIPT,
    appraisal,
    approved_return,
    jpeg_bytes,
    request_status,
    walk,
)


def _ok(response, status=303):
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response


def _ret(db, shop, rid) -> GoodsReturn:
    with activate(shop.tenant):
        db.session.expire_all()
        return db.session.get(GoodsReturn, rid)


def _clocks(db, shop, rid) -> dict[str, DeadlineClock]:
    with activate(shop.tenant):
        db.session.expire_all()
        return {c.kind: c for c in db.session.scalars(
            select(DeadlineClock).where(DeadlineClock.return_id == rid))}


def test_a_returned_spindle_from_request_to_supplier_request(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)
    assert ids["rma"].startswith("RMA-") and ids["rma"].endswith("00001")
    page, base = ids["page"], ids["base"]
    html = as_role("logistics").get(page).get_data(as_text=True)
    assert ids["rma"] in html and "Sign the receipt" in html

    _ok(as_role("logistics").post(f"{base}/receive", RECEIPT, page=page))
    ret = _ret(db, shop, ids["rid"])
    assert (ret.state, ret.quantity_received, ret.quarantine_tag) == ("received", 2, "QT-0042")
    assert ret.received_by_id == shop.staff_ids["logistics"] and ret.received_at is not None
    assert request_status(db, shop, ids["request_id"]) == "received"

    _ok(as_role("after_sales").post(f"{base}/analyse", ANALYSIS, page=page))
    assert _ret(db, shop, ids["rid"]).analysed_by_id == shop.staff_ids["after_sales"]

    staff = as_role("quality")
    data = appraisal(ids["supplier_id"], photos=(io.BytesIO(jpeg_bytes()), "bearing.jpg"))
    _ok(staff.post(f"{base}/appraise", data, page=page, content_type="multipart/form-data"))
    ret = _ret(db, shop, ids["rid"])
    assert (ret.verdict, ret.origin, ret.scrapped_quantity) == ("quality_problem", "purchased", 2)
    assert [e["name"] for e in ret.evidence] == ["bearing.jpg"]
    with activate(shop.tenant):
        scar = db.session.get(SupplierRequest, ret.supplier_request_id)
        assert scar.supplier_id == ids["supplier_id"] and scar.part_number == "SPN-6K-01"
        assert scar.defective_quantity == 2 and scar.replacement_quantity == 2
        assert ids["rma"] in scar.defect and "Bearing without grease" in scar.defect
        assert timedelta(days=27) < scar.due_at - utcnow() < timedelta(days=32)
    photo = staff.get(f"{base}/photos/0")
    assert photo.status_code == 200 and photo.data == jpeg_bytes()
    photo.close()

    _ok(as_role("after_sales").post(f"{base}/issue", {"issued_quantity": "2"}, page=page))
    ret = _ret(db, shop, ids["rid"])
    assert (ret.state, ret.issued_quantity) == ("issued", 2)
    assert ret.issued_by_id == shop.staff_ids["after_sales"]

    pdf = staff.get(f"{base}/appraisal.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    _ok(staff.post(f"{base}/close", {}, page=page))
    assert _ret(db, shop, ids["rid"]).state == "closed"
    with activate(shop.tenant):
        kinds = [e.kind for e in db.session.scalars(select(TimelineEvent).where(
            TimelineEvent.complaint_id == ids["cid"]).order_by(TimelineEvent.id))]
    for kind in ("return.opened", "return.received", "return.analysed", "return.appraised",
                 "return.scrapped", "supplier_request.opened", "return.issued", "return.closed"):
        assert kind in kinds


def test_the_customer_sees_the_progress_and_no_internal_note(app, shop, as_role, make_complaint,
                                                           db, sign_in):
    ids = approved_return(db, shop, make_complaint)
    page, base = ids["page"], ids["base"]
    _ok(as_role("logistics").post(f"{base}/receive", RECEIPT, page=page))
    _ok(as_role("after_sales").post(f"{base}/analyse", ANALYSIS, page=page))
    _ok(as_role("quality").post(f"{base}/appraise", {
        **appraisal(ids["supplier_id"]), "origin": "self_made", "supplier_id": ""}, page=page))
    _ok(as_role("after_sales").post(f"{base}/issue", {"issued_quantity": "1",
                                                      "note": "internal: from shelf B"},
                                    page=page))
    client = app.test_client()
    with activate(shop.tenant):
        email = shop.contact.email
        from portal.models import Complaint

        number = db.session.get(Complaint, ids["cid"]).number
    _ok(sign_in(client, shop.tenant, email, PASSWORD, staff=False))
    html = client.get(f"/t/{shop.slug}/complaints/{number}",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ids["rma"] in html and "Your returned goods" in html
    assert "A quality problem of our product" in html and "Good parts sent" in html
    for internal in ("internal:", "QT-0042", "Q-3", "Bearing without grease", "bearing noise"):
        assert internal not in html


def test_each_step_is_signed_and_told(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)
    page, base = ids["page"], ids["base"]
    _ok(as_role("logistics").post(f"{base}/receive", RECEIPT, page=page))
    _ok(as_role("after_sales").post(f"{base}/analyse", ANALYSIS, page=page))
    _ok(as_role("quality").post(f"{base}/appraise", appraisal(ids["supplier_id"]), page=page))
    with activate(shop.tenant):
        rows = db.session.scalars(select(Notification)).all()
        told = {(n.event, n.recipient) for n in rows}
    contact = f"contact:{shop.contact.id}"
    assert ("customer.received", contact) in told
    assert ("customer.return_appraised", contact) in told
    assert ("work.return_received", f"staff:{shop.staff_ids['after_sales']}") in told
    # purchased: purchasing's people hear of the verdict; production's do not
    assert ("work.return_appraised", f"staff:{shop.staff_ids['after_sales']}") in told
    assert not any(k == "work.return_appraised" and r == f"staff:{shop.staff_ids['responder']}"
                   for k, r in told)


def test_each_step_has_its_clock(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)
    clocks = _clocks(db, shop, ids["rid"])
    assert list(clocks) == ["return_receipt"] and clocks["return_receipt"].stopped_at is None
    assert clocks["return_receipt"].working_time is True
    walk(db, shop, ids, "receive")
    clocks = _clocks(db, shop, ids["rid"])
    assert clocks["return_receipt"].stop_reason == "received"
    assert clocks["return_analysis"].stopped_at is None
    walk_rest = {"analyse": "return_appraisal", "appraise": "return_issue"}
    for step, next_clock in walk_rest.items():
        with activate(shop.tenant):
            from portal.models import Complaint
            from portal.returns import appraisal as appraising
            from portal.returns import records

            complaint = db.session.get(Complaint, ids["cid"])
            ret = db.session.get(GoodsReturn, ids["rid"])
            if step == "analyse":
                records.analyse(complaint, ret, shop.staff["after_sales"], analysis="x",
                                grade="to_confirm")
            else:
                appraising.appraise(complaint, ret, shop.staff["quality"], verdict="quality_problem",
                                    appraisal="y", defective_quantity=1, origin="self_made")
            db.session.flush()
        assert _clocks(db, shop, ids["rid"])[next_clock].stopped_at is None


def test_a_late_step_escalates_like_any_clock(shop, make_complaint, db):
    from portal.deadlines import sweep

    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "receive")
    with activate(shop.tenant):
        clock = _clocks(db, shop, ids["rid"])["return_analysis"]
        due = clock.due_at
    result = sweep.run(due + timedelta(days=30))
    assert result.breached >= 1
    with activate(shop.tenant):
        db.session.expire_all()
        events = db.session.scalars(select(TimelineEvent).where(
            TimelineEvent.complaint_id == ids["cid"],
            TimelineEvent.kind == "deadline.breached")).all()
        assert any(e.data.get("clock_kind") == "return_analysis" for e in events)
        assert _clocks(db, shop, ids["rid"])["return_analysis"].breached_at is not None


def test_a_refused_return_stops_its_clock(shop, make_complaint, db):
    from portal.complaints import requests as service_requests
    from portal.models import Complaint, ServiceRequest

    complaint = make_complaint(shop.tenant, shop.contact, demands=["return"])
    from tests.internal.conftest import advance

    advance(db, shop, complaint, "containment")
    with activate(shop.tenant):
        request = service_requests.create_request(complaint, shop.staff["after_sales"],
                                                  kind="return", quantity=1)
        service_requests.decide(db.session.get(Complaint, complaint.id), request,
                                shop.staff["after_sales"], approve=False, note="no")
        ret = db.session.scalar(select(GoodsReturn).where(GoodsReturn.request_id == request.id))
        assert db.session.get(ServiceRequest, request.id).status == "refused"
        rid = ret.id
    assert _clocks(db, shop, rid)["return_receipt"].stop_reason == "refused"


def test_the_supplier_sees_the_appraisal_photos_through_the_link(app, shop, as_role,
                                                                 make_complaint, db):
    from portal.models import Tenant
    from portal.suppliers import requests as scars

    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "analyse")
    data = appraisal(ids["supplier_id"], photos=(io.BytesIO(jpeg_bytes()), "bearing.jpg"))
    _ok(as_role("quality").post(f"{ids['base']}/appraise", data, page=ids["page"],
                                content_type="multipart/form-data"))
    with activate(shop.tenant):
        scar = db.session.get(SupplierRequest, _ret(db, shop, ids["rid"]).supplier_request_id)
        with app.test_request_context():
            token = scars.send_link(db.session.get(Tenant, shop.tenant.id), scar,
                                    shop.staff["quality"])
        scar_id = scar.id
    staff_page = as_role("quality").get(f"/suppliers/requests/{scar_id}").get_data(as_text=True)
    assert ids["rma"] in staff_page and "bearing.jpg" in staff_page
    client = app.test_client()
    page = client.get(f"/t/{shop.slug}/supplier/{token}").get_data(as_text=True)
    assert "bearing.jpg" in page and ids["rma"] in page
    photo = client.get(f"/t/{shop.slug}/supplier/{token}/photos/0")
    assert photo.status_code == 200 and photo.data == jpeg_bytes()
    assert photo.headers["Cache-Control"] == "no-store"
    photo.close()
    assert client.get(f"/t/{shop.slug}/supplier/{token}/photos/1").status_code == 404
    assert client.get(f"/t/{shop.slug}/supplier/not-{token}/photos/0").status_code == 404


def test_my_work_lists_the_return_for_whoever_signs_next(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)

    def waiting(role: str) -> bool:
        html = as_role(role).get("/my-work").get_data(as_text=True)
        return 'id="my-returns"' in html and ids["rma"] in html

    assert waiting("logistics") and not waiting("quality")
    walk(db, shop, ids, "receive")
    assert waiting("after_sales") and not waiting("logistics")
    from portal.models import Complaint
    from portal.returns import records

    with activate(shop.tenant):
        records.analyse(db.session.get(Complaint, ids["cid"]),
                        db.session.get(GoodsReturn, ids["rid"]), shop.staff["after_sales"],
                        analysis="x", grade="to_confirm")
        db.session.flush()
    assert waiting("quality") and not waiting("after_sales")

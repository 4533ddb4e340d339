"""Set-up shared by the returned-part tests: a complaint in containment with a return of two
spindles approved by the tenant's chain, a supplier with a contact, and small JPEG bytes."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from portal.complaints import requests as service_requests
from portal.models import GoodsReturn, ServiceRequest, Supplier, SupplierContact
from portal.tenancy import activate
from tests.internal.conftest import advance


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def approved_return(db, shop, make_complaint, quantity: int = 2, kind: str = "return") -> dict:
    """A complaint in containment with an approved return (or exchange) request and its RMA;
    a supplier of spindles with a contact. Plain ids back."""
    complaint = make_complaint(shop.tenant, shop.contact, demands=["return"])
    advance(db, shop, complaint, "containment")
    with activate(shop.tenant):
        staff = shop.staff
        request = service_requests.create_request(complaint, staff["after_sales"], kind=kind,
                                                  quantity=quantity, note="two spindles")
        if kind == "return":
            for role in ("after_sales", "quality", "manager"):
                service_requests.decide(complaint, request, staff[role], approve=True, note="")
        supplier = Supplier(name="精密主轴 Precision Spindle", code="SP-01",
                            part_numbers=["SPN-6K-01"])
        db.session.add(supplier)
        db.session.flush()
        db.session.add(SupplierContact(supplier_id=supplier.id, name="Zhang",
                                       email="zhang@spindle.example.com"))
        db.session.flush()
        ret = db.session.scalar(select(GoodsReturn).where(GoodsReturn.request_id == request.id))
        return {"cid": complaint.id, "rid": ret.id, "request_id": request.id,
                "supplier_id": supplier.id, "rma": ret.rma_number,
                "page": f"/complaints/{complaint.id}",
                "base": f"/complaints/{complaint.id}/returns/{ret.id}"}


RECEIPT = {"quantity_received": "2", "received_on": "2026-03-02", "condition": "intact",
           "warehouse_location": "财务部仓库 隔离区 Q-3", "quarantine_tag": "QT-0042",
           "note": "internal: box re-taped"}
ANALYSIS = {"grade": "suspected_defect", "analysis": "internal: bearing noise at 3000 rpm"}


def appraisal(supplier_id: int, **extra) -> dict:
    data = {"verdict": "quality_problem", "defective_quantity": "2", "origin": "purchased",
            "supplier_id": str(supplier_id), "part_number": "SPN-6K-01",
            "appraisal": "轴承缺润滑脂 Bearing without grease, seized."}
    data.update(extra)
    return data


def walk(db, shop, ids, upto: str) -> None:
    """Sign the return's steps through the operations, up to ``upto`` (receive, analyse,
    appraise, issue)."""
    from portal.models import Complaint
    from portal.returns import appraisal as appraising
    from portal.returns import records

    order = ["receive", "analyse", "appraise", "issue"]
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, ids["cid"])
        ret = db.session.get(GoodsReturn, ids["rid"])
        staff = shop.staff
        for step in order[:order.index(upto) + 1]:
            if step == "receive":
                records.receive(complaint, ret, staff["logistics"], quantity_received=2,
                                received_on=date(2026, 3, 2), condition="intact",
                                location="Q-3", tag="QT-1")
            elif step == "analyse":
                records.analyse(complaint, ret, staff["after_sales"], analysis="noise",
                                grade="suspected_defect")
            elif step == "appraise":
                appraising.appraise(complaint, ret, staff["quality"], verdict="quality_problem",
                                    appraisal="seized", defective_quantity=2,
                                    origin="self_made")
            elif step == "issue":
                appraising.issue(complaint, ret, staff["after_sales"], issued_quantity=2)
        db.session.flush()


def request_status(db, shop, request_id: int) -> str:
    with activate(shop.tenant):
        db.session.expire_all()
        return db.session.get(ServiceRequest, request_id).status

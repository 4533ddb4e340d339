"""The whole loop through the workspace's HTTP routes, each step by the role that owns it."""

from __future__ import annotations

import io

from sqlalchemy import select

from portal.models import (
    Action,
    Complaint,
    CostEntry,
    EightDReport,
    GoodsReturn,
    ServiceRequest,
    TimelineEvent,
)
from portal.tenancy import activate
from tests.pdf_checks import read_pdf


def page(staff, complaint):
    return f"/complaints/{complaint.id}"


def ok(response):
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return response


def test_whole_loop_from_received_to_closed(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact, product_model_id=shop.product_id,
                               demands=["return", "replacement"])
    cid = complaint.id
    p = f"/complaints/{cid}"
    after_sales, quality, responder = as_role("after_sales"), as_role("quality"), as_role("responder")
    manager, logistics, finance = as_role("manager"), as_role("logistics"), as_role("finance")

    ok(after_sales.post(f"{p}/transition/start_verification", page=p))
    ok(after_sales.post(f"{p}/checklist", {"confirmed": ["customer", "product"], "note": "ok"}, page=p))
    ok(after_sales.post(f"{p}/visit", {"visited_on": "2026-02-01", "visitor": "Wang",
                                       "notes": "Spindle bearing noisy"}, page=p))
    ok(quality.post(f"{p}/transition/accept", page=p))
    ok(quality.post(f"{p}/classify", {"severity": "major", "info_class": "A",
                                      "cause_category": "material",
                                      "failure_mode": str(shop.mode_id),
                                      "owner": str(shop.staff_ids["quality"])}, page=p))
    with activate(shop.tenant):
        db.session.expire_all()
        c = db.session.get(Complaint, cid)
        # routed by cause: material -> purchasing
        assert c.responsible_department_id == shop.dept_ids["purchasing"]
    ok(quality.post(f"{p}/problem/new", {"title": "Bearing preload", "analysis": ""}, page=p))
    ok(quality.post(f"{p}/transition/start_containment", page=p))
    owner = str(shop.staff_ids["after_sales"])
    ok(after_sales.post(f"{p}/actions/containment", {"kind": "containment", "title": "Ship spare",
                                                     "owner": owner, "due_at": "2026-03-01T10:00"}, page=p))
    ok(after_sales.post(f"{p}/requests", {"kind": "return", "quantity": "1", "note": "one unit"}, page=p))
    ok(after_sales.post(f"{p}/requests", {"kind": "replacement", "quantity": "2"}, page=p))
    with activate(shop.tenant):
        ret, rep = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)).all()
        ret_id, rep_id = ret.id, rep.id
    # approval chain after_sales -> quality -> manager, each signed
    for staff in (after_sales, quality, manager):
        ok(staff.post(f"{p}/requests/{ret_id}/decide", {"decision": "approve", "note": ""}, page=p))
    ok(logistics.post(f"{p}/requests/{rep_id}/ship", {"carrier": "sf", "tracking_number": "SF123"}, page=p))
    # the return's goods: received into quarantine, analysed, appraised (portal/returns/)
    with activate(shop.tenant):
        rma = db.session.scalar(select(GoodsReturn.id).where(GoodsReturn.request_id == ret_id))
    r = f"{p}/returns/{rma}"
    ok(logistics.post(f"{r}/receive", {"quantity_received": "1", "received_on": "2026-03-02",
                                       "condition": "intact", "warehouse_location": "Q-1",
                                       "quarantine_tag": "QT-1"}, page=p))
    ok(after_sales.post(f"{r}/analyse", {"grade": "suspected_defect", "analysis": "noise"}, page=p))
    ok(quality.post(f"{r}/appraise", {"verdict": "quality_problem", "defective_quantity": "1",
                                      "origin": "self_made", "appraisal": "bearing loose"}, page=p))
    ok(quality.post(f"{p}/transition/start_analysis", page=p))
    ok(quality.post(f"{p}/8d", {"requested_by_customer": "y"}, page=p))
    ok(quality.post(f"{p}/root-cause", {"root_cause": "Preload too low", "why1": "noise",
                                        "why2": "bearing loose", "material": "bearing lot"}, page=p))
    ok(quality.post(f"{p}/actions/corrective", {"kind": "corrective", "title": "Torque spec",
                                                "owner": str(shop.staff_ids["responder"]),
                                                "due_at": "2026-03-05T10:00"}, page=p))
    ok(quality.post(f"{p}/transition/start_corrective_action", page=p))
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.kind == "corrective"))
    ok(responder.post(f"{p}/actions/{action_id}/done",
                      {"result": "Instruction updated",
                       "evidence": (io.BytesIO(b"%PDF-1.4 evidence"), "instruction.pdf")},
                      page=p, content_type="multipart/form-data"))
    ok(responder.post(f"{p}/transition/submit_for_verification", page=p))
    extra = {2: {"what": "主轴异响", "where": "客户车间", "when": "2026-02", "how_many": "1 台"},
             4: {"occurrence_point": "装配工位", "escape_point": "出厂检验"},
             6: {"validation": "抽检 50 台", "result": "passed"}}
    for d in range(1, 9):
        ok(quality.post(f"{p}/8d/sections", {"discipline": str(d), "text": f"D{d} 内容",
                                             **extra.get(d, {})}, page=p))
    ok(quality.post(f"{p}/8d/summary", {"summary": "轴承已更换 bearing replaced"}, page=p))
    ok(quality.post(f"{p}/effectiveness", {"verdict": "effective", "note": "no noise in 2 weeks"}, page=p))
    ok(after_sales.post(f"{p}/answer", {"measures": "Bearing replaced", "changes": "Torque spec"}, page=p))
    ok(finance.post(f"{p}/costs", {"category": "freight", "amount": "120.50", "currency": "CNY",
                                   "department": str(shop.dept_ids["purchasing"])}, page=p))
    ok(after_sales.post(f"{p}/transition/close", page=p))

    with activate(shop.tenant):
        db.session.expire_all()
        c = db.session.get(Complaint, cid)
        assert c.status == "closed" and c.effective is True
        assert "Torque spec" in c.answer
        report = db.session.scalar(select(EightDReport))
        assert len(report.sections) == 8
        assert report.sections[3].content["whys"] == ["noise", "bearing loose"]
        ret = db.session.get(ServiceRequest, ret_id)
        assert ret.status == "received"
        assert [s.decision for s in ret.approvals] == ["approved"] * 3
        assert all(s.decided_by_id and s.decided_at for s in ret.approvals)
        assert db.session.get(ServiceRequest, rep_id).tracking_number == "SF123"
        assert db.session.scalar(select(CostEntry.amount)) == 120.50
        kinds = set(db.session.scalars(select(TimelineEvent.kind)))
        for kind in ("verification.checklist", "onsite.visit", "classified", "problem.linked",
                     "action.added", "action.done", "request.created", "request.approval",
                     "request.shipped", "return.received", "eight_d.started",
                     "eight_d.section", "eight_d.summary", "root_cause.recorded",
                     "effectiveness.verified", "cost.added", "transition.close"):
            assert kind in kinds, kind
        evidence = db.session.get(Action, action_id).evidence
    response = quality.get(f"{p}/evidence/{action_id}/0")
    assert response.status_code == 200 and response.data == b"%PDF-1.4 evidence"
    response.close()
    assert evidence[0]["name"] == "instruction.pdf"
    html = quality.get(p).get_data(as_text=True)
    assert "Bearing replaced" in html
    sheet = finance.get(f"{p}/cost-transfer.pdf")
    assert sheet.status_code == 200 and "120.50" in read_pdf(sheet.data).text

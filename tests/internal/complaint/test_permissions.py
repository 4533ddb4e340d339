"""Every casework route (internal/complaint/) refuses roles the workflow or the permission table do not allow (403),
and every route that takes an id answers 404 for another tenant's complaint."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.complaints import requests as service_requests
from portal.models import Action, CostEntry, ServiceRequest
from portal.tenancy import activate
from tests.internal.conftest import advance

# (status to reach, route under the complaint, role refused, form data)
REFUSED = [
    ("received", "/transition/start_verification", "logistics", {}),
    ("verifying", "/transition/accept", "technical", {}),
    ("verifying", "/transition/reject", "finance", {"message": "misuse"}),
    ("verifying", "/checklist", "logistics", {"confirmed": ["customer"]}),
    ("verifying", "/visit", "finance", {"visited_on": "2026-01-02", "visitor": "x", "notes": "y"}),
    ("accepted", "/classify", "responder", {"severity": "minor", "cause_category": "man"}),
    ("accepted", "/failure-modes", "after_sales", {"code": "new", "name_zh": "新", "name_en": "New"}),
    ("accepted", "/problem/new", "after_sales", {"title": "P"}),
    ("containment", "/actions/containment", "technical",
     {"kind": "containment", "title": "t", "owner": "OWNER", "due_at": "2026-03-01T10:00"}),
    ("analysis", "/actions/corrective", "after_sales",
     {"kind": "corrective", "title": "t", "owner": "OWNER", "due_at": "2026-03-01T10:00"}),
    ("analysis", "/root-cause", "after_sales", {"root_cause": "x", "why1": "y"}),
    ("analysis", "/transition/start_corrective_action", "after_sales", {}),
    ("verifying_effectiveness", "/effectiveness", "after_sales", {"verdict": "effective"}),
    ("verifying_effectiveness", "/effectiveness", "technical", {"verdict": "effective"}),
    ("containment", "/requests", "logistics", {"kind": "replacement", "quantity": "1"}),
    ("containment", "/costs", "logistics", {"category": "freight", "amount": "1", "currency": "CNY",
                                            "department": "DEPT"}),
    ("containment", "/8d", "after_sales", {}),
    ("containment", "/8d/sections", "after_sales", {"discipline": "5", "text": "x"}),
]


@pytest.mark.parametrize("status,route,role,data", REFUSED,
                         ids=[f"{r[2]}{r[1]}" for r in REFUSED])
def test_refused_roles_get_403(shop, as_role, make_complaint, db, status, route, role, data):
    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, status) if status != "received" else None
    with activate(shop.tenant):
        cid, version = complaint.id, complaint.version
    data = {k: (str(shop.staff_ids["quality"]) if v == "OWNER" else
                str(shop.dept_ids["quality"]) if v == "DEPT" else v) for k, v in data.items()}
    response = as_role(role).post(f"/complaints/{cid}{route}", data, page=f"/complaints/{cid}")
    assert response.status_code == 403, response.get_data(as_text=True)[:2000]
    with activate(shop.tenant):
        db.session.expire_all()
        from portal.models import Complaint

        assert db.session.get(Complaint, cid).version == version  # nothing written


def test_approval_chain_refuses_out_of_turn_and_wrong_role(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, "containment")
    with activate(shop.tenant):
        shop.tenant.settings = {"return_approval_chain": ["after_sales", "quality", "manager"]}
        request = service_requests.create_request(complaint, shop.staff["after_sales"],
                                                  kind="return", quantity=1)
        cid, rid = complaint.id, request.id
    p = f"/complaints/{cid}"
    # quality's turn has not come: after-sales signs first
    assert as_role("quality").post(f"{p}/requests/{rid}/decide", {"decision": "approve"},
                                   page=p).status_code == 403
    assert as_role("after_sales").post(f"{p}/requests/{rid}/decide", {"decision": "approve"},
                                       page=p).status_code == 303
    assert as_role("manager").post(f"{p}/requests/{rid}/decide", {"decision": "approve"},
                                   page=p).status_code == 403
    # a refusal needs a reason and ends the request
    response = as_role("quality").post(f"{p}/requests/{rid}/decide", {"decision": "refuse"}, page=p)
    assert response.status_code == 422
    assert as_role("quality").post(f"{p}/requests/{rid}/decide",
                                   {"decision": "refuse", "note": "not ours"}, page=p).status_code == 303
    with activate(shop.tenant):
        db.session.expire_all()
        request = db.session.get(ServiceRequest, rid)
        assert request.status == "refused"
        assert [s.decision for s in request.approvals] == ["approved", "refused", None]
    # logistics cannot receive a refused return
    assert as_role("logistics").post(f"{p}/requests/{rid}/finish", page=p).status_code == 403


def test_only_logistics_ships(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, "containment")
    with activate(shop.tenant):
        request = service_requests.create_request(complaint, shop.staff["after_sales"],
                                                  kind="exchange", quantity=1)
        cid, rid = complaint.id, request.id
    p = f"/complaints/{cid}"
    assert as_role("after_sales").post(f"{p}/requests/{rid}/ship", {"carrier": "sf",
                                                                     "tracking_number": "X1"},
                                       page=p).status_code == 403
    assert as_role("logistics").post(f"{p}/requests/{rid}/ship", {"carrier": "sf",
                                                                   "tracking_number": ""},
                                     page=p).status_code == 422
    assert as_role("logistics").post(f"{p}/requests/{rid}/ship", {"carrier": "sf",
                                                                   "tracking_number": "X1"},
                                     page=p).status_code == 303


def test_only_the_actions_the_workflow_allows_are_shown(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, "verifying")
    with activate(shop.tenant):
        cid = complaint.id
    html = as_role("after_sales").get(f"/complaints/{cid}").get_data(as_text=True)
    for name in ("request_information", "accept", "reject"):
        assert f'data-transition="{name}"' in html
    assert 'data-transition="start_verification"' not in html
    html = as_role("logistics").get(f"/complaints/{cid}").get_data(as_text=True)
    assert "data-transition=" not in html


# -- another tenant's ids are 404 ------------------------------------------------------------

GETS = ["", "/8d.pdf", "/improvement-sheet.pdf", "/cost-transfer.pdf", "/photos/1/thumb",
        "/evidence/ACTION/0"]
POSTS = ["/transition/start_verification", "/checklist", "/visit", "/classify", "/failure-modes",
         "/problem/link", "/problem/new", "/actions/containment", "/actions/corrective",
         "/actions/ACTION/done", "/root-cause", "/effectiveness", "/answer", "/requests",
         "/requests/REQUEST/decide", "/requests/REQUEST/ship", "/requests/REQUEST/finish",
         "/costs", "/costs/COST/correct", "/costs/COST/void", "/8d", "/8d/sections",
         "/8d/summary"]


@pytest.fixture
def foreign(db, make_tenant, make_staff, make_complaint):
    other = make_tenant()
    staff = make_staff(other, "after_sales", "quality", "manager")
    complaint = make_complaint(other)
    with activate(other):
        action = Action(complaint_id=complaint.id, kind="containment", title="x",
                        evidence=[{"key": f"t/{other.id}/evidence/x", "name": "x"}])
        request = ServiceRequest(complaint_id=complaint.id, kind="replacement", quantity=1)
        cost = CostEntry(complaint_id=complaint.id, category="freight", amount=10)
        db.session.add_all([action, request, cost])
        db.session.flush()
        return {"complaint": complaint.id, "action": action.id, "request": request.id,
                "cost": cost.id, "staff": staff}


def _fill(path, ids):
    return path.replace("ACTION", str(ids["action"])).replace("REQUEST", str(ids["request"])) \
        .replace("COST", str(ids["cost"]))


@pytest.mark.parametrize("path", GETS)
def test_other_tenants_complaint_is_404_on_get(shop, as_role, foreign, path):
    response = as_role("manager").get(f"/complaints/{foreign['complaint']}{_fill(path, foreign)}")
    assert response.status_code == 404


@pytest.mark.parametrize("path", POSTS)
def test_other_tenants_complaint_is_404_on_post(shop, as_role, foreign, path):
    response = as_role("manager").post(f"/complaints/{foreign['complaint']}{_fill(path, foreign)}",
                                       {"title": "x", "text": "x", "discipline": "1"})
    assert response.status_code == 404


def test_own_action_under_another_complaint_is_404(shop, as_role, make_complaint, db):
    first = make_complaint(shop.tenant, shop.contact)
    second = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, first, "analysis")
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.complaint_id == first.id))
        second_id = second.id
    response = as_role("quality").post(f"/complaints/{second_id}/actions/{action_id}/done",
                                       {"result": "x"})
    assert response.status_code == 404


def test_one_person_cannot_sign_two_steps(shop, make_staff, make_complaint, db):
    from portal.complaints.permissions import Refused

    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, "containment")
    both = make_staff(shop.tenant, "after_sales", "quality")
    with activate(shop.tenant):
        request = service_requests.create_request(complaint, both, kind="return", quantity=1)
        service_requests.decide(complaint, request, both, approve=True, note=None)
        assert not service_requests.may_decide(request, both)
        with pytest.raises(Refused) as refused:
            service_requests.decide(complaint, request, both, approve=True, note=None)
        assert refused.value.code == "forbidden"
        service_requests.decide(complaint, request, shop.staff["quality"], approve=True, note=None)
        service_requests.decide(complaint, request, shop.staff["manager"], approve=True, note=None)
        assert request.status == "approved"

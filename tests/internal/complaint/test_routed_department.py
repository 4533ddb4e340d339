"""Issue 10, item 5: the complaint's owner and the people of its responsible department
record containment measures, finish their actions and write their 8D sections, whatever
their role; people outside it are refused as before, and quality still classifies."""

from __future__ import annotations

from sqlalchemy import select

from portal.complaints import workflow
from portal.complaints.operations import classify
from portal.models import Action, EightDReport
from portal.tenancy import activate
from tests.conftest import PASSWORD
from tests.internal.conftest import Staff, advance


def _routed(db, shop, make_complaint):
    """A complaint in containment owned by the responder, routed to production."""
    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, "accepted")
    with activate(shop.tenant):
        classify(complaint, shop.staff["quality"], severity="major", info_class="B",
                 cause_category="man", owner_id=shop.staff_ids["responder"],
                 responsible_department_id=shop.dept_ids["production"])
        workflow.transition(complaint, shop.staff["quality"], "start_containment")
        return complaint.id


def _colleague(app, shop, make_staff, sign_in, role="technical", department="production"):
    """A signed-in person of ``department`` holding ``role``."""
    user = make_staff(shop.tenant, role, department=shop.departments[department])
    client = app.test_client()
    with activate(shop.tenant):
        email = user.email
    assert sign_in(client, shop.tenant, email, PASSWORD).status_code == 303
    return Staff(client, shop.tenant)


def _measure(owner_id: int) -> dict:
    return {"kind": "containment", "title": "Sort the stock <script>x</script>",
            "owner": str(owner_id), "due_at": "2026-12-20T10:00"}


def test_the_owner_records_a_containment_measure(shop, as_role, make_complaint, db):
    cid = _routed(db, shop, make_complaint)
    page = f"/complaints/{cid}"
    html = as_role("responder").get(page).get_data(as_text=True)
    assert "Add a containment measure" in html  # the form is drawn for the owner
    response = as_role("responder").post(f"{page}/actions/containment",
                                         _measure(shop.staff_ids["responder"]), page=page)
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    with activate(shop.tenant):
        titles = db.session.scalars(select(Action.title).where(Action.complaint_id == cid))
        assert "Sort the stock <script>x</script>" in list(titles)  # stored as typed, escaped


def test_the_department_finishes_actions_and_writes_its_8d(app, shop, as_role, make_staff,
                                                           make_complaint, sign_in, db):
    cid = _routed(db, shop, make_complaint)
    page = f"/complaints/{cid}"
    colleague = _colleague(app, shop, make_staff, sign_in)
    assert colleague.post(f"{page}/actions/containment", _measure(shop.staff_ids["responder"]),
                          page=page).status_code == 303
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.complaint_id == cid))
    # The measure is the owner's; a colleague of the department finishes it.
    response = colleague.post(f"{page}/actions/{action_id}/done", {"result": "Sorted 40 pcs"},
                              page=page)
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    assert colleague.post(f"{page}/8d", page=page).status_code == 303
    assert colleague.post(f"{page}/8d/sections", {"discipline": "3", "text": "Sorted"},
                          page=page).status_code == 303
    with activate(shop.tenant):
        db.session.expire_all()
        assert db.session.get(Action, action_id).done_at is not None
        assert db.session.scalar(select(EightDReport).where(
            EightDReport.complaint_id == cid)) is not None


def test_outside_the_department_is_refused_and_quality_still_classifies(
        app, shop, as_role, make_staff, make_complaint, sign_in, db):
    cid = _routed(db, shop, make_complaint)
    page = f"/complaints/{cid}"
    outsider = _colleague(app, shop, make_staff, sign_in, role="technical",
                          department="engineering")
    html = outsider.get(page).get_data(as_text=True)
    assert "Add a containment measure" not in html
    assert outsider.post(f"{page}/actions/containment", _measure(shop.staff_ids["responder"]),
                         page=page).status_code == 403
    finance = _colleague(app, shop, make_staff, sign_in, role="finance", department="finance")
    assert finance.post(f"{page}/8d", page=page).status_code == 403
    # Routed to production, the owner still does not classify: quality does.
    response = as_role("responder").post(f"{page}/classify", {
        "severity": "minor", "info_class": "B", "cause_category": "man"}, page=page)
    assert response.status_code == 403
    with activate(shop.tenant):
        db.session.expire_all()
        from portal.models import Complaint

        assert db.session.get(Complaint, cid).severity == "major"

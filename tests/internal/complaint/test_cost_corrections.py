"""Cost entries corrected or voided with a reason by quality, finance or a manager: the
original stays listed (marked, with who, when and why), both steps are on the timeline, and
corrected or voided amounts leave every total — the panel, the cost-transfer PDF, supplier
charge-backs and the analytics."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from portal.complaints import costs
from portal.complaints.permissions import Refused
from portal.models import Complaint, CostEntry, TimelineEvent
from portal.tenancy import activate
from tests.internal.complaint.test_panels import element, hx_post
from tests.internal.conftest import advance


def _case_with_cost(db, shop, make_complaint, amount="120.50") -> tuple[int, int]:
    complaint = make_complaint(shop.tenant, shop.contact, title="主轴异响")
    advance(db, shop, complaint, "containment")
    with activate(shop.tenant):
        entry = costs.add_cost(complaint, shop.staff["finance"], category="freight",
                               amount=Decimal(amount), department_id=shop.dept_ids["logistics"])
        return complaint.id, entry.id


def _panel(staff, cid) -> str:
    return staff.get(f"/complaints/{cid}?panel=costs").get_data(as_text=True)


def test_correction_replaces_the_entry_and_keeps_the_original(shop, as_role, make_complaint, db):
    cid, cost_id = _case_with_cost(db, shop, make_complaint)
    finance = as_role("finance")
    response = hx_post(finance, cid, f"/costs/{cost_id}/correct", {
        "category": "freight", "amount": "99.00", "currency": "CNY",
        "department": str(shop.dept_ids["logistics"]), "note": "invoice",
        "reason": "Invoice said 99.00 运费按发票"})
    assert response.status_code == 200, response.get_data(as_text=True)[:1500]
    html = element(response.get_data(as_text=True), "panel-costs")
    assert "<del>120.50 CNY</del>" in html and "Invoice said 99.00 运费按发票" in html
    assert "99.00 CNY" in html
    with activate(shop.tenant):
        db.session.expire_all()
        old = db.session.get(CostEntry, cost_id)
        new = db.session.get(CostEntry, old.replaced_by_id)
        assert (old.state, new.state, new.amount) == ("corrected", "active", Decimal("99.00"))
        assert old.state_by_id == shop.staff_ids["finance"] and old.state_at is not None
        kinds = db.session.scalars(select(TimelineEvent.kind).where(
            TimelineEvent.complaint_id == cid)).all()
        assert "cost.added" in kinds and "cost.corrected" in kinds
        assert costs.summarize([old, new], {})["totals"] == {"CNY": Decimal("99.00")}
    # the corrected entry has no form of its own any more
    assert f'id="cost-correct-{cost_id}-reason"' not in _panel(finance, cid)


def test_void_takes_it_out_of_every_total(shop, as_role, make_complaint, db):
    cid, cost_id = _case_with_cost(db, shop, make_complaint)
    _, keep_id = _case_with_cost(db, shop, make_complaint, "10.00")
    quality = as_role("quality")
    response = quality.post(f"/complaints/{cid}/costs/{cost_id}/void",
                            {"reason": "Booked twice 重复录入"}, page=f"/complaints/{cid}")
    assert response.status_code == 303
    html = _panel(quality, cid)
    assert "Voided" in html and "Booked twice 重复录入" in html and "No costs" not in html
    with activate(shop.tenant):
        kinds = db.session.scalars(select(TimelineEvent.kind).where(
            TimelineEvent.complaint_id == cid)).all()
        assert "cost.voided" in kinds
        from portal.analytics import money
        from portal.analytics.period import Slice

        figures = money.costs(Slice.from_args({}, shop.tenant.timezone))
        assert figures["total"] == Decimal("10.00"), figures
    # voiding it again is refused, and nothing changes
    again = quality.post(f"/complaints/{cid}/costs/{cost_id}/void", {"reason": "again"},
                         page=f"/complaints/{cid}")
    assert again.status_code == 409
    assert keep_id


def test_reason_is_required_and_what_was_typed_is_kept(shop, as_role, make_complaint, db):
    cid, cost_id = _case_with_cost(db, shop, make_complaint)
    response = as_role("finance").post(f"/complaints/{cid}/costs/{cost_id}/correct", {
        "category": "rework", "amount": "77.70", "currency": "CNY",
        "department": str(shop.dept_ids["production"]), "note": "typed 保留", "reason": " "},
        page=f"/complaints/{cid}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in html and "typed 保留" in html and "77.70" in html
    response = as_role("finance").post(f"/complaints/{cid}/costs/{cost_id}/correct", {
        "category": "rework", "amount": "-1", "currency": "CNY",
        "department": str(shop.dept_ids["production"]), "reason": "x"},
        page=f"/complaints/{cid}")
    assert response.status_code == 422 and "Enter an amount above zero." in response.get_data(
        as_text=True)
    with activate(shop.tenant):
        db.session.expire_all()
        assert db.session.get(CostEntry, cost_id).state == "active"


def test_hostile_reason_is_shown_as_text(shop, as_role, make_complaint, db):
    cid, cost_id = _case_with_cost(db, shop, make_complaint)
    staff = as_role("manager")
    staff.post(f"/complaints/{cid}/costs/{cost_id}/void",
               {"reason": "<script>alert(1)</script>'; DROP TABLE cost_entries;--"},
               page=f"/complaints/{cid}")
    html = _panel(staff, cid)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    with activate(shop.tenant):
        assert db.session.scalar(select(CostEntry.state).where(CostEntry.id == cost_id)) \
            == "voided"


def test_only_permitted_roles_correct_or_void(shop, as_role, make_complaint, db):
    cid, cost_id = _case_with_cost(db, shop, make_complaint)
    after_sales = as_role("after_sales")  # may record costs, not correct them
    assert f'id="cost-void-{cost_id}-reason"' not in _panel(after_sales, cid)
    response = after_sales.post(f"/complaints/{cid}/costs/{cost_id}/void", {"reason": "no"},
                                page=f"/complaints/{cid}")
    assert response.status_code == 403
    with activate(shop.tenant):
        entry = db.session.get(CostEntry, cost_id)
        try:
            costs.void_cost(db.session.get(Complaint, cid), entry, shop.staff["logistics"],
                            reason="x")
        except Refused as refused:
            assert refused.code == "forbidden"
        else:
            raise AssertionError("logistics voided a cost")


def test_a_cost_of_another_complaint_is_404(shop, as_role, make_complaint, db):
    cid, _ = _case_with_cost(db, shop, make_complaint)
    _, other_cost = _case_with_cost(db, shop, make_complaint)
    response = as_role("finance").post(f"/complaints/{cid}/costs/{other_cost}/void",
                                       {"reason": "x"}, page=f"/complaints/{cid}")
    assert response.status_code == 404


def test_a_corrected_charge_back_stays_the_suppliers(app, shop, make_complaint, db):
    from datetime import date

    from portal.models import SupplierCharge, utcnow
    from portal.suppliers import scorecard
    from tests.internal.test_printouts import _scar

    scar_id, _, _ = _scar(app, db, shop, make_complaint)  # six charges 800…805, the first voided
    with activate(shop.tenant):
        charge = db.session.scalars(select(SupplierCharge).where(
            SupplierCharge.request_id == scar_id).order_by(SupplierCharge.id)).all()[1]
        entry = db.session.get(CostEntry, charge.cost_entry_id)
        new = costs.correct_cost(db.session.get(Complaint, entry.complaint_id), entry,
                                 shop.staff["finance"], reason="credit note amount",
                                 category="replacement", amount=Decimal("700.00"))
        assert db.session.scalar(select(SupplierCharge.supplier_id).where(
            SupplierCharge.cost_entry_id == new.id)) == charge.supplier_id
        today = utcnow().date()
        score = scorecard.scores(date(today.year, 1, 1), today)[0]
        assert score.charged == {"CNY": Decimal("700.00") + sum(
            Decimal(800 + i) for i in range(2, 6))}

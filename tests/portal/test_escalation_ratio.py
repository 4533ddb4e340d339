"""Defect-ratio escalation: each threshold just below and just above, severe and safety flags,
repeated complaints, the lot, and never the same report twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.models import DeadlineClock, EscalationReport, Notification, Shipment, utcnow
from portal.models.actions import EscalationReportEvent
from portal.tenancy import activate


@pytest.fixture
def setup(db, make_tenant, make_product, make_staff):
    def make(shipped: int = 1000, lot_quantities: dict | None = None):
        tenant = make_tenant()
        quality = make_staff(tenant, "quality")
        product = make_product(tenant)
        with activate(tenant):
            recent = utcnow().date() - timedelta(days=30)
            db.session.add(Shipment(product_model_id=product.id, lot="BULK", quantity=shipped,
                                    shipped_on=recent))
            for lot, quantity in (lot_quantities or {}).items():
                db.session.add(Shipment(product_model_id=product.id, lot=lot,
                                        quantity=quantity, shipped_on=recent))
            # Outside the 12-month window: not counted.
            db.session.add(Shipment(product_model_id=product.id, lot="OLD", quantity=10**6,
                                    shipped_on=date(2000, 1, 1)))
            db.session.flush()
        return tenant, quality, product

    return make


def _reports(db, tenant):
    with activate(tenant):
        return {r.kind: r for r in db.session.scalars(select(EscalationReport))}


@pytest.mark.parametrize(("defects", "expected"), [
    (3, set()),                                  # 3/1000 = 3‰: not above
    (4, {"market_exception"}),                   # 4‰ > 3‰
    (10, {"market_exception"}),                  # 1 %: not above the special threshold
    (11, {"market_exception", "special"}),       # 1.1 % > 1 %
])
def test_ratio_thresholds(db, setup, make_complaint, defects, expected):
    tenant, quality, product = setup(shipped=1000)
    make_complaint(tenant, product_model_id=product.id, defect_quantity=defects)
    reports = _reports(db, tenant)
    assert set(reports) == expected
    for report in reports.values():
        figures = report.evidence["figures"]
        assert figures["defects"] == defects and figures["shipped"] == 1000
        assert figures["ratio"] == pytest.approx(defects / 1000)
        assert figures["window_months"] == 12
        assert report.owner_id == quality.id


def test_thresholds_are_the_tenants(db, setup, make_complaint):
    tenant, _quality, product = setup(shipped=1000)
    tenant.settings = {"defect_ratio_exception": 0.001}
    make_complaint(tenant, product_model_id=product.id, defect_quantity=2)
    assert set(_reports(db, tenant)) == {"market_exception"}


def test_report_is_opened_once_and_due_72_h_after_the_first_complaint(db, setup, make_complaint):
    tenant, quality, product = setup(shipped=1000)
    first = make_complaint(tenant, product_model_id=product.id, defect_quantity=5)
    second = make_complaint(tenant, product_model_id=product.id, defect_quantity=1)
    with activate(tenant):
        reports = db.session.scalars(select(EscalationReport)).all()
        assert len(reports) == 1
        report = reports[0]
        assert report.evidence["related_complaints"] == [first.id, second.id]
        assert report.due_at == first.created_at + timedelta(hours=72)
        clock = db.session.scalar(select(DeadlineClock).where(
            DeadlineClock.report_id == report.id))
        assert clock.kind == "report" and clock.due_at == report.due_at
        assert [e.kind for e in db.session.scalars(select(EscalationReportEvent))] == ["opened"]
        note = db.session.scalar(select(Notification).where(
            Notification.recipient == f"staff:{quality.id}", Notification.event == "report.opened"))
        assert note.data["report_number"] == report.number


def test_severe_and_safety_flags_escalate_at_once(db, setup, make_complaint):
    tenant, _q, product = setup(shipped=10**6)
    make_complaint(tenant, product_model_id=product.id, severe_event=True)
    assert set(_reports(db, tenant)) == {"market_exception"}
    assert _reports(db, tenant)["market_exception"].trigger == "severe"
    tenant2, _q2, product2 = setup(shipped=10**6)
    make_complaint(tenant2, product_model_id=product2.id, safety_hazard=True)
    assert set(_reports(db, tenant2)) == {"special"}


def test_three_complaints_on_the_same_problem_in_90_days(db, setup, make_complaint):
    tenant, _q, product = setup(shipped=10**6)
    make_complaint(tenant, product_model_id=product.id)
    make_complaint(tenant, product_model_id=product.id)
    assert _reports(db, tenant) == {}  # two: below
    make_complaint(tenant, product_model_id=product.id)
    report = _reports(db, tenant)["special"]  # three: a special report
    assert report.trigger == "repeat"
    assert report.evidence["figures"]["repeat_count"] == 3


def test_a_lot_over_threshold_escalates_with_its_lot(db, setup, make_complaint):
    tenant, _q, product = setup(shipped=100_000, lot_quantities={"L7": 500})
    make_complaint(tenant, product_model_id=product.id, lot="L7", defect_quantity=1)
    assert _reports(db, tenant) == {}  # 1/500 = 2‰
    make_complaint(tenant, product_model_id=product.id, lot="L7", defect_quantity=1)
    report = _reports(db, tenant)["market_exception"]  # 2/500 = 4‰ in the lot
    assert report.lot == "L7"
    assert report.evidence["figures"]["shipped"] == 500


def test_complaints_without_a_product_are_not_one_problem(db, make_tenant, make_complaint):
    tenant = make_tenant()
    for _ in range(4):
        make_complaint(tenant)
    assert _reports(db, tenant) == {}

"""portal.complaints.intake: serial numbers checked against the catalogue (the rules of a
serial number are tested in test_serials.py); the product picked by code or name; filing
limits; a visitor adopted as a contact."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.complaints import intake
from portal.models import Complaint, Contact, CustomerCompany, SerialNumber, Shipment
from portal.tenancy import activate


@pytest.fixture(autouse=True)
def english(db, app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


@pytest.fixture
def shipped(db, make_tenant, make_product):
    tenant = make_tenant()
    a, b = make_product(tenant, code="PX-100"), make_product(tenant, code="PX-200")
    with activate(tenant):
        ranged = Shipment(product_model_id=a.id, lot="L1", quantity=100,
                          shipped_on=date(2026, 3, 2), serial_first="AB000100",
                          serial_last="AB000199")
        listed = Shipment(product_model_id=b.id, lot="L9", quantity=2,
                          shipped_on=date(2026, 4, 5), serials=["ZX-1001", "zx-1002"])
        db.session.add_all([ranged, listed])
        db.session.flush()
    return tenant, a, b, ranged, listed


def test_check_serials_errors_and_warnings(shipped):
    tenant, a, b, _ranged, _listed = shipped
    with activate(tenant):
        report = intake.check_serials(tenant, "AB000101\n?bad\nAB000102", product=a)
        assert [str(e) for e in report.errors] == [
            "?BAD does not look like one of our serial numbers. Check it against the nameplate."]
        assert not report.needs_confirmation and len(report.matched) == 2
        report = intake.check_serials(tenant, "AB000101", product=b, shipped_on=date(2026, 1, 1),
                                      lot="L2")
        assert [str(w) for w in report.checks[0].warnings] == [
            "AB000101 was shipped as model PX-100, not the model you chose.",
            "AB000101 was shipped on 2026-03-02, not on the date you gave.",
            "AB000101 belongs to lot L1, not the lot you gave."]
        assert report.as_rows(confirmed=True)[0]["mismatch_confirmed"] is True
        assert report.as_rows(confirmed=False)[0]["mismatch_confirmed"] is False
        report = intake.check_serials(tenant, "ZX-9999", product=b)
        assert "not in our shipment records" in str(report.checks[0].warnings[0])


def test_a_models_own_serial_pattern_wins(shipped, db):
    tenant, a, *_ = shipped
    with activate(tenant):
        a.serial_pattern = r"^AB\d{6}$"
        db.session.flush()
        assert intake.check_serials(tenant, "ZX-1001", product=a).errors
        a.serial_pattern = "(unclosed"  # a broken pattern falls back to the default
        assert not intake.check_serials(tenant, "ZX-1001", product=a).errors


def test_earlier_open_complaint_of_the_same_company(shipped, make_contact, make_complaint, db):
    tenant, a, *_ = shipped
    contact = make_contact(tenant)
    earlier = make_complaint(tenant, contact)
    with activate(tenant):
        db.session.add(SerialNumber(complaint_id=earlier.id, value="AB000150"))
        db.session.flush()
        report = intake.check_serials(tenant, "AB000150", product=a, company_id=contact.company_id)
        assert f"already in your open complaint {earlier.number}" in str(report.checks[0].warnings[0])
        other = intake.check_serials(tenant, "AB000150", product=a, company_id=-1)
        assert other.checks[0].warnings == []


def test_resolve_and_suggest_products(shipped, db):
    tenant, a, b, *_ = shipped
    with activate(tenant):
        assert intake.resolve_product("px-100") == a
        assert intake.resolve_product("PX-200 · Model") == b
        assert intake.resolve_product("Ｐｘ-100") == a
        assert intake.resolve_product("Model") is None  # two models share the name
        assert intake.resolve_product("") is None
        b.active = False
        db.session.flush()
        assert intake.resolve_product("PX-200") is None
        assert intake.suggest_products("px") == [a]
        assert intake.suggest_products("100%") == []


def test_filing_limit(shipped, make_complaint, db):
    tenant, *_ = shipped
    tenant.settings = {"filing_limit_per_hour": 2}
    with activate(tenant):
        for _ in range(2):
            complaint = make_complaint(tenant, reporter_email="a@example.com", channel="portal")
            intake.record_origin(complaint, "10.0.0.1")
        db.session.flush()
        with pytest.raises(intake.FilingLimitReached) as reached:
            intake.check_filing_limit(tenant, email="A@example.com", ip_address="10.0.0.9",
                                      signed_in=True)
        assert reached.value.limit == 2 and 1 <= reached.value.minutes <= 61
        with pytest.raises(intake.FilingLimitReached):
            intake.check_filing_limit(tenant, email="b@example.com", ip_address="10.0.0.1",
                                      signed_in=False)
        intake.check_filing_limit(tenant, email="b@example.com", ip_address="10.0.0.1",
                                  signed_in=True)
        intake.check_filing_limit(tenant, email="b@example.com", ip_address="10.0.0.2",
                                  signed_in=False)


def test_adopt_complaint_reuses_an_existing_contact(shipped, make_contact, db):
    tenant, *_ = shipped
    contact = make_contact(tenant, email="Known@Example.com")
    with activate(tenant):
        complaint = Complaint(number="X-1", reporter_name="K", reporter_email="known@example.com",
                              reporter_company="Whatever", title="t", description="d")
        db.session.add(complaint)
        db.session.flush()
        assert intake.adopt_complaint(complaint) == contact
        assert complaint.customer_company_id == contact.company_id
        contact.active = False
        again = Complaint(number="X-2", reporter_name="K", reporter_email="known@example.com",
                          title="t", description="d")
        db.session.add(again)
        db.session.flush()
        assert intake.adopt_complaint(again) is None and again.contact_id is None


def test_adopt_complaint_new_company(shipped, db):
    tenant, *_ = shipped
    with activate(tenant):
        complaint = Complaint(number="X-3", reporter_name="New", reporter_email="n@new.example",
                              reporter_company="New Co", reporter_phone="123", title="t",
                              description="d")
        db.session.add(complaint)
        db.session.flush()
        contact = intake.adopt_complaint(complaint, "en")
        assert contact.company.name == "New Co" and contact.locale == "en"
        assert contact.password_hash is None and contact.phone == "123"
        assert db.session.scalar(select(CustomerCompany).where(
            CustomerCompany.name == "New Co")) == contact.company
        assert db.session.scalar(select(Contact).where(Contact.email == "n@new.example")) == contact
        assert complaint.events[-1].kind == "contact_linked"
        assert intake.claimed_complaint(intake.ComplaintClaim(complaint.id).get_id()) == complaint
        assert intake.claimed_complaint("contact:1") is None


def test_another_customers_delivery_is_not_described(shipped, make_company, db):
    tenant, a, b, ranged, _listed = shipped
    theirs, ours = make_company(tenant), make_company(tenant)
    with activate(tenant):
        ranged.customer_company_id = theirs.id
        db.session.flush()
        report = intake.check_serials(tenant, "AB000101", product=b, shipped_on=date(2026, 1, 1),
                                      lot="L2", company_id=ours.id)
        check = report.checks[0]
        assert check.shipment == ranged and not check.revealed
        assert [str(w) for w in check.warnings] == [
            "AB000101 was shipped as another model than the one you chose.",
            "AB000101 was shipped on another date than the one you gave.",
            "AB000101 belongs to another lot than the one you gave."]
        assert intake.check_serials(tenant, "AB000101", product=a,
                                    company_id=theirs.id).checks[0].revealed

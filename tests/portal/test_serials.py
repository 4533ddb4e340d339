"""portal.complaints.serials: the one home of the serial-number rules, used by the portal's
intake and by staff filing (casework.file_complaint) alike."""

from __future__ import annotations

from datetime import date

import pytest

from portal.complaints import casework, serials
from portal.complaints.permissions import Refused
from portal.models import Complaint, Shipment
from portal.tenancy import activate


@pytest.fixture(autouse=True)
def english(db, app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


def test_parse_splits_normalises_and_flags_duplicates():
    text = " ab0001\r\nAB0002, AB0003；ＡＢ０００４、ab0001\tAB0002\n\n"
    assert serials.parse(text) == (["AB0001", "AB0002", "AB0003", "AB0004"],
                                   ["AB0001", "AB0002"])
    assert serials.parse(None) == ([], [])


@pytest.mark.parametrize("serial,first,last,inside", [
    ("AB000150", "AB000100", "AB000199", True),
    ("AB000100", "AB000100", "AB000199", True),
    ("AB000200", "AB000100", "AB000199", False),
    ("AC000150", "AB000100", "AB000199", False),
    ("AB00150", "AB000100", "AB000199", False),  # another length is another series
    ("AB000150", None, "AB000199", False),
])
def test_ranges(serial, first, last, inside):
    assert serials.in_range(serial, first, last) is inside


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


def test_find_shipment_by_range_and_list(shipped):
    tenant, a, b, ranged, listed = shipped
    with activate(tenant):
        assert serials.find_shipment("AB000123") == ranged
        assert serials.find_shipment("ZX-1002") == listed
        assert serials.find_shipment("AB000999") is None
        assert serials.find_shipment("A%") is None
        # narrowed to a model: another model's shipment does not count
        assert serials.find_shipment("AB000123", a.id) == ranged
        assert serials.find_shipment("AB000123", b.id) is None


def test_format_follows_the_model_then_the_tenant(shipped, db):
    tenant, a, _b, _ranged, _listed = shipped
    with activate(tenant):
        assert serials.format_errors(tenant, None, ["AB000123", "ZX-1001"]) == []
        assert [str(e) for e in serials.format_errors(tenant, None, ["?bad", "A" * 61])] == [
            "?bad does not look like one of our serial numbers. Check it against the nameplate.",
            f"{'A' * 61} does not look like one of our serial numbers. Check it against the "
            "nameplate."]
        a.serial_pattern = r"^AB\d{6}$"
        assert serials.format_errors(tenant, a, ["AB000123"]) == []
        assert len(serials.format_errors(tenant, a, ["ZX-1001"])) == 1
        a.serial_pattern = "([broken"  # a broken pattern falls back to the default
        assert serials.format_errors(tenant, a, ["ZX-1001"]) == []


def _filing(a):
    return {"channel": "phone", "reporter_name": "Wang", "product_model_id": a.id,
            "defect_quantity": 1, "title": "Noise", "description": "Loud bearing",
            "demands": ["answer"], "shipped_on": date(2026, 3, 2)}


def test_staff_filing_uses_the_portal_rules(shipped, make_staff, db):
    tenant, a, _b, ranged, _listed = shipped
    staff = make_staff(tenant, "after_sales")
    with activate(tenant):
        # full-width and lower case are normalised, duplicates dropped, shipments matched
        complaint, created = casework.file_complaint(
            tenant, staff, data=_filing(a), serials=["ａｂ000150", "AB000150", "ab000151"])
        assert created
        rows = sorted((s.value, s.shipment_id) for s in complaint.serial_numbers)
        assert rows == [("AB000150", ranged.id), ("AB000151", ranged.id)]
        # a value without the serial format is refused, as on the portal
        before = db.session.query(Complaint).count()
        with pytest.raises(Refused) as refused:
            casework.file_complaint(tenant, staff, data=_filing(a), serials="AB000150\n<script>")
        assert refused.value.code == "serials"
        assert "<SCRIPT> does not look like one of our serial numbers" in str(refused.value.message)
        assert db.session.query(Complaint).count() == before

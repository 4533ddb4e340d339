"""Filing a complaint through the portal form (no JavaScript): validation of every field,
nothing typed lost, once-only submission, filing limits, hostile input."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Complaint, Photo
from portal.tenancy import activate

from .conftest import heic, jpeg


def _complaints(db, tenant):
    with activate(tenant):
        return list(db.session.scalars(select(Complaint).order_by(Complaint.id)))


def test_visitor_files_a_complete_complaint(filer, catalogue, db):
    response = filer.post(photos=[("a.jpg", jpeg()), ("b.heic", heic())])
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    tenant = catalogue["tenant"]
    [complaint] = _complaints(db, tenant)
    assert response.headers["Location"].endswith(f"/complaints/{complaint.number}/filed")
    with activate(tenant):
        assert [s.value for s in complaint.serial_numbers] == ["AB000101", "AB000102", "AB000103"]
        assert all(s.shipment_id == catalogue["shipment"].id for s in complaint.serial_numbers)
        assert complaint.shipped_on.isoformat() == "2026-03-02" and complaint.lot == "L1"
        assert complaint.contact_id is None and complaint.reporter_email.startswith("li.wei")
        assert complaint.title == "Display stays dark after power on."
        photos = list(db.session.scalars(select(Photo).where(Photo.complaint_id == complaint.id)))
        assert sorted(p.original_filename for p in photos) == ["a.jpg", "b.heic"]
        assert all(p.uploaded_by == "visitor" for p in photos)
    page = filer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert complaint.number in page
    assert page.count("<strong>by ") == 2  # first contact and answer, from the deadline clocks

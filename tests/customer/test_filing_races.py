"""Two sends of one complaint form racing (a double tap, a browser's retry on a slow network):
the second send's check found no complaint with the form's key, then the first send committed,
and the unique constraint on the key refuses the second one's INSERT. The second send must
land on the confirmation of the complaint that won: one complaint, its photos attached once,
one confirmation e-mail, never a 500. The races are made real: the winner commits from a
connection of its own just before the loser's write (so these tests commit, on a tenant of
their own, removed after)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Complaint,
    CustomerCompany,
    Department,
    OutboxMessage,
    Photo,
    ProductModel,
    Shipment,
    StaffUser,
    TenantCounter,
)
from portal.tenancy import activate
from tests.conftest import _PASSWORD_HASH, DATABASE_URL, PASSWORD
from tests.races import committed_just_before, committed_tenant, just_before

from .conftest import VALID, Filer, jpeg

pytestmark = pytest.mark.skipif(DATABASE_URL.startswith("sqlite"),
                                reason="a second connection racing needs PostgreSQL")


@pytest.fixture
def shop(app):
    """A committed tenant with model PX-100 shipped in lot L1 (AB000100..AB000199), a
    customer and a staff member who may file on the customer's behalf."""
    with committed_tenant(app) as tenant:
        with app.app_context(), activate(tenant.id):
            model = ProductModel(code="PX-100", name_zh="水泵", name_en="Pump",
                                 specification="spec")
            department = Department(name="After-sales", kind="after_sales")
            company = CustomerCompany(name="Sample Works")
            db.session.add_all([model, department, company])
            db.session.flush()
            db.session.add(Shipment(product_model_id=model.id, lot="L1", quantity=100,
                                    shipped_on=date(2026, 3, 2), serial_first="AB000100",
                                    serial_last="AB000199"))
            db.session.add(StaffUser(email=f"desk-{tenant.slug}@staff.example.com",
                                     name="Service Desk", roles=["after_sales"],
                                     department_id=department.id,
                                     password_hash=_PASSWORD_HASH))
            db.session.commit()
            ids = {"model": model.id, "company": company.id}
            db.session.remove()
        yield tenant, ids


def _rows(app, tenant, model, *where):
    with app.app_context(), activate(tenant.id):
        rows = db.session.scalars(select(model).where(*where)).all()
        db.session.remove()
        return rows


def _lost_response_copy(app, client):
    """The same browser sending a request whose response never comes back (a retry on a slow
    network, or the first of a double tap the browser abandoned): its cookies go out, and
    whatever cookie the response sets is lost."""
    name = app.config["SESSION_COOKIE_NAME"]
    copy = app.test_client()
    copy.set_cookie(name, client.get_cookie(name).value)
    return copy


def test_the_losing_send_lands_on_the_winners_confirmation(app, shop):
    tenant, _ids = shop
    client = app.test_client()
    filer = Filer(client, tenant)
    page = filer.page()
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    winner = []

    def first_send_wins():  # the whole first send, from this browser, on its own connection
        lost = Filer(_lost_response_copy(app, client), tenant)
        winner.append(lost.post(page=page, photos=[("first-a.jpg", jpeg()),
                                                   ("first-b.jpg", jpeg())]))

    # Hooked on the loser's first write of its filing (the complaint number's counter), after
    # its own "no complaint with this key yet" checks.
    with just_before(app, "INSERT INTO", TenantCounter.__table__, first_send_wins) as fired:
        second = filer.post(page=page, photos=[("second.jpg", jpeg())])
    assert fired and winner, "the second send never wrote"
    assert winner[0].status_code == 303, winner[0].get_data(as_text=True)[:2000]
    assert second.status_code == 303, second.get_data(as_text=True)[:3000]
    assert second.headers["Location"] == winner[0].headers["Location"]

    [complaint] = _rows(app, tenant, Complaint, Complaint.submission_key == key)
    assert second.headers["Location"].endswith(f"/complaints/{complaint.number}/filed")
    photos = _rows(app, tenant, Photo)
    assert sorted(p.original_filename for p in photos) == ["first-a.jpg", "first-b.jpg"]
    assert {p.complaint_id for p in photos} == {complaint.id}
    mails = [m for m in _rows(app, tenant, OutboxMessage,
                              OutboxMessage.job == "jobs.mail.send_email")
             if m.args[0] == VALID["reporter_email"]]
    assert len(mails) == 1
    # Only the losing send's answer reached the browser: it shows the winner's confirmation.
    confirmation = client.get(second.headers["Location"])
    assert confirmation.status_code == 200
    assert complaint.number in confirmation.get_data(as_text=True)
    # The losing send left nothing half-done: the form sent once more is the same complaint.
    again = filer.post(page=page)
    assert again.status_code == 303 and again.headers["Location"] == second.headers["Location"]
    assert len(_rows(app, tenant, Complaint)) == 1


def test_a_resend_after_a_lost_answer_shows_the_confirmation(app, shop):
    """The first send committed but its answer never arrived; the browser sends again (the
    key is found before any write): the confirmation opens for this browser."""
    tenant, _ids = shop
    client = app.test_client()
    filer = Filer(client, tenant)
    page = filer.page()
    first = Filer(_lost_response_copy(app, client), tenant).post(page=page)
    assert first.status_code == 303
    resend = filer.post(page=page)
    assert resend.status_code == 303 and resend.headers["Location"] == first.headers["Location"]
    confirmation = client.get(resend.headers["Location"])
    assert confirmation.status_code == 200
    [complaint] = _rows(app, tenant, Complaint)
    assert complaint.number in confirmation.get_data(as_text=True)
    assert len(_rows(app, tenant, Photo)) == 1  # the first send's; the resend's not attached


def test_staff_filing_losing_the_race_opens_the_winners_complaint(app, shop, sign_in):
    tenant, ids = shop
    client = app.test_client()
    assert sign_in(client, tenant, f"desk-{tenant.slug}@staff.example.com",
                   PASSWORD).status_code == 303
    path = f"/t/{tenant.slug}/staff/complaints/new"
    page = client.get(path).get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf, "submission_key": key, "channel": "phone",
            "company": str(ids["company"]), "reporter_name": "Li Wei",
            "product_model": str(ids["model"]), "shipped_on": "2026-03-02",
            "defect_quantity": "2", "title": "Pump leaks", "description": "Leaks at the seal",
            "serials": "AB000101", "demands": ["answer"]}
    clashing = {"tenant_id": tenant.id, "number": "QC-2026-99999", "submission_key": key,
                "status": "received", "source": "staff", "channel": "phone",
                "reporter_name": "Li Wei", "title": "Pump leaks",
                "description": "Leaks at the seal", "defect_quantity": 2, "demands": ["answer"]}
    with committed_just_before(app, "INSERT INTO", Complaint.__table__, clashing) as fired:
        response = client.post(path, data=data)
    assert fired, "the request never inserted"
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    [complaint] = _rows(app, tenant, Complaint, Complaint.submission_key == key)
    assert complaint.number == "QC-2026-99999"
    assert response.headers["Location"].endswith(f"/complaints/{complaint.id}")
    opened = client.get(response.headers["Location"])
    assert opened.status_code == 200 and "QC-2026-99999" in opened.get_data(as_text=True)
    with app.app_context(), activate(tenant.id):  # the loser's number was given back
        assert db.session.scalar(select(func.max(TenantCounter.value))) is None
        db.session.remove()


def test_the_operation_hands_back_the_winner_and_the_transaction_stays_usable(app, shop):
    """``submit_complaint`` itself (e-mail intake calls it with a ``mail:`` key): the clash is
    undone in its savepoint, the winner comes back as not created, the caller's transaction
    goes on and commits what else it wrote."""
    from portal.complaints.operations import submit_complaint
    from portal.complaints.timeline import Visitor

    tenant, ids = shop
    key = "mail:" + "a" * 59
    clashing = {"tenant_id": tenant.id, "number": "QC-2026-88888", "submission_key": key,
                "status": "received", "source": "customer", "channel": "email",
                "reporter_name": "Li Wei", "title": "Leaks", "description": "Leaks",
                "defect_quantity": 1, "demands": ["answer"]}
    data = {"reporter_name": "Li Wei", "reporter_email": "li.wei@sample-works.example.com",
            "title": "Leaks", "description": "Leaks", "defect_quantity": 1,
            "demands": ["answer"], "channel": "email", "source": "customer"}
    with app.app_context(), activate(tenant.id):
        company = db.session.get(CustomerCompany, ids["company"])
        with committed_just_before(app, "INSERT INTO", Complaint.__table__, clashing) as fired:
            complaint, created = submit_complaint(db.session.merge(tenant), Visitor("Li Wei"),
                                                  data=data, submission_key=key)
        assert fired and not created and complaint.number == "QC-2026-88888"
        company.name = "Sample Works Ltd"  # loaded before the clash, still usable after it
        db.session.commit()
        db.session.remove()
    [company] = _rows(app, tenant, CustomerCompany)
    assert company.name == "Sample Works Ltd"
    assert len(_rows(app, tenant, Complaint)) == 1

"""My work: everything waiting on the signed-in user, with the count in the header of every
page (htmx-refreshed), an empty state, few queries, and nothing of another tenant's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from portal.complaints import casework, requests, workflow
from portal.complaints.operations import classify
from portal.extensions import db as _db
from portal.models import GoodsReturn, utcnow
from portal.tenancy import activate


def _signed_in(client, sign_in, make_staff, tenant, *roles, **fields):
    user = make_staff(tenant, *roles, **fields)
    assert sign_in(client, tenant, user.email).status_code in (302, 303)
    return user


def test_empty_state_says_nothing_waits(client, sign_in, make_tenant, make_staff):
    tenant = make_tenant()
    _signed_in(client, sign_in, make_staff, tenant, "responder")
    page = client.get(f"/t/{tenant.slug}/staff/my-work")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nothing waits on you." in html
    assert 'id="my-work-link"' in html and "my-work-count" not in html


def test_my_work_lists_and_counts_each_kind(client, db, sign_in, make_tenant, make_staff,
                                            make_complaint):
    tenant, other = make_tenant(), make_tenant()
    me = _signed_in(client, sign_in, make_staff, tenant, "quality")
    after_sales = make_staff(tenant, "after_sales")
    with activate(tenant):
        owned = make_complaint(tenant, title="Owned <b>by me</b>")
        workflow.transition(owned, after_sales, "start_verification")
        workflow.transition(owned, after_sales, "accept")
        classify(owned, after_sales, severity="minor", info_class="B", cause_category="machine",
                 owner_id=me.id)
        casework.add_action(owned, after_sales, kind="containment", title="Sort the stock",
                            owner_id=me.id, due_at=utcnow() + timedelta(days=1))
        ret = requests.create_request(owned, after_sales, kind="return", quantity=1)
        requests.decide(owned, ret, after_sales, approve=True, note=None)  # quality is next
        other_case = make_complaint(tenant, title="Someone else's")
        owned_number, other_number = owned.number, other_case.number
    other_user = make_staff(other, "quality")
    with activate(other):
        foreign = make_complaint(other, title="Foreign case")
        workflow.transition(foreign, make_staff(other, "after_sales"), "start_verification")
        foreign_number = foreign.number
        assert other_user.id
    statements = []

    def count(*args, **kwargs):
        statements.append(1)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        page = client.get(f"/t/{tenant.slug}/staff/my-work")
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for section in ("my-approvals", "my-actions", "my-complaints"):
        assert f'id="{section}"' in html, section
    assert "Sort the stock" in html and owned_number in html
    assert "<b>by me</b>" not in html and "&lt;b&gt;by me&lt;/b&gt;" in html
    assert other_number not in html and "Someone else" not in html
    assert "Foreign case" not in html and foreign_number  # numbers are per tenant
    assert 'class="badge my-work-count"' in html and ">3</span>" in html
    assert len(statements) <= 12, len(statements)
    # The header's fragment (htmx every minute) says the same count on any page.
    fragment = client.get(f"/t/{tenant.slug}/staff/my-work/count").get_data(as_text=True)
    assert 'id="my-work-link"' in fragment and ">3</span>" in fragment
    assert 'hx-trigger="every 60s"' in fragment


def test_customers_and_strangers_are_refused(client, make_tenant, make_contact, sign_in):
    tenant = make_tenant()
    assert client.get(f"/t/{tenant.slug}/staff/my-work").status_code in (302, 303, 401, 403)
    contact = make_contact(tenant)
    sign_in(client, tenant, contact.email, staff=False)
    assert client.get(f"/t/{tenant.slug}/staff/my-work").status_code in (302, 303, 403)
    assert client.get(f"/t/{tenant.slug}/staff/my-work/count?x=%27%3Bdrop").status_code \
        in (302, 303, 403)


def test_an_approved_return_is_listed_once_for_logistics(client, db, sign_in, make_tenant,
                                                        make_staff, make_complaint):
    """The goods of an approved return are received on its record: logistics finds it once,
    with the returned parts (not again as a request to carry out), and counts it once."""
    tenant = make_tenant()
    _signed_in(client, sign_in, make_staff, tenant, "logistics")
    after_sales, quality = make_staff(tenant, "after_sales"), make_staff(tenant, "quality")
    manager = make_staff(tenant, "manager")
    with activate(tenant):
        complaint = make_complaint(tenant)
        workflow.transition(complaint, after_sales, "start_verification")
        workflow.transition(complaint, after_sales, "accept")
        ret = requests.create_request(complaint, after_sales, kind="return", quantity=1)
        for signer in (after_sales, quality, manager):
            requests.decide(complaint, ret, signer, approve=True, note=None)
        assert ret.status == "approved"
        rma = db.session.query(GoodsReturn.rma_number).filter_by(request_id=ret.id).scalar()
        complaint_number = complaint.number
        _db.session.commit()
    html = client.get(f"/t/{tenant.slug}/staff/my-work").get_data(as_text=True)
    assert 'id="my-returns"' in html and rma in html
    assert 'id="my-requests"' not in html
    assert html.count(complaint_number) == 1
    assert 'class="badge my-work-count"' in html and ">1</span>" in html

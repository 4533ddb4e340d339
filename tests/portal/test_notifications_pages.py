"""Pages: the bell, notification choices, failed sends, deadline policy, escalation reports
(with PDF); another tenant's ids are 404."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import Delivery, EscalationReport, Notification, Shipment, utcnow
from portal.notifications import notify
from portal.tenancy import activate
from tests.conftest import csrf_from


def _staff_client(client, sign_in, make_staff, tenant, *roles):
    user = make_staff(tenant, *roles)
    assert sign_in(client, tenant, user.email).status_code in (302, 303)
    return user


def test_bell_list_and_preferences(client, db, sign_in, make_tenant, make_staff, make_complaint):
    tenant = make_tenant(default_locale="en")
    user = _staff_client(client, sign_in, make_staff, tenant, "quality")
    complaint = make_complaint(tenant)
    with activate(tenant):
        notify("deadline.warning", [user], complaint=complaint,
               data={"clock_kind": "answer", "due_at": utcnow().isoformat()})
    page = client.get(f"/t/{tenant.slug}/staff/notifications")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="bell"' in html and "1 unread" in html
    assert complaint.number in html
    token = csrf_from(html)
    assert client.post(f"/t/{tenant.slug}/staff/notifications/read",
                       data={"csrf_token": token}).status_code == 303
    assert "unread" not in client.get(f"/t/{tenant.slug}/staff/notifications").get_data(
        as_text=True).split('id="bell"')[1].split("</a>")[0]
    prefs = client.get(f"/t/{tenant.slug}/staff/notifications/preferences")
    token = csrf_from(prefs.get_data(as_text=True))
    client.post(f"/t/{tenant.slug}/staff/notifications/preferences",
                data={"csrf_token": token, "deadline.warning:in_app": "on"})
    with activate(tenant):
        db.session.refresh(user)
        assert user.notification_prefs["deadline.warning"] == {"in_app": True, "email": False}
        assert user.notification_prefs["deadline.breached"] == {"in_app": False, "email": False}


def test_failed_sends_page_and_other_tenants(client, db, sign_in, make_tenant, make_staff):
    tenant, other = make_tenant(default_locale="en"), make_tenant()
    _staff_client(client, sign_in, make_staff, tenant, "admin")
    with activate(other):
        note = Notification(recipient="robot:0", event="deadline.warning", data={})
        db.session.add(note)
        db.session.flush()
        foreign = Delivery(notification_id=note.id, channel="feishu", target="0|x",
                           status="failed", last_error="boom")
        db.session.add(foreign)
        db.session.flush()
    with activate(tenant):
        note = Notification(recipient="robot:0", event="deadline.warning", data={})
        db.session.add(note)
        db.session.flush()
        mine = Delivery(notification_id=note.id, channel="dingtalk", target="0|http://x",
                        status="failed", last_error="310000 sign not match", attempts=5)
        db.session.add(mine)
        db.session.flush()
    page = client.get(f"/t/{tenant.slug}/staff/admin/deliveries")
    html = page.get_data(as_text=True)
    assert "310000 sign not match" in html and "boom" not in html
    token = csrf_from(html)
    assert client.post(f"/t/{tenant.slug}/staff/admin/deliveries/{foreign.id}/retry",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"/t/{tenant.slug}/staff/notifications/read",
                       data={"csrf_token": token, "id": str(foreign.notification_id)}
                       ).status_code == 404


def test_only_admins_see_sends_and_policy(client, db, sign_in, make_tenant, make_staff):
    tenant = make_tenant(default_locale="en")
    _staff_client(client, sign_in, make_staff, tenant, "quality")
    assert client.get(f"/t/{tenant.slug}/staff/admin/deliveries").status_code == 403
    assert client.get(f"/t/{tenant.slug}/staff/admin/deadlines").status_code == 403


def test_policy_edit_validates_and_keeps_what_was_typed(client, db, sign_in, make_tenant,
                                                        make_staff):
    tenant = make_tenant(default_locale="en")
    _staff_client(client, sign_in, make_staff, tenant, "admin")
    url = f"/t/{tenant.slug}/staff/admin/deadlines"
    page = client.get(url)
    assert page.status_code == 200 and "Forward to quality and technical" in page.get_data(
        as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    data = {"csrf_token": token, "what": "policy"}
    from portal.deadlines.policy import DEFAULTS

    for kind, rule in DEFAULTS.items():
        data[f"{kind}-enabled"] = "on"
        data[f"{kind}-unit"] = rule["unit"]
        for key in ("amount", "misuse_amount"):
            if key in rule:
                data[f"{kind}-{key}"] = str(rule[key])
    bad = {**data, "first_contact-amount": "soon", "answer-unit": "fortnights"}
    response = client.post(url, data=bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a number." in html and 'value="soon"' in html
    assert "Choose a value from the list." in html
    good = {**data, "first_contact-amount": "12"}
    assert client.post(url, data=good).status_code == 303
    with activate(tenant):
        db.session.refresh(tenant)
        assert tenant.settings["deadline_policy"]["first_contact"]["amount"] == 12
    # A calendar exception: a bad date is refused beside the field; a good one is kept.
    response = client.post(url, data={"csrf_token": token, "what": "exception",
                                      "day": "31/12", "note": "stocktake"})
    assert response.status_code == 422 and 'value="stocktake"' in response.get_data(as_text=True)
    assert client.post(url, data={"csrf_token": token, "what": "exception", "day": "2026-10-10",
                                  "working": "1"}).status_code == 303


def test_report_pages_pdf_and_other_tenants(client, db, sign_in, make_tenant, make_staff,
                                            make_product, make_complaint):
    tenant, other = make_tenant(default_locale="en"), make_tenant()
    _staff_client(client, sign_in, make_staff, tenant, "quality")
    product = make_product(tenant)
    with activate(tenant):
        db.session.add(Shipment(product_model_id=product.id, lot="A", quantity=1000,
                                shipped_on=utcnow().date() - timedelta(days=3)))
        db.session.flush()
    make_complaint(tenant, product_model_id=product.id, defect_quantity=5)
    other_product = make_product(other)
    make_complaint(other, product_model_id=other_product.id, severe_event=True)
    with activate(tenant):
        report = db.session.scalar(select(EscalationReport))
    with activate(other):
        foreign = db.session.scalar(select(EscalationReport))
    listing = client.get(f"/t/{tenant.slug}/staff/reports").get_data(as_text=True)
    assert report.number in listing
    page = client.get(f"/t/{tenant.slug}/staff/reports/{report.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "5.00‰" in html and "1000" in html
    pdf = client.get(f"/t/{tenant.slug}/staff/reports/{report.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    token = csrf_from(html)
    assert client.post(f"/t/{tenant.slug}/staff/reports/{report.id}",
                       data={"csrf_token": token, "action": "issue", "body": "Cause found."}
                       ).status_code == 303
    with activate(tenant):
        db.session.refresh(report)
        assert report.status == "issued"
    for url in (f"/t/{tenant.slug}/staff/reports/{foreign.id}",
                f"/t/{tenant.slug}/staff/reports/{foreign.id}.pdf"):
        assert client.get(url).status_code == 404
    assert client.post(f"/t/{tenant.slug}/staff/reports/{foreign.id}",
                       data={"csrf_token": token, "action": "issue", "body": "x"}
                       ).status_code == 404

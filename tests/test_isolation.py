"""Isolation, for every route that takes an id: a user of tenant A asking for tenant B's
object gets 404, and a customer company never reaches another company's complaint.

The routes are read from the app's URL map, so a new route is covered as soon as it exists;
a route whose id parameter this file does not know fails `test_every_id_parameter_is_known`
until someone says here which object it names.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import models as m
from portal.secretbox import encrypt
from portal.tenancy import activate
from tests.conftest import csrf_from

API_TOKEN_LIFE = timedelta(days=1)

# URL parameters that are not object ids (tokens are unguessable secrets, checked elsewhere).
NOT_IDS = {"tenant_slug", "token", "filename", "fmt", "format", "kind", "size", "variant",
           "view", "discipline", "locale", "lang", "step", "section", "name", "code", "event",
          "group", "index", "which"}


API_BODIES = {"/costs": {"category": "freight", "amount": "1"},
              "/transitions": {"name": "start_verification"},
              "/contacts": {"name": "X", "email": "x-isolation@example.com"}}


def _first(model):
    from portal.extensions import db

    return db.session.scalar(select(model).order_by(model.id))


def build_world(db, tenant, make_staff, make_contact, make_complaint, make_product):
    """One object of every kind in ``tenant``; returns {parameter name: id}."""
    staff = make_staff(tenant, *m.ROLES)
    contact = make_contact(tenant)
    product = make_product(tenant)
    complaint = make_complaint(tenant, contact, product_model_id=product.id)
    with activate(tenant):
        department = _first(m.Department)
        shipment = m.Shipment(product_model_id=product.id, lot="L1", quantity=10,
                              shipped_on=m.utcnow().date(), customer_company_id=contact.company_id)
        mode = m.FailureMode(code="noise", name_zh="异响", name_en="Noise")
        problem = m.Problem(number="P-1", title="Noise")
        db.session.add_all([shipment, mode, problem])
        db.session.flush()
        photo = m.Photo(complaint_id=complaint.id, uploaded_by=contact.get_id(), status="stored",
                        original_filename="a.jpg", size_bytes=10,
                        thumb_key=f"t/{tenant.id}/photos/x/thumb.jpg",
                        large_key=f"t/{tenant.id}/photos/x/large.jpg",
                        original_key=f"t/{tenant.id}/photos/x/original.jpg")
        action = m.Action(complaint_id=complaint.id, kind="containment", title="Spare")
        request = m.ServiceRequest(complaint_id=complaint.id, kind="return")
        db.session.add_all([photo, action, request])
        db.session.flush()
        step = m.ApprovalStep(request_id=request.id, position=1, role="after_sales")
        cost = m.CostEntry(complaint_id=complaint.id, category="freight", amount=10)
        report = m.EightDReport(complaint_id=complaint.id)
        escalation = m.EscalationReport(number="R-1", kind="special", trigger="manual")
        campaign = m.SurveyCampaign(name="2026", year=2026)
        notification = m.Notification(recipient=staff.get_id(), event="x")
        exception = m.CalendarException(day=m.utcnow().date(), working=False)
        pack = m.MeetingPack(month=m.utcnow().date().replace(day=1),
                             files={"en": f"t/{tenant.id}/meeting-packs/x-en.pdf"})
        db.session.add_all([step, cost, report, escalation, campaign, notification, exception,
                            pack])
        db.session.flush()
        survey = m.Survey(token_hash=uuid.uuid4().hex * 2, contact_id=contact.id, campaign_id=campaign.id,
                          expires_at=m.utcnow())
        delivery = m.Delivery(notification_id=notification.id, channel="email", target="a@b.c")
        db.session.add_all([survey, delivery])
        api_token = m.ApiToken(name="ERP", token_hash=uuid.uuid4().hex * 2, prefix="clk_x",
                               scopes=["admin"], acting_user_id=staff.id,
                               expires_at=m.utcnow())
        db.session.add(api_token)
        db.session.flush()
        ids = {
            "complaint_id": complaint.id, "number": complaint.number, "user_id": staff.id, "staff_id": staff.id,
            "contact_id": contact.id, "company_id": contact.company_id,
            "customer_id": contact.company_id, "product_id": product.id,
            "model_id": product.id, "product_model_id": product.id, "shipment_id": shipment.id,
            "department_id": department.id, "failure_mode_id": mode.id, "mode_id": mode.id,
            "problem_id": problem.id, "photo_id": photo.id, "action_id": action.id,
            "request_id": request.id, "approval_id": step.id, "step_id": step.id,
            "cost_id": cost.id, "entry_id": cost.id, "report_id": escalation.id,
            "eight_d_id": report.id, "campaign_id": campaign.id, "survey_id": survey.id,
            "notification_id": notification.id, "delivery_id": delivery.id,
            "exception_id": exception.id, "calendar_exception_id": exception.id,
            "token_id": api_token.id,
            "pack_id": pack.id,
        }
        subscription = m.WebhookSubscription(name="BI", url="https://bi.example.com/hook",
                                             events=["closed"], secret_encrypted=encrypt("x"))
        mailbox = m.Mailbox(address="s@m.example.com", host="imap.m.example.com",
                            username="s", password_encrypted=encrypt("x"))
        db.session.add_all([subscription, mailbox])
        db.session.flush()
        webhook_delivery = m.WebhookDelivery(subscription_id=subscription.id, event="closed",
                                             event_id=uuid.uuid4().hex, body="{}")
        db.session.add(webhook_delivery)
        db.session.flush()
        mail_files = m.TimelineEvent(complaint_id=complaint.id, kind="email.files",
                                     actor_name="x", data={"files": [
                                         {"key": f"t/{tenant.id}/evidence/x/a.pdf",
                                          "name": "a.pdf"}]})
        db.session.add(mail_files)
        db.session.flush()
        ids.update(subscription_id=subscription.id, webhook_delivery_id=webhook_delivery.id,
                   mailbox_id=mailbox.id, event_id=mail_files.id)
        supplier = m.Supplier(name="Spindles", code="SP-1")
        db.session.add(supplier)
        db.session.flush()
        supplier_contact = m.SupplierContact(supplier_id=supplier.id, name="Li",
                                             email="li@supplier.example.com")
        db.session.add(supplier_contact)
        db.session.flush()
        scar = m.SupplierRequest(number="SCAR-1", complaint_id=complaint.id,
                                 supplier_id=supplier.id, contact_id=supplier_contact.id,
                                 part_number="P-1", defect="x", defective_quantity=1,
                                 asks=["eight_d"], due_at=m.utcnow())
        db.session.add(scar)
        db.session.flush()
        evidence = m.SupplierEvidence(request_id=scar.id, storage_key=f"t/{tenant.id}/e/x.pdf",
                                      filename="x.pdf", content_type="application/pdf",
                                      size_bytes=1)
        db.session.add(evidence)
        db.session.flush()
        serial = m.SerialNumber(complaint_id=complaint.id, value="SN000001",
                                shipment_id=shipment.id)
        db.session.add(serial)
        db.session.flush()
        ids.update(supplier_id=supplier.id, supplier_contact_id=supplier_contact.id,
                   scar_id=scar.id, evidence_id=evidence.id,
                   serial_id=serial.id)
        goods = m.GoodsReturn(rma_number="RMA-1", complaint_id=complaint.id,
                              request_id=request.id, kind="return", quantity_requested=1,
                              state="appraised", verdict="misuse", origin="self_made",
                              appraised_at=m.utcnow(),
                              evidence=[{"key": f"t/{tenant.id}/return-evidence/x.jpg",
                                         "name": "x.jpg"}])
        db.session.add(goods)
        db.session.flush()
        ids.update(return_id=goods.id)
        member = m.EightDMember(report_id=report.id, staff_user_id=staff.id, role="leader")
        check = m.EffectivenessCheck(complaint_id=complaint.id, effective=True,
                                     evidence=[{"key": f"t/{tenant.id}/evidence/x/b.pdf",
                                                "name": "b.pdf"}], follow_up_evidence=[])
        db.session.add_all([member, check])
        db.session.flush()
        ids.update(member_id=member.id, check_id=check.id)
        db.session.add(m.ImportRun(kind="shipments", filename="x.xlsx",
                                   upload_key=f"t/{tenant.id}/imports/x/upload.bin"))
        db.session.flush()
        for model_name, key in (("ImportRun", "run_id"), ("ImportRun", "import_id"),
                                ("Invitation", "invitation_id")):
            model = getattr(m, model_name, None)
            row = _first(model) if model is not None else None
            if row is not None:
                ids[key] = row.id
    return ids, staff, contact


def _tenant_rules(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/t/<tenant_slug>/"):
            continue
        params = set(rule.arguments) - NOT_IDS
        if params:
            yield rule, params


def test_every_id_parameter_is_known(app, db, make_tenant, make_staff, make_contact,
                                     make_complaint, make_product):
    ids, _, _ = build_world(db, make_tenant(), make_staff, make_contact, make_complaint,
                            make_product)
    unknown = {(rule.rule, p) for rule, params in _tenant_rules(app) for p in params
               if p not in ids}
    assert unknown == set(), ("routes with id parameters this test cannot fill; add them to "
                              f"build_world: {sorted(unknown)}")


def _url(rule, slug, ids):
    values = {"tenant_slug": slug}
    for arg in rule.arguments:
        if arg in ids:
            values[arg] = ids[arg]
        elif arg != "tenant_slug":
            # A non-id parameter: take the rule's default or a harmless value of its type.
            converter = rule._converters.get(arg)
            if converter and converter.__class__.__name__ == "IntegerConverter":
                values[arg] = 1
            elif converter and converter.__class__.__name__ == "AnyConverter":
                values[arg] = sorted(converter.items)[0]
            else:
                values[arg] = "x"
    return rule.build(values, append_unknown=False)[1]


def test_another_tenants_objects_are_404(app, db, client, make_tenant, make_staff, make_contact,
                                         make_complaint, make_product, sign_in):
    a, b = make_tenant(), make_tenant()
    _, staff_a, contact_a = build_world(db, a, make_staff, make_contact, make_complaint,
                                        make_product)
    ids_b, _, _ = build_world(db, b, make_staff, make_contact, make_complaint, make_product)
    with activate(b):  # numbers are per tenant: give B's a number tenant A does not also have
        complaint = db.session.get(m.Complaint, ids_b["complaint_id"])
        complaint.number = ids_b["number"] = "QC-2026-99999"
        db.session.flush()
    staff_client = client
    sign_in(staff_client, a, staff_a.email)
    customer_client = app.test_client()
    sign_in(customer_client, a, contact_a.email, staff=False)
    token = csrf_from(staff_client.get(f"/t/{a.slug}/staff/account/password").get_data(True))
    from portal.api import tokens

    with activate(a):  # the API is called with a bearer token of tenant A, with every scope
        _row, secret = tokens.issue(name="A", scopes=["admin"], acting_user=staff_a,
                                    created_by=staff_a, expires_at=m.utcnow() + API_TOKEN_LIFE)
    api_client = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    customer_token = csrf_from(customer_client.get(f"/t/{a.slug}/account/password").get_data(True))

    failures, tried = [], set()
    for rule, _params in _tenant_rules(app):
        if not set(rule.arguments) - NOT_IDS <= set(ids_b):
            continue
        tried.add(rule.rule)
        url = _url(rule, a.slug, ids_b)
        staff_area = rule.rule.startswith("/t/<tenant_slug>/staff/")
        browser, csrf = (staff_client, token) if staff_area else (customer_client, customer_token)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.rule.startswith("/t/<tenant_slug>/api/"):
                # A valid body, so that only the object's tenant decides the answer.
                body = next((b for tail, b in API_BODIES.items() if rule.rule.endswith(tail)),
                            None)
                response = api_client.open(url, method=method, headers=bearer,
                                           json=body if method == "POST" else None)
            elif method == "GET":
                response = browser.get(url)
            else:
                response = browser.open(url, method=method, data={"csrf_token": csrf},
                                        headers={"X-CSRFToken": csrf})
            if response.status_code != 404:
                failures.append((method, rule.rule, response.status_code))
    assert failures == [], f"tenant B's objects reachable from tenant A: {failures}"
    # B's webhooks and their deliveries, through the API as through the admin pages.
    api_webhooks = "/t/<tenant_slug>/api/v1/webhooks/<int:subscription_id>"
    assert {api_webhooks, api_webhooks + "/deliveries",
            api_webhooks + "/deliveries/<int:webhook_delivery_id>/replay",
            "/t/<tenant_slug>/staff/admin/webhooks/<int:subscription_id>/edit",
            "/t/<tenant_slug>/staff/admin/mailboxes/<int:mailbox_id>/edit"} <= tried


def test_customer_company_never_sees_another_company(app, db, client, make_tenant, make_contact,
                                                     make_company, make_complaint, sign_in):
    tenant = make_tenant()
    company_x = make_company(tenant)
    x = make_contact(tenant, company_x)
    colleague = make_contact(tenant, company_x)
    y = make_contact(tenant)
    theirs = make_complaint(tenant, y, title="Y's own problem")
    mine = make_complaint(tenant, x, title="X's own problem")
    sign_in(client, tenant, colleague.email, staff=False)

    def complaint_pages():
        for rule in app.url_map.iter_rules():
            keys = set(rule.arguments) - NOT_IDS
            if rule.rule.startswith("/t/<tenant_slug>/") and "GET" in rule.methods \
                    and not rule.rule.startswith("/t/<tenant_slug>/staff/") \
                    and keys in ({"complaint_id"}, {"number"}):
                yield rule

    def ids_of(complaint):
        return {"complaint_id": complaint.id, "number": complaint.number}

    checked = 0
    for rule in complaint_pages():
        url = _url(rule, tenant.slug, ids_of(theirs))
        # The API takes bearer tokens only: a customer's session never opens it (401).
        expected = 401 if rule.rule.startswith("/t/<tenant_slug>/api/") else 404
        assert client.get(url).status_code == expected, rule.rule
        checked += 1
    pages = [client.get(f"/t/{tenant.slug}/").get_data(as_text=True)]
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("customer.complaints", "customer.my_complaints",
                             "customer.complaint_list"):
            pages.append(client.get(_url(rule, tenant.slug, {})).get_data(as_text=True))
    assert all("Y&#39;s own problem" not in p and "Y's own problem" not in p for p in pages)
    if checked:
        own = next(r for r in complaint_pages() if r.endpoint.endswith(("complaint", "detail",
                                                                        "complaint_detail"))
                   and not r.endpoint.startswith("api."))
        assert client.get(_url(own, tenant.slug, ids_of(mine))).status_code == 200


@pytest.mark.parametrize("path", ["/t/{slug}/staff/", "/t/{slug}/"])
def test_unknown_tenant_is_404(client, path):
    assert client.get(path.format(slug="no-such-tenant")).status_code == 404

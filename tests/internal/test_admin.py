"""Tenant administration: invitations (single use, expiring, resend, revoke), roles and
departments, deactivation ending sessions at once, customers and contact invitations,
catalogue forms, settings with their history, admins only, and another tenant's ids -> 404."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import (
    Contact,
    Department,
    FailureMode,
    OutboxMessage,
    ProductModel,
    SettingChange,
    SignInToken,
    StaffUser,
)
from portal.tenancy import activate
from tests.conftest import PASSWORD, csrf_from


@pytest.fixture
def admin_client(db, make_tenant, make_staff, client, sign_in):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin", name="Ada Admin", locale="en")
    assert sign_in(client, tenant, admin.email).status_code == 303
    client.tenant, client.admin = tenant, admin
    client.base = f"/t/{tenant.slug}/staff"
    return client


def post(client, path, data=None, page=None, **kwargs):
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), **(data or {})}, **kwargs)


def last_link(to: str, pattern: str) -> str:
    texts = [m.args[2] for m in _db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.job == "jobs.mail.send_email").order_by(OutboxMessage.id))
        if m.args[0] == to]
    assert texts, f"no mail to {to}"
    return "/" + re.search(pattern, texts[-1]).group(0).split("/", 3)[3]


def invite(client, email="new@staff.example.com", roles=("quality",)):
    return post(client, f"{client.base}/admin/people",
                {"name": "New Person", "email": email, "department_id": "0",
                 "roles": list(roles), "locale": "en"})


def test_invitation_sets_password_once(admin_client, db, app):
    response = invite(admin_client)
    assert response.status_code == 303
    link = last_link("new@staff.example.com", r"http://\S+/invitation/\S+")
    fresh = app.test_client()
    page = fresh.get(link)
    assert page.status_code == 200 and "Choose a password" in page.get_data(as_text=True)
    short = fresh.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                   "password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 10" in short.get_data(as_text=True)
    done = fresh.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                  "password": "a-new-password", "confirm": "a-new-password"})
    assert done.status_code == 303
    assert fresh.get(f"{admin_client.base}/admin/people").status_code == 403  # not an admin
    # single use
    again = app.test_client().get(link)
    assert again.status_code == 410 and "no longer works" in again.get_data(as_text=True)


def test_invitation_expires(admin_client, db, app):
    invite(admin_client)
    link = last_link("new@staff.example.com", r"http://\S+/invitation/\S+")
    with activate(admin_client.tenant):
        row = db.session.scalar(select(SignInToken).where(SignInToken.purpose == "invite"))
        assert abs(row.expires_at - row.created_at - timedelta(days=7)) < timedelta(seconds=5)
        row.expires_at = row.created_at - timedelta(seconds=1)
        db.session.flush()
    assert app.test_client().get(link).status_code == 410


def test_resend_replaces_and_revoke_withdraws(admin_client, db, app):
    invite(admin_client)
    first = last_link("new@staff.example.com", r"http://\S+/invitation/\S+")
    with activate(admin_client.tenant):
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == "new@staff.example.com"))
    people = f"{admin_client.base}/admin/people"
    assert post(admin_client, f"{people}/{user.id}/resend", page=people).status_code == 303
    second = last_link("new@staff.example.com", r"http://\S+/invitation/\S+")
    assert second != first
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200
    assert post(admin_client, f"{people}/{user.id}/revoke", page=people).status_code == 303
    assert app.test_client().get(second).status_code == 410
    assert "Invitation revoked" in admin_client.get(people).get_data(as_text=True)
    # inviting the same address again works (the revoked invitee is renewed)
    assert invite(admin_client).status_code == 303


def test_invite_rules(admin_client, db):
    response = invite(admin_client, email=admin_client.admin.email)
    assert response.status_code == 422 and "already has an account" in response.get_data(as_text=True)
    response = invite(admin_client, email="x@y.example.com", roles=())
    assert response.status_code == 422 and "at least one role" in response.get_data(as_text=True)
    response = invite(admin_client, email="x@y.example.com", roles=("wizard",))
    assert response.status_code == 422


def test_deactivated_users_old_session_is_refused(admin_client, db, app, make_staff, sign_in):
    worker = make_staff(admin_client.tenant, "quality")
    theirs = app.test_client()
    assert sign_in(theirs, admin_client.tenant, worker.email).status_code == 303
    assert theirs.get(f"{admin_client.base}/").status_code == 200
    people = f"{admin_client.base}/admin/people"
    response = post(admin_client, f"{people}/{worker.id}/deactivate", page=people)
    assert response.status_code == 303
    assert theirs.get(f"{admin_client.base}/").status_code == 302  # signed out at once
    again = sign_in(theirs, admin_client.tenant, worker.email)
    assert again.status_code == 422
    with activate(admin_client.tenant):
        db.session.refresh(worker)
    assert worker.active is False  # history stays: the row is there
    post(admin_client, f"{people}/{worker.id}/reactivate", page=people)
    assert sign_in(theirs, admin_client.tenant, worker.email).status_code == 303


def test_admin_cannot_lock_themselves_out(admin_client, db):
    people = f"{admin_client.base}/admin/people"
    me = admin_client.admin.id
    post(admin_client, f"{people}/{me}/deactivate", page=people)
    with activate(admin_client.tenant):
        db.session.refresh(admin_client.admin)
    assert admin_client.admin.active
    response = post(admin_client, f"{people}/{me}", {"name": "Ada", "department_id": "0",
                                                     "roles": ["quality"], "locale": ""})
    assert response.status_code == 422 and "from yourself" in response.get_data(as_text=True)


def test_roles_department_and_manager(admin_client, db, make_staff):
    worker = make_staff(admin_client.tenant, "quality")
    deps = f"{admin_client.base}/admin/departments"
    response = post(admin_client, deps, {"name": "QA Lab", "kind": "quality",
                                         "manager_id": str(worker.id)})
    assert response.status_code == 303
    with activate(admin_client.tenant):
        lab = db.session.scalar(select(Department).where(Department.name == "QA Lab"))
        assert lab.manager_id == worker.id
    dup = post(admin_client, deps, {"name": "QA Lab", "kind": "quality", "manager_id": "0"})
    assert dup.status_code == 422 and "Another department" in dup.get_data(as_text=True)
    response = post(admin_client, f"{admin_client.base}/admin/people/{worker.id}",
                    {"name": "Wu", "department_id": str(lab.id),
                     "roles": ["quality", "manager"], "locale": "zh_CN"})
    assert response.status_code == 303
    with activate(admin_client.tenant):
        db.session.refresh(worker)
    assert worker.roles == ["quality", "manager"] and worker.department_id == lab.id


def test_first_run_creates_departments_and_can_be_skipped(admin_client, db):
    tenant = admin_client.tenant
    tenant.settings = {"first_run_done": False}
    db.session.flush()
    welcome = f"{admin_client.base}/admin/welcome"
    response = post(admin_client, f"{welcome}/departments",
                    {"kinds": ["after_sales", "quality"]}, page=welcome)
    assert response.status_code == 303
    with activate(tenant):
        kinds = sorted(d.kind for d in db.session.scalars(select(Department)))
    assert "after_sales" in kinds and "quality" in kinds
    assert post(admin_client, f"{welcome}/done", page=welcome).status_code == 303
    with activate(admin_client.tenant):
        db.session.refresh(tenant)
    assert tenant.setting("first_run_done") is True


def test_staff_without_admin_role_get_403(db, make_tenant, make_staff, client, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality", "manager")
    sign_in(client, tenant, user.email)
    for path in ("admin/", "admin/people", "admin/departments", "admin/customers",
                 "admin/products", "admin/shipments", "admin/settings",
                 "admin/import/shipments"):
        assert client.get(f"/t/{tenant.slug}/staff/{path}").status_code == 403, path


def test_sessions_page_still_works(admin_client, db):
    page = admin_client.get(f"{admin_client.base}/admin/users")
    assert page.status_code == 200 and "Sign out everywhere" in page.get_data(as_text=True)


def test_customers_contacts_and_portal_invitation(admin_client, db, app):
    base = f"{admin_client.base}/admin/customers"
    response = post(admin_client, base, {"name": "Delta Motors", "code": "D1",
                                         "key_account": "y"})
    assert response.status_code == 303
    company_path = response.headers["Location"]
    dup = post(admin_client, base, {"name": "delta motors"})
    assert dup.status_code == 422 and "exists already" in dup.get_data(as_text=True)
    added = post(admin_client, f"{company_path}/contacts",
                 {"name": "Mei", "email": "Mei@Delta.example.com", "phone": "", "locale": "",
                  "invite": "y"}, page=company_path)
    assert added.status_code == 303
    link = last_link("mei@delta.example.com", r"http://\S+/sign-in/link/\S+")
    portal = app.test_client()
    page = portal.get(link)
    signed = portal.post(link, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert signed.status_code == 303
    # one-time
    page = app.test_client().get(link)
    again = app.test_client()
    again.get(link)
    response = again.post(link, data={"csrf_token": csrf_from(again.get(link).get_data(
        as_text=True))})
    assert response.headers["Location"].endswith("/sign-in")
    bad = post(admin_client, f"{company_path}/contacts",
               {"name": "", "email": "nope", "locale": ""}, page=company_path)
    assert bad.status_code == 422 and "valid e-mail" in bad.get_data(as_text=True)
    with activate(admin_client.tenant):
        contact = db.session.scalar(select(Contact))
    post(admin_client, f"{admin_client.base}/admin/contacts/{contact.id}/deactivate",
         page=company_path)
    with activate(admin_client.tenant):
        db.session.refresh(contact)
    assert not contact.active


@pytest.mark.parametrize("pattern,ok", [
    (r"^CL\d{6}$", True), (r"^(A+)+$", False), (r"^(\d*)*X$", False), ("[unclosed", False),
    (r"^(ab|cd){3}$", True), ("A" * 200, False), (r"^(a)\1$", False),
])
def test_serial_pattern_is_checked(admin_client, db, pattern, ok):
    response = post(admin_client, f"{admin_client.base}/admin/products",
                    {"code": "P-1", "name_zh": "泵", "name_en": "Pump", "serial_pattern": pattern,
                     "active": "y"})
    assert (response.status_code == 303) is ok, response.get_data(as_text=True)[-2000:]


def test_product_and_manual_shipment(admin_client, db):
    products = f"{admin_client.base}/admin/products"
    post(admin_client, products, {"code": "P-9", "name_zh": "泵", "name_en": "Pump",
                                  "serial_pattern": r"^P9-\d{4}$", "active": "y"})
    dup = post(admin_client, products, {"code": "p-9", "name_zh": "泵", "name_en": "Pump"})
    assert dup.status_code == 422 and "Another model" in dup.get_data(as_text=True)
    with activate(admin_client.tenant):
        product = db.session.scalar(select(ProductModel))
    shipments = f"{admin_client.base}/admin/shipments"
    base = {"product_model_id": str(product.id), "lot": "L1", "quantity": "10",
            "shipped_on": "2026-02-03", "customer_company_id": "0"}
    bad = post(admin_client, shipments, {**base, "serial_first": "P9-0001",
                                         "serial_last": "X"})
    assert bad.status_code == 422
    bad = post(admin_client, shipments, {**base, "quantity": "ten"})
    assert bad.status_code == 422 and 'value="L1"' in bad.get_data(as_text=True)
    good = post(admin_client, shipments, {**base, "serial_first": "P9-0001",
                                          "serial_last": "P9-0010"})
    assert good.status_code == 303
    again = post(admin_client, shipments, base)
    assert again.status_code == 422 and "already has a shipment" in again.get_data(as_text=True)


def _settings_data(page: str, **changes) -> dict:
    data = {"brand_color": "#0f6cbd", "default_locale": "en", "languages": ["zh_CN", "en"],
            "timezone": "Asia/Shanghai", "complaint_prefix": "QC",
            "return_approval_chain": "after_sales, quality, manager",
            "defect_ratio_exception": "3", "defect_ratio_special": "10",
            "ratio_window_months": "12", "weight_overall": "1", "weight_service": "1",
            "weight_quality": "1", "survey_low_score": "60", "survey_delay_hours": "24",
            "max_photos": "10", "max_photo_mb": "20", "notification_channels": ["email", "in_app"],
            "csrf_token": csrf_from(page)}
    data.update(changes)
    return data


def test_settings_change_is_recorded(admin_client, db):
    path = f"{admin_client.base}/admin/settings"
    page = admin_client.get(path).get_data(as_text=True)
    response = admin_client.post(path, data=_settings_data(
        page, brand_color="#AA3300", defect_ratio_exception="2",
        return_approval_chain="quality, manager", weight_quality="3"))
    assert response.status_code == 303
    tenant = admin_client.tenant
    with activate(admin_client.tenant):
        db.session.refresh(tenant)
    assert tenant.brand_color == "#aa3300"
    assert tenant.setting("defect_ratio_exception") == 0.002
    assert tenant.setting("return_approval_chain") == ["quality", "manager"]
    assert tenant.setting("survey_weights") == {"overall": 1, "service": 1, "quality": 3}
    with activate(tenant):
        changes = {c.key: c for c in db.session.scalars(select(SettingChange))}
    assert set(changes) == {"brand_color", "defect_ratio_exception", "return_approval_chain",
                            "survey_weights"}
    assert changes["brand_color"].old_value == "#0f6cbd"
    assert changes["brand_color"].staff_id == admin_client.admin.id
    history = admin_client.get(path).get_data(as_text=True)
    assert "return_approval_chain" in history and "Ada Admin" in history


@pytest.mark.parametrize("typed,chain", [
    ("售后、质量、主管", ["after_sales", "quality", "manager"]),  # names, Chinese list marks
    ("Quality, Responsible department > Manager", ["quality", "responder", "manager"]),
    ("quality manager", ["quality", "manager"]),  # codes, as before
    ("财务；after-sales", ["finance", "after_sales"]),
])
def test_approval_chain_by_role_names(admin_client, db, typed, chain):
    """Admins write the chain with the roles' names in either language (or their codes), and
    read it back as names in the page's language."""
    path = f"{admin_client.base}/admin/settings"
    page = admin_client.get(path).get_data(as_text=True)
    response = admin_client.post(path, data=_settings_data(page, return_approval_chain=typed))
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    with activate(admin_client.tenant):
        db.session.refresh(admin_client.tenant)
        assert admin_client.tenant.setting("return_approval_chain") == chain
    shown = admin_client.get(path).get_data(as_text=True)
    names = {"after_sales": "After-sales", "quality": "Quality", "responder":
             "Responsible department", "manager": "Manager", "finance": "Finance"}
    assert 'value="' + ", ".join(names[r] for r in chain) + '"' in shown


@pytest.mark.parametrize("changes,message", [
    ({"brand_color": "red"}, "#1a2b3c"),
    ({"brand_color": "#12345g"}, "#1a2b3c"),
    ({"defect_ratio_special": "2"}, "must be above"),
    ({"return_approval_chain": "quality, wizard"}, "Unknown role"),
    ({"return_approval_chain": "quality, quality"}, "once"),
    ({"return_approval_chain": "质量、质量"}, "once"),
    ({"return_approval_chain": "质量、管理员"}, "Unknown role: 管理员"),  # admins do not sign
    ({"return_approval_chain": "<script>alert(1)</script>"}, "Unknown role: &lt;script"),
    ({"weight_overall": "0", "weight_service": "0", "weight_quality": "0"}, "above 0"),
    ({"timezone": "Mars/Base"}, "time zone"),
    ({"languages": ["en"], "default_locale": "zh_CN"}, "one of those offered"),
    ({"max_photos": "500"}, "max_photos-error"),
    ({"complaint_prefix": "qc1"}, "capital letters"),
])
def test_settings_rules(admin_client, db, changes, message):
    path = f"{admin_client.base}/admin/settings"
    page = admin_client.get(path).get_data(as_text=True)
    response = admin_client.post(path, data=_settings_data(page, **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with activate(admin_client.tenant):
        assert db.session.scalar(select(SettingChange)) is None


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 100), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_logo_upload_checked_by_content_and_shown_on_the_portal(admin_client, db, app):
    path = f"{admin_client.base}/admin/settings"
    page = admin_client.get(path).get_data(as_text=True)
    fake = admin_client.post(path, data={**_settings_data(page), "logo": (
        io.BytesIO(b"<svg onload=alert(1)>"), "logo.png")}, content_type="multipart/form-data")
    assert fake.status_code == 422 and "not an image" in fake.get_data(as_text=True)
    ok = admin_client.post(path, data={**_settings_data(page), "logo": (
        io.BytesIO(_png()), "logo.png")}, content_type="multipart/form-data")
    assert ok.status_code == 303
    portal = app.test_client().get(f"/t/{admin_client.tenant.slug}/").get_data(as_text=True)
    match = re.search(r'src="(/t/[^"]+/brand/logo[^"]*)"', portal)
    assert match
    logo = app.test_client().get(match.group(1).replace("&amp;", "&"))
    assert logo.status_code == 200 and logo.data.startswith(b"\x89PNG")


def test_failure_modes_added_edited_and_recorded(admin_client, db):
    path = f"{admin_client.base}/admin/settings/failure-modes"
    page = f"{admin_client.base}/admin/settings"
    response = post(admin_client, path, {"code": "SPARK", "name_zh": "打火", "name_en": "Sparking",
                                         "severe": "y"}, page=page)
    assert response.status_code == 303
    dup = post(admin_client, path, {"code": "spark", "name_zh": "x", "name_en": "x"}, page=page)
    assert dup.status_code == 422
    with activate(admin_client.tenant):
        mode = db.session.scalar(select(FailureMode))
    post(admin_client, f"{path}/{mode.id}", {"code": "SPARK", "name_zh": "打火",
                                             "name_en": "Sparks"}, page=page)
    with activate(admin_client.tenant):
        db.session.refresh(mode)
    assert mode.name_en == "Sparks" and mode.severe is False
    with activate(admin_client.tenant):
        keys = [c.key for c in db.session.scalars(select(SettingChange))]
    assert keys == ["failure_mode:SPARK", "failure_mode:SPARK"]


def test_another_tenants_ids_are_404(admin_client, db, make_tenant, make_staff, make_company,
                                      make_contact, make_product):
    other = make_tenant()
    with activate(other):
        department = Department(name="Theirs", kind="quality")
        db.session.add(department)
        db.session.flush()
        mode = FailureMode(code="X", name_zh="x", name_en="x")
        db.session.add(mode)
        db.session.flush()
    person = make_staff(other, "quality", department=department)
    company = make_company(other)
    contact = make_contact(other, company)
    product = make_product(other)
    b = f"{admin_client.base}/admin"
    gets = [f"{b}/people/{person.id}", f"{b}/departments/{department.id}",
            f"{b}/customers/{company.id}", f"{b}/products/{product.id}"]
    for path in gets:
        assert admin_client.get(path).status_code == 404, path
    token = csrf_from(admin_client.get(f"{b}/").get_data(as_text=True))
    posts = [f"{b}/people/{person.id}", f"{b}/people/{person.id}/deactivate",
             f"{b}/people/{person.id}/resend", f"{b}/departments/{department.id}",
             f"{b}/customers/{company.id}", f"{b}/customers/{company.id}/contacts",
             f"{b}/contacts/{contact.id}/invite", f"{b}/contacts/{contact.id}/deactivate",
             f"{b}/products/{product.id}", f"{b}/settings/failure-modes/{mode.id}"]
    for path in posts:
        assert admin_client.post(path, data={"csrf_token": token}).status_code == 404, path
    with activate(other):
        db.session.refresh(person)
    assert person.active


def test_sign_in_still_uses_password(admin_client, db, app, make_staff, sign_in):
    user = make_staff(admin_client.tenant, "quality")
    assert sign_in(app.test_client(), admin_client.tenant, user.email,
                   PASSWORD).status_code == 303


@pytest.mark.parametrize("typed,saved,status", [
    ("8", 8, 303), ("", None, 303), ("24", None, 422), ("-1", None, 422),
    ("<script>alert(1)</script>", None, 422), ("8; DROP TABLE tenants", None, 422),
])
def test_daily_digest_hour_setting(admin_client, db, typed, saved, status):
    """The tenant's daily digest of others' missed deadlines (portal/deadlines/digest.py)."""
    path = f"{admin_client.base}/admin/settings"
    page = admin_client.get(path).get_data(as_text=True)
    response = admin_client.post(path, data=_settings_data(page, deadline_digest_hour=typed))
    assert response.status_code == status
    if status == 422:
        html = response.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
    with activate(admin_client.tenant):
        db.session.refresh(admin_client.tenant)
        assert admin_client.tenant.setting("deadline_digest_hour") == saved


def test_containment_mail_setting(admin_client, db):
    path = f"{admin_client.base}/admin/settings"
    page = admin_client.get(path).get_data(as_text=True)
    assert 'name="tell_customer_containment"' in page
    response = admin_client.post(path, data=_settings_data(page, tell_customer_containment="y"))
    assert response.status_code == 303
    with activate(admin_client.tenant):
        db.session.refresh(admin_client.tenant)
        assert admin_client.tenant.setting("tell_customer_containment") is True

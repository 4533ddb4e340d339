"""Settings stick: the language a signed-in user picks is saved on the account, so a fresh
sign-in on another browser comes back in it (not in the tenant's), and their e-mails use it."""

from __future__ import annotations

from flask.testing import FlaskClient

from portal.models import Contact, StaffUser
from portal.tenancy import activate
from tests.conftest import csrf_from


def _switch(client, locale: str, next_path: str):
    token = csrf_from(client.get(next_path).get_data(as_text=True))
    return client.post("/lang", data={"locale": locale, "next": next_path,
                                      "csrf_token": token})


def test_a_staff_users_choice_survives_a_fresh_sign_in(app, client, db, sign_in, make_tenant,
                                                       make_staff):
    tenant = make_tenant(default_locale="zh_CN")
    user = make_staff(tenant, "quality")
    assert sign_in(client, tenant, user.email).status_code in (302, 303)
    home = f"/t/{tenant.slug}/staff/"
    assert "投诉" in client.get(home).get_data(as_text=True)
    response = _switch(client, "en", home)
    assert response.status_code == 303 and response.headers["Location"].endswith(home)
    with activate(tenant):
        db.session.expire_all()
        assert db.session.get(StaffUser, user.id).locale == "en"
    fresh = app.test_client()
    assert isinstance(fresh, FlaskClient)
    assert sign_in(fresh, tenant, user.email).status_code in (302, 303)
    page = fresh.get(home).get_data(as_text=True)
    assert 'lang="en"' in page and "Complaints" in page


def test_a_contacts_choice_is_saved_too(client, db, sign_in, make_tenant, make_contact):
    tenant = make_tenant(default_locale="zh_CN")
    contact = make_contact(tenant)
    assert sign_in(client, tenant, contact.email, staff=False).status_code in (302, 303)
    _switch(client, "en", f"/t/{tenant.slug}/")
    with activate(tenant):
        db.session.expire_all()
        assert db.session.get(Contact, contact.id).locale == "en"


def test_another_tenants_page_or_a_trick_saves_nothing(client, db, sign_in, make_tenant,
                                                       make_staff):
    tenant, other = make_tenant(default_locale="zh_CN"), make_tenant()
    user = make_staff(tenant, "quality")
    sign_in(client, tenant, user.email)
    token = csrf_from(client.get(f"/t/{tenant.slug}/staff/").get_data(as_text=True))
    for target in (f"/t/{other.slug}/staff/", "//evil.example.com/t/x", "/t/../../etc",
                   "/t/%27%3B--/staff/", "/t/" + "x" * 5000):
        response = client.post("/lang", data={"locale": "en", "next": target,
                                              "csrf_token": token})
        assert response.status_code == 303
        assert "evil.example.com" not in response.headers["Location"]
    client.post("/lang", data={"locale": "<script>", "next": f"/t/{tenant.slug}/staff/",
                               "csrf_token": token})
    with activate(tenant):
        db.session.expire_all()
        assert db.session.get(StaffUser, user.id).locale is None

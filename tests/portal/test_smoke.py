"""The app starts on the real database and serves its landing pages."""


def test_landing_pages(client, make_tenant):
    tenant = make_tenant(slug="smoke")
    assert client.get("/").status_code == 200
    assert client.get(f"/t/{tenant.slug}/").status_code == 200
    response = client.get(f"/t/{tenant.slug}/staff/")
    assert response.status_code == 302
    assert f"/t/{tenant.slug}/staff/sign-in" in response.headers["Location"]
    assert client.get("/t/no-such-tenant/").status_code == 404


def test_staff_sign_in(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    response = sign_in(client, tenant, user.email)
    assert response.status_code == 303
    page = client.get(f"/t/{tenant.slug}/staff/")
    assert page.status_code == 200
    assert user.name in page.get_data(as_text=True)

"""The API tokens page: the admin creates a token (shown once, stored hashed), sees it listed
with its last use, and revokes it, which stops API calls at once."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.api import tokens
from portal.models import ApiToken
from portal.tenancy import activate
from tests.conftest import csrf_from

SECRET = re.compile(r'id="new-token">(clk_[A-Za-z0-9_-]+)<')


def _page(tenant):
    return f"/t/{tenant.slug}/staff/admin/api-tokens"


def _create(client, tenant, **data):
    token = csrf_from(client.get(_page(tenant)).get_data(as_text=True))
    return client.post(_page(tenant), data={"csrf_token": token, **data})


def test_admin_creates_uses_and_revokes_a_token(client, db, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    quality = make_staff(tenant, "quality", name="Zhou Quality")
    sign_in(client, tenant, admin.email)
    created = _create(client, tenant, name="ERP sync", acting_user=str(quality.id),
                      scopes=["read", "catalogue:write"], lifetime="90")
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = SECRET.search(html).group(1)
    with activate(tenant):
        row = db.session.scalars(select(ApiToken)).one()
    assert row.token_hash == tokens.digest(secret) and row.acting_user_id == quality.id
    assert row.scopes == ["read", "catalogue:write"]
    # Shown once: the list afterwards names it but never shows the secret.
    listing = client.get(_page(tenant)).get_data(as_text=True)
    assert "ERP sync" in listing and "Zhou Quality" in listing and secret not in listing
    assert "Never" in listing

    api = f"/t/{tenant.slug}/api/v1/product-models"
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(api, headers=bearer).status_code == 200
    assert "Never" not in client.get(_page(tenant)).get_data(as_text=True)

    revoke = client.post(f"{_page(tenant)}/{row.id}/revoke",
                         data={"csrf_token": csrf_from(listing)})
    assert revoke.status_code == 303
    assert client.get(api, headers=bearer).status_code == 401
    assert "Revoked" in client.get(_page(tenant)).get_data(as_text=True)


def test_token_form_is_validated_and_escapes_what_it_shows(client, db, make_tenant, make_staff,
                                                           sign_in):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    sign_in(client, tenant, admin.email)
    refused = _create(client, tenant, name="", acting_user=str(admin.id), lifetime="30")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Name the token after the system" in html and "Choose at least one scope." in html
    forged = _create(client, tenant, name="x", acting_user="999999", scopes=["read"],
                     lifetime="30")
    assert forged.status_code == 422
    bad_scope = _create(client, tenant, name="x", acting_user=str(admin.id), scopes=["root"],
                        lifetime="30")
    assert bad_scope.status_code == 422
    bad_lifetime = _create(client, tenant, name="x", acting_user=str(admin.id),
                           scopes=["read"], lifetime="100000")
    assert bad_lifetime.status_code == 422
    script = _create(client, tenant, name="<script>alert(1)</script>", acting_user=str(admin.id),
                     scopes=["read"], lifetime="30")
    assert script.status_code == 201
    page = script.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_only_admins_and_only_their_tenants_tokens(client, db, make_tenant, make_staff,
                                                   sign_in):
    tenant, other = make_tenant(), make_tenant()
    other_admin = make_staff(other, "admin")
    with activate(other):
        theirs, _secret = tokens.issue(name="Theirs", scopes=["read"], acting_user=other_admin,
                                       created_by=other_admin,
                                       expires_at=tokens.utcnow() + tokens.TOUCH_EVERY * 60)
    quality = make_staff(tenant, "quality")
    sign_in(client, tenant, quality.email)
    assert client.get(_page(tenant)).status_code == 403
    client.post(f"/t/{tenant.slug}/staff/sign-out",
                data={"csrf_token": csrf_from(client.get(f"/t/{tenant.slug}/staff/").get_data(
                    as_text=True))})
    admin = make_staff(tenant, "admin")
    sign_in(client, tenant, admin.email)
    page = client.get(_page(tenant)).get_data(as_text=True)
    assert "Theirs" not in page
    response = client.post(f"{_page(tenant)}/{theirs.id}/revoke",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404

"""The admin changes an existing webhook: name, receiver address (checked as on creation) and
events; the secret and the deliveries stay; a refused change keeps what was typed."""

from __future__ import annotations

from portal import webhooks
from portal.models import WebhookDelivery
from portal.tenancy import activate
from tests.conftest import csrf_from

from .test_admin_and_ssrf import _admin, _post, _subscriptions

PUBLIC = "https://93.184.215.14/hook"


def _edit(client, detail, page=None, **data):
    token = csrf_from(client.get(page or detail).get_data(as_text=True))
    return client.post(f"{detail}/edit", data={"csrf_token": token, **data})


def _subscribed(client, db, tenant):
    base = f"/t/{tenant.slug}/staff/admin/webhooks"
    response = _post(client, base, name="BI", url=PUBLIC, events=["closed"])
    assert response.status_code == 303
    [subscription] = _subscriptions(db, tenant)
    return f"{base}/{subscription.id}", subscription


def test_admin_changes_a_webhook_and_keeps_its_secret_and_deliveries(client, db, make_tenant,
                                                                     make_staff, sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    detail, subscription = _subscribed(client, db, tenant)
    with activate(tenant):
        secret = webhooks.subscription_secret(subscription)
        db.session.add(WebhookDelivery(subscription_id=subscription.id, event="closed",
                                       event_id="d" * 32, body="{}", status="delivered"))
        db.session.flush()
    page = client.get(detail).get_data(as_text=True)
    assert f'value="{PUBLIC}"' in page and "Change the webhook" in page
    response = _edit(client, detail, name="BI 看板", url="https://93.184.215.15/new",
                     events=["submitted", "answered"])
    assert response.status_code == 303
    [changed] = _subscriptions(db, tenant)
    assert (changed.name, changed.url) == ("BI 看板", "https://93.184.215.15/new")
    assert changed.events == ["submitted", "answered"]
    with activate(tenant):
        assert webhooks.subscription_secret(changed) == secret
        assert db.session.query(WebhookDelivery).count() == 1
    assert "BI 看板" in client.get(detail).get_data(as_text=True)


def test_a_refused_change_keeps_what_was_typed_and_changes_nothing(client, db, make_tenant,
                                                                  make_staff, sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    detail, _subscription = _subscribed(client, db, tenant)
    for url in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:6379/",
                "javascript:alert(1)"):
        response = _edit(client, detail, name="<script>x</script>", url=url,
                         events=["closed"])
        text = response.get_data(as_text=True)
        assert response.status_code == 422, url
        assert "&lt;script&gt;x&lt;/script&gt;" in text and "<script>x</script>" not in text
    assert _edit(client, detail, name="", url=PUBLIC,
                 events=[]).status_code == 422
    [unchanged] = _subscriptions(db, tenant)
    assert (unchanged.name, unchanged.url, unchanged.events) == ("BI", PUBLIC, ["closed"])


def test_another_tenants_webhook_cannot_be_changed(client, db, make_tenant, make_staff,
                                                   sign_in):
    owner = _admin(client, make_tenant, make_staff, sign_in)
    detail, _subscription = _subscribed(client, db, owner)
    intruder = _admin(client, make_tenant, make_staff, sign_in)
    foreign = detail.replace(f"/t/{owner.slug}/", f"/t/{intruder.slug}/")
    assert client.get(foreign).status_code == 404
    own_page = f"/t/{intruder.slug}/staff/admin/webhooks"
    assert _edit(client, foreign, own_page, name="x", url=PUBLIC,
                 events=["closed"]).status_code == 404
    assert _subscriptions(db, owner)[0].name == "BI"

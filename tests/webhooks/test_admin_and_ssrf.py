"""The admin's webhook pages, and the address rule: private, loopback, link-local, reserved
addresses refused at subscribe time (and at send time, see test_delivery) unless allowed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import webhooks
from portal.models import WebhookDelivery, WebhookSubscription
from portal.tenancy import activate, unscoped
from portal.webhooks.net import RefusedAddress, check_url
from tests.conftest import csrf_from

REFUSED = ["http://127.0.0.1/hook", "http://10.0.0.8/hook", "http://172.16.3.4/",
           "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
           "http://[::1]/hook", "http://localhost:8080/hook", "http://[::ffff:127.0.0.1]/",
           "http://0.0.0.0/", "http://100.64.0.1/", "http://224.0.0.1/", "http://[fe80::1]/",
           "http://[fd00::1]/", "http://[2002:7f00:1::1]/", "http://240.0.0.1/"]


@pytest.mark.parametrize("url", REFUSED)
def test_private_and_special_addresses_are_refused(app, url):
    with app.app_context(), pytest.raises(RefusedAddress):
        check_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "https://user:pw@example.com/",
                                 "http:///nohost", "https://exa mple.com/",
                                 "http://[::1/", "https://host.invalid/"])
def test_malformed_or_unresolvable_addresses_are_refused(app, url):
    with app.app_context(), pytest.raises(RefusedAddress):
        check_url(url)


def test_allowing_loopback_allows_only_loopback(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", "127.0.0.1/32")
    with app.app_context():
        assert check_url("http://127.0.0.1:9/x")[2] == ["127.0.0.1"]
        for url in ("http://10.0.0.8/", "http://169.254.169.254/", "http://[::1]/"):
            with pytest.raises(RefusedAddress):
                check_url(url)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", "1")
    with app.app_context():
        assert check_url("http://10.0.0.8/")[2] == ["10.0.0.8"]


def _admin(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    sign_in(client, tenant, make_staff(tenant, "admin").email)
    return tenant


def _post(client, path, **data):
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _subscriptions(db, tenant):
    with activate(tenant):
        db.session.expire_all()
        return list(db.session.scalars(select(WebhookSubscription)))


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/", "http://169.254.169.254/",
                                 "http://[::1]/", "http://localhost/", "http://10.1.2.3/"])
def test_the_admin_cannot_subscribe_an_internal_address(client, db, make_tenant, make_staff,
                                                        sign_in, url):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    response = _post(client, f"/t/{tenant.slug}/staff/admin/webhooks", name="<script>x</script>",
                     url=url, events=["closed"])
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "private, loopback, link-local or reserved network" in text
    assert "&lt;script&gt;x&lt;/script&gt;" in text and "<script>x</script>" not in text
    assert _subscriptions(db, tenant) == []


def test_the_form_says_what_is_missing(client, db, make_tenant, make_staff, sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    response = _post(client, f"/t/{tenant.slug}/staff/admin/webhooks", name="", url="",
                     events=[])
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give the receiver a name" in text and "Choose at least one event." in text
    response = _post(client, f"/t/{tenant.slug}/staff/admin/webhooks", name="x",
                     url="https://example.com/x", events=["no-such-event"])
    assert response.status_code == 422


def test_admin_subscribes_sees_deliveries_replays_and_resumes(
        app, client, db, make_tenant, make_staff, sign_in, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", "127.0.0.1/32")
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    base = f"/t/{tenant.slug}/staff/admin/webhooks"
    response = _post(client, base, name="ERP 同步", url=receiver.url,
                     events=["submitted", "closed"])
    assert response.status_code == 303
    [subscription] = _subscriptions(db, tenant)
    assert subscription.events == ["submitted", "closed"]
    assert subscription.secret_encrypted and "whsec_" not in subscription.secret_encrypted
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with activate(tenant):
        assert webhooks.subscription_secret(subscription) in page
    assert "ERP 同步" in page and "Nothing sent yet." in page

    # A delivery shows with its response; replay sends it again.
    with activate(tenant):
        delivery = WebhookDelivery(subscription_id=subscription.id, event="closed",
                                   event_id="e" * 32, body='{"event":"closed"}',
                                   status="failed", attempts=6, response_code=500)
        db.session.add(delivery)
        db.session.flush()
        delivery_id = delivery.id
    detail = f"{base}/{subscription.id}"
    assert "HTTP 500" in client.get(detail).get_data(as_text=True)
    response = _post(client, f"{detail}/deliveries/{delivery_id}/replay")
    assert response.status_code == 303
    assert len(receiver.requests) == 1
    page = client.get(detail).get_data(as_text=True)
    assert "HTTP 200" in page and "Delivered" in page

    # Paused: replay refused until resumed.
    with activate(tenant):
        from portal.models import utcnow

        db.session.get(WebhookSubscription, subscription.id).paused_at = utcnow()
        db.session.flush()
    _post(client, f"{detail}/deliveries/{delivery_id}/replay")
    assert len(receiver.requests) == 1
    assert _post(client, f"{detail}/resume").status_code == 303
    assert _subscriptions(db, tenant)[0].paused_at is None


def test_webhook_pages_are_admin_only_and_tenant_bound(client, db, make_tenant, make_staff,
                                                       sign_in):
    tenant = make_tenant()
    other = make_tenant()
    with activate(other):
        from portal.secretbox import encrypt

        foreign = WebhookSubscription(name="x", url="https://example.com/", events=["closed"],
                                      secret_encrypted=encrypt("s"))
        db.session.add(foreign)
        db.session.flush()
    sign_in(client, tenant, make_staff(tenant, "quality").email)
    assert client.get(f"/t/{tenant.slug}/staff/admin/webhooks").status_code == 403
    client2 = client.application.test_client()
    sign_in(client2, tenant, make_staff(tenant, "admin").email)
    assert client2.get(f"/t/{tenant.slug}/staff/admin/webhooks/{foreign.id}").status_code == 404
    token = csrf_from(client2.get(f"/t/{tenant.slug}/staff/admin/webhooks").get_data(as_text=True))
    response = client2.post(f"/t/{tenant.slug}/staff/admin/webhooks/{foreign.id}/delete",
                            data={"csrf_token": token})
    assert response.status_code == 404
    with unscoped():
        assert db.session.get(WebhookSubscription, foreign.id) is not None

"""Webhooks as an API resource: create (secret once), list, read, change, delete, deliveries in
cursor pages, replay; admin only; the admin page's address rule; problems in the caller's
language; Idempotency-Key on POST with the secret never stored in clear."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from portal.models import IdempotentResponse, WebhookDelivery, WebhookSubscription, utcnow
from portal.tenancy import activate
from tests.webhooks.conftest import documented_verify, receiver  # noqa: F401  (fixtures)

from .conftest import Api

PROBLEM = "application/problem+json"
PUBLIC = "https://93.184.215.14/hook"  # a public address written as one: no DNS needed


@pytest.fixture
def admin_api(setup, make_staff, make_token):
    admin = make_staff(setup.tenant, "admin")
    _token, secret = make_token(setup.tenant, admin, "admin")
    api = Api(setup.client, setup.tenant, secret, admin)
    api.other = setup  # a token with every scope whose user is not an admin
    return api


def _create(api, **changes):
    body = {"name": "BI", "url": PUBLIC, "events": ["closed", "submitted"]}
    body.update(changes)
    return api.post("/webhooks", json=body)


def _deliveries(api, subscription_id, count, status="failed"):
    with activate(api.tenant):
        from portal.extensions import db

        rows = [WebhookDelivery(subscription_id=subscription_id, event="closed",
                                event_id=uuid.uuid4().hex, body=json.dumps({"n": n}),
                                status=status, attempts=3, response_code=500)
                for n in range(count)]
        db.session.add_all(rows)
        db.session.flush()
        return [r.id for r in rows]


def test_create_read_list_change_delete(admin_api):
    api = admin_api
    created = _create(api, name="  BI tool ")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["secret"].startswith("whsec_") and body["name"] == "BI tool"
    assert body["events"] == ["submitted", "closed"]  # the catalogue's order
    assert body["active"] and body["enabled"] and body["paused_at"] is None
    read = api.get(f"/webhooks/{body['id']}").get_json()
    assert "secret" not in read and read["url"] == PUBLIC
    listed = api.get("/webhooks").get_json()
    assert [w["id"] for w in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    assert "secret" not in listed["items"][0]

    changed = api.patch(f"/webhooks/{body['id']}", json={
        "url": "https://93.184.215.15/other", "events": ["answered"], "active": False})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["url"] == "https://93.184.215.15/other"
    assert changed.get_json()["events"] == ["answered"] and not changed.get_json()["enabled"]
    with activate(api.tenant):
        from portal import webhooks
        from portal.extensions import db

        subscription = db.session.get(WebhookSubscription, body["id"])
        assert webhooks.subscription_secret(subscription) == body["secret"]  # secret kept
        subscription.paused_at, subscription.enabled = utcnow(), True  # paused after failures
        db.session.flush()
    resumed = api.patch(f"/webhooks/{body['id']}", json={"active": True}).get_json()
    assert resumed["active"] and resumed["paused_at"] is None

    assert api.client.delete(f"{api.base}/webhooks/{body['id']}",
                             headers=api.headers()).status_code == 204
    gone = api.get(f"/webhooks/{body['id']}")
    assert gone.status_code == 404 and gone.mimetype == PROBLEM


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.0.0.8/",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
                                 "ftp://93.184.215.14/x", "https://user:pw@93.184.215.14/",
                                 "javascript:alert(1)", "https://host.invalid/"])
def test_private_loopback_link_local_and_bad_addresses_are_refused(admin_api, url):
    refused = _create(admin_api, url=url)
    assert refused.status_code == 422 and refused.mimetype == PROBLEM
    assert refused.get_json()["errors"]["json"]["url"]
    existing = _create(admin_api).get_json()["id"]
    changed = admin_api.patch(f"/webhooks/{existing}", json={"url": url})
    assert changed.status_code == 422 and changed.get_json()["errors"]["json"]["url"]
    assert admin_api.get(f"/webhooks/{existing}").get_json()["url"] == PUBLIC


def test_refusals_speak_the_callers_language(admin_api):
    refused = admin_api.post(
        "/webhooks", json={"name": "BI", "url": "http://10.0.0.8/", "events": ["closed"]},
        headers={"Accept-Language": "zh-CN"})
    message = refused.get_json()["errors"]["json"]["url"][0]
    assert refused.status_code == 422 and "网络" in message, message
    missing = admin_api.get("/webhooks/999999", headers={"Accept-Language": "zh-CN"})
    assert missing.status_code == 404 and any("\u4e00" <= c <= "\u9fff"
                                              for c in missing.get_json()["detail"])


def test_operator_may_allow_loopback(admin_api, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", "127.0.0.1/32")
    assert _create(admin_api, url="http://127.0.0.1:9/hook").status_code == 201
    assert _create(admin_api, url="http://10.0.0.8/").status_code == 422


@pytest.mark.parametrize("body", [
    {"name": "BI", "url": PUBLIC, "events": []},
    {"name": "BI", "url": PUBLIC, "events": ["no-such-event"]},
    {"name": "   ", "url": PUBLIC, "events": ["closed"]},
    {"name": "BI\x00", "url": PUBLIC, "events": ["closed"]},
    {"name": "BI", "url": PUBLIC, "events": ["closed"], "secret": "mine"},
    {"name": "x" * 81, "url": PUBLIC, "events": ["closed"]},
    {"name": "BI", "url": PUBLIC + "x" * 500, "events": ["closed"]},
])
def test_invalid_bodies_are_422_problems(admin_api, body):
    refused = admin_api.post("/webhooks", json=body)
    assert refused.status_code == 422 and refused.mimetype == PROBLEM, refused.get_json()


def test_admin_only(admin_api, make_token):
    api = admin_api
    existing = _create(api).get_json()["id"]
    _t, reader = make_token(api.tenant, api.user, "read", "catalogue:write", "complaints:write")
    for response in (api.get("/webhooks", headers={"Authorization": f"Bearer {reader}"}),
                     api.post("/webhooks", json={"name": "x", "url": PUBLIC,
                                                 "events": ["closed"]},
                              headers={"Authorization": f"Bearer {reader}"})):
        assert response.status_code == 403 and response.get_json()["code"] == "scope"
    # A token with the admin scope acting as someone who is no admin is refused too.
    not_admin = api.other
    for response in (not_admin.get("/webhooks"), not_admin.get(f"/webhooks/{existing}"),
                     not_admin.patch(f"/webhooks/{existing}", json={"active": False})):
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_deliveries_in_cursor_pages_newest_first_in_fixed_statements(admin_api,
                                                                    count_statements):
    api = admin_api
    subscription = _create(api).get_json()["id"]
    ids = _deliveries(api, subscription, 7)
    _deliveries(api, _create(api, name="Other").get_json()["id"], 2)  # not this one's
    seen, cursor, pages = [], None, 0
    while True:
        page = api.get(f"/webhooks/{subscription}/deliveries",
                       query_string={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.get_json()
        seen += [d["id"] for d in page.get_json()["items"]]
        pages += 1
        cursor = page.get_json()["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True) and pages == 3
    first = api.get(f"/webhooks/{subscription}/deliveries").get_json()["items"][0]
    assert first["status"] == "failed" and first["response_code"] == 500
    with count_statements() as small:
        api.get(f"/webhooks/{subscription}/deliveries", query_string={"limit": 2})
    with count_statements() as large:
        api.get(f"/webhooks/{subscription}/deliveries", query_string={"limit": 7})
    assert len(small) == len(large)  # no query per row
    only = api.get(f"/webhooks/{subscription}/deliveries",
                   query_string={"status": "delivered"}).get_json()
    assert only["items"] == []
    assert api.get(f"/webhooks/{subscription}/deliveries",
                   query_string={"cursor": "not-ours"}).status_code == 400


def test_replay_sends_again_signed(admin_api, app, monkeypatch, receiver,  # noqa: F811
                                   documented_verify):  # noqa: F811
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", "127.0.0.1/32")
    api = admin_api
    created = _create(api, url=receiver.url).get_json()
    (delivery_id,) = _deliveries(api, created["id"], 1)
    replayed = api.post(f"/webhooks/{created['id']}/deliveries/{delivery_id}/replay")
    assert replayed.status_code == 202, replayed.get_json()
    (sent,) = receiver.requests  # the job ran in process after the commit
    assert documented_verify(created["secret"], sent["headers"]["Closeloop-Signature"],
                             sent["body"])
    assert sent["headers"]["Closeloop-Delivery"] == str(delivery_id)
    after = api.get(f"/webhooks/{created['id']}/deliveries").get_json()["items"][0]
    assert after["status"] == "delivered" and after["response_code"] == 200

    other = _create(api, name="Other").get_json()["id"]
    assert api.post(f"/webhooks/{other}/deliveries/{delivery_id}/replay").status_code == 404
    api.patch(f"/webhooks/{created['id']}", json={"active": False})
    paused = api.post(f"/webhooks/{created['id']}/deliveries/{delivery_id}/replay")
    assert paused.status_code == 409 and paused.get_json()["code"] == "paused"


def test_idempotent_create_replays_the_secret_but_never_stores_it_in_clear(admin_api, db):
    api = admin_api
    key = {"Idempotency-Key": "create-bi-1"}
    body = {"name": "BI", "url": PUBLIC, "events": ["closed"]}
    first = api.post("/webhooks", json=body, headers=key)
    again = api.post("/webhooks", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    with activate(api.tenant):
        assert len(db.session.scalars(select(WebhookSubscription)).all()) == 1
        stored = db.session.scalars(select(IdempotentResponse)).one()
        assert first.get_json()["secret"] not in stored.body
    other = api.post("/webhooks", json=dict(body, name="Other"), headers=key)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"


def test_webhooks_are_in_the_openapi_document(admin_api):
    spec = admin_api.client.get(f"{admin_api.base}/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/webhooks"])
    assert {"get", "patch", "delete"} <= set(paths["/webhooks/{subscription_id}"])
    assert "get" in paths["/webhooks/{subscription_id}/deliveries"]
    assert "post" in paths["/webhooks/{subscription_id}/deliveries/{webhook_delivery_id}/replay"]
    created = paths["/webhooks"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"]["$ref"].endswith("/WebhookCreated")

"""Tokens (scopes, expiry, revocation, last use), tenant isolation, idempotency, rate limits,
the OpenAPI document and its reference page."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from portal.api import tokens
from portal.extensions import db
from portal.models import ApiToken, utcnow
from portal.tenancy import activate

from .conftest import Api, complaint_body


def test_a_call_without_a_valid_token_is_a_401_problem(setup):
    api = setup
    for header in ({}, {"Authorization": "Bearer clk_wrong"}, {"Authorization": "Basic eDp5"},
                   {"Authorization": "Bearer " + "x" * 5000},
                   {"Authorization": f"Bearer {api.secret}' OR '1'='1"}):
        response = api.client.get(f"{api.base}/complaints", headers=header)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        body = response.get_json()
        assert body["status"] == 401 and body["title"] and body["instance"].endswith("/complaints")


def test_scopes_limit_what_a_token_may_do(setup, make_token):
    api = setup
    _t, reader = make_token(api.tenant, api.user, "read")
    as_reader = Api(api.client, api.tenant, reader, api.user)
    as_reader.company, as_reader.product = api.company, api.product
    assert as_reader.get("/complaints").status_code == 200
    refused = as_reader.post("/complaints", json=complaint_body(api))
    assert refused.status_code == 403 and refused.get_json()["code"] == "scope"
    assert "complaints:write" in refused.get_json()["detail"]
    assert as_reader.post("/customers", json={"name": "X"}).status_code == 403
    _t, catalogue = make_token(api.tenant, api.user, "catalogue:write")
    as_catalogue = Api(api.client, api.tenant, catalogue, api.user)
    assert as_catalogue.post("/customers", json={"name": "X"}).status_code == 201
    assert as_catalogue.get("/customers").status_code == 403
    assert as_catalogue.post("/complaints", json=complaint_body(api)).status_code == 403


def test_expired_revoked_and_deactivated_tokens_stop_at_once(setup, make_token, make_staff):
    api = setup
    token, secret = make_token(api.tenant, api.user, "read")
    caller = Api(api.client, api.tenant, secret, api.user)
    assert caller.get("/complaints").status_code == 200
    with activate(api.tenant):
        tokens.revoke(db.session.get(ApiToken, token.id))
    assert caller.get("/complaints").status_code == 401

    token, secret = make_token(api.tenant, api.user, "read")
    with activate(api.tenant):
        db.session.get(ApiToken, token.id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.flush()
    assert Api(api.client, api.tenant, secret, api.user).get("/complaints").status_code == 401

    leaver = make_staff(api.tenant, "quality")
    _t, secret = make_token(api.tenant, leaver, "read")
    assert Api(api.client, api.tenant, secret, leaver).get("/complaints").status_code == 200
    with activate(api.tenant):
        leaver.active = False
        db.session.add(leaver)
        db.session.flush()
    assert Api(api.client, api.tenant, secret, leaver).get("/complaints").status_code == 401


def test_issue_refuses_bad_scopes_and_expiries(setup):
    api = setup
    with activate(api.tenant):
        for scopes, expires in ((["root"], timedelta(days=1)), ([], timedelta(days=1)),
                                (["read"], timedelta(days=-1)), (["read"], timedelta(days=800))):
            with pytest.raises(ValueError):
                tokens.issue(name="x", scopes=scopes, acting_user=api.user, created_by=api.user,
                             expires_at=utcnow() + expires)


def test_only_the_hash_is_stored_and_last_use_is_recorded_cheaply(setup, make_token):
    api = setup
    token, secret = make_token(api.tenant, api.user, "read")
    with activate(api.tenant):
        row = db.session.get(ApiToken, token.id)
        assert row.token_hash == tokens.digest(secret) and secret not in (row.token_hash,
                                                                          row.prefix)
        assert row.last_used_at is None
    caller = Api(api.client, api.tenant, secret, api.user)
    caller.get("/complaints")
    with activate(api.tenant):
        db.session.expire_all()
        first = db.session.get(ApiToken, token.id).last_used_at
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    caller.get("/complaints")
    with activate(api.tenant):
        db.session.expire_all()
        assert db.session.get(ApiToken, token.id).last_used_at == first  # not rewritten


def test_another_tenants_token_and_ids_are_refused(setup, make_tenant, make_staff, make_company,
                                                   make_product, make_token):
    api = setup
    number = api.post("/complaints", json=complaint_body(api)).get_json()["number"]
    other = make_tenant()
    other_user = make_staff(other, "after_sales", "quality")
    make_company(other, "Other Co")
    make_product(other, "OTHER-1")
    _t, other_secret = make_token(other, other_user, "admin")
    # The other tenant's token does not open this tenant's API.
    assert api.client.get(f"{api.base}/complaints",
                          headers=api.headers(secret=other_secret)).status_code == 401
    theirs = Api(api.client, other, other_secret, other_user)
    for path in (f"/complaints/{number}", f"/complaints/{number}/transitions",
                 f"/complaints/{number}/costs", f"/customers/{api.company.id}"):
        response = theirs.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
    for path, body in ((f"/complaints/{number}/transitions", {"name": "start_verification"}),
                       (f"/customers/{api.company.id}/contacts",
                        {"name": "X", "email": "x@example.com"}),
                       (f"/complaints/{number}/costs", {"category": "freight", "amount": "1"})):
        assert theirs.post(path, json=body).status_code == 404, path
    # Filing with this tenant's customer id from the other tenant: not found there.
    filed = theirs.post("/complaints", json={**complaint_body(api), "product_model": "OTHER-1"})
    assert filed.status_code == 422 and "customer_id" in filed.get_json()["errors"]["json"]
    assert theirs.get("/complaints").get_json()["items"] == []
    # Unknown tenant, unknown route: problems too.
    assert api.client.get("/t/no-such-tenant/api/v1/complaints").mimetype == \
        "application/problem+json"
    missing = api.get("/no-such-thing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong_method = api.client.delete(f"{api.base}/complaints", headers=api.headers())
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "application/problem+json"


def test_idempotency_key_replays_the_first_response(setup):
    api = setup
    key = {"Idempotency-Key": f"erp-{uuid.uuid4()}"}
    first = api.post("/complaints", json=complaint_body(api), headers=key)
    again = api.post("/complaints", json=complaint_body(api), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert len(api.get("/complaints").get_json()["items"]) == 1
    other_body = api.post("/complaints", json=complaint_body(api, title="Another"), headers=key)
    assert other_body.status_code == 422
    assert other_body.get_json()["code"] == "idempotency_key_reused"
    bad_key = api.post("/complaints", json=complaint_body(api),
                       headers={"Idempotency-Key": "x" * 201})
    assert bad_key.status_code == 400
    # A failed request is not remembered: the same key may be used once it is fixed.
    failing = {"Idempotency-Key": "fix-and-retry"}
    assert api.post("/customers", json={"name": ""}, headers=failing).status_code == 422
    assert api.post("/customers", json={"name": "Fixed"}, headers=failing).status_code == 201
    # Keys are per token: another token's same key is a new request.
    assert len(api.get("/complaints").get_json()["items"]) == 1


def test_idempotency_keys_are_kept_per_token(setup, make_token):
    api = setup
    _t, other = make_token(api.tenant, api.user, "admin")
    key = {"Idempotency-Key": "nightly-2026-12-06"}
    first = api.post("/complaints", json=complaint_body(api), headers=key)
    second = api.client.post(f"{api.base}/complaints", json=complaint_body(api),
                             headers=api.headers(key, secret=other))
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.get_json()["number"] != second.get_json()["number"]
    assert len(api.get("/complaints").get_json()["items"]) == 2


def test_rate_limit_answers_429_with_retry_after(app, setup, make_token):
    api = setup
    app.config["API_RATE_LIMIT"] = "3/minute"
    try:
        statuses = [api.get("/product-models").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = api.get("/product-models")
        assert limited.mimetype == "application/problem+json"
        assert int(limited.headers["Retry-After"]) > 0
        # Counted per token: another token still gets through.
        _t, other = make_token(api.tenant, api.user, "read")
        assert api.client.get(f"{api.base}/product-models",
                              headers=api.headers(secret=other)).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = "600/minute;20/second"


def test_rate_limit_counts_in_redis(app, setup):
    """Production counts in Redis (RATELIMIT_STORAGE_URI defaults to REDIS_URL). The session's
    app counts in memory; for this test the one limiter is pointed at the real Redis under a
    key prefix of its own (Flask-Limiter keeps its storage on the extension object)."""
    import redis
    from limits.storage import storage_from_string

    from portal.extensions import limiter
    from tests.conftest import REDIS_URL

    api = setup
    prefix = f"test-limits-{uuid.uuid4().hex[:8]}"
    saved = limiter._storage, limiter._limiter, limiter._key_prefix
    limiter._storage = storage_from_string(REDIS_URL)
    limiter._limiter = type(saved[1])(limiter._storage)
    limiter._key_prefix = prefix
    app.config["API_RATE_LIMIT"] = "2/minute"
    store = redis.Redis.from_url(REDIS_URL)
    try:
        statuses = [api.get("/product-models").status_code for _ in range(3)]
        keys = store.keys(f"*{prefix}*")
        assert statuses == [200, 200, 429]
        assert keys and all(tokens.digest(api.secret).encode() in key for key in keys)
    finally:
        app.config["API_RATE_LIMIT"] = "600/minute;20/second"
        limiter._storage, limiter._limiter, limiter._key_prefix = saved
        for key in store.keys(f"*{prefix}*"):
            store.delete(key)


def test_openapi_document_and_reference_page(setup):
    api = setup
    document = api.client.get(f"{api.base}/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"] == [{"url": f"/t/{api.tenant.slug}/api/v1"}]
    for path in ("/complaints", "/complaints/{number}", "/complaints/{number}/transitions",
                 "/complaints/{number}/photos", "/complaints/{number}/costs", "/customers",
                 "/customers/{customer_id}/contacts", "/product-models", "/shipments",
                 "/shipments/upsert"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    page = api.client.get(f"{api.base}/docs", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "POST /shipments/upsert" in html
    assert "<script>" not in html.replace('<script src="/static/', "")


def test_calls_go_on_while_the_rate_limit_store_is_down(app, setup):
    """Redis unreachable: the limiter counts in memory meanwhile; no call fails for it."""
    from limits.storage import storage_from_string

    from portal.extensions import limiter

    api = setup
    saved = limiter._storage, limiter._limiter, limiter._storage_dead
    limiter._storage = storage_from_string("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter._limiter = type(saved[1])(limiter._storage)
    try:
        assert [api.get("/product-models").status_code for _ in range(3)] == [200, 200, 200]
    finally:
        limiter._storage, limiter._limiter, limiter._storage_dead = saved


def test_an_oversized_body_is_a_413_problem(app, setup):
    api = setup
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    try:
        response = api.post("/shipments/upsert", json={"rows": [{"lot": "x" * 20_000}]})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "The request is too large."


def test_a_suspended_tenants_api_answers_a_503_problem(setup):
    from portal.tenancy import unscoped

    api = setup
    with unscoped():
        api.tenant.status = "suspended"
        db.session.add(api.tenant)
        db.session.flush()
    response = api.get("/complaints")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "tenant_suspended"

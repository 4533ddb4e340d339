"""Property-based contract tests generated from the API's own OpenAPI document (schemathesis):
for every operation, valid and invalid requests (hostile values included) made by Hypothesis
against the WSGI app on the real PostgreSQL must never get a server error, and every response
must match what the document says (status, content type, headers, body schema); invalid
requests must be refused with a 4xx. Bounded to a few examples per operation (about 30 s)."""

from __future__ import annotations

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import complaint_body

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}


def _fresh(call):
    """Run a request as production does: its own app context and no tenant left active."""
    def run():
        from flask.globals import _cv_app, _cv_request

        from portal import tenancy

        _cv_app.set(None)
        _cv_request.set(None)
        tenancy._active_tenant_id.set(None)
        tenancy._unscoped.set(False)
        return call()
    return contextvars.copy_context().run(run)


def _explore(operation, mode, examples, auth, statuses, path_parameters=None):
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
    # Positive cases carry the token as generated headers; negative ones may mutate headers,
    # so the token is added when sending (a generated Authorization would be a 401 every time).
    fixed = {"headers": auth} if mode == GenerationMode.POSITIVE else {}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters,
                                     **fixed)

    @settings(max_examples=examples, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case):
        response = _fresh(lambda: case.call(headers=auth))
        statuses.add((operation.method.upper(), operation.path, response.status_code))
        _fresh(lambda: case.validate_response(response, checks=checks, headers=auth))

    check()


def _webhook_with_delivery(api, admin_secret) -> dict:
    """A webhook (to a closed local port: replays fail fast) with one failed delivery."""
    import uuid

    from portal.extensions import db
    from portal.models import WebhookDelivery
    from portal.tenancy import activate

    created = api.post("/webhooks", json={"name": "BI", "url": "http://127.0.0.1:9/hook",
                                          "events": ["closed"]},
                       headers={"Authorization": f"Bearer {admin_secret}"})
    subscription_id = created.get_json()["id"]
    with activate(api.tenant):
        delivery = WebhookDelivery(subscription_id=subscription_id, event="closed",
                                   event_id=uuid.uuid4().hex, body="{}", status="failed")
        db.session.add(delivery)
        db.session.flush()
        return {"subscription_id": subscription_id, "webhook_delivery_id": delivery.id}


@pytest.mark.services
def test_every_operation_keeps_its_contract(app, setup, make_staff, make_token, monkeypatch):
    api = setup
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", "127.0.0.1/32")
    # The webhook operations are an admin's: their token acts as a user with the admin role.
    _token, admin_secret = make_token(api.tenant, make_staff(api.tenant, "admin"), "admin")
    # Something to find: generated requests also run against an existing complaint, customer,
    # supplier, webhook and delivery.
    number = api.post("/complaints", json=complaint_body(api)).get_json()["number"]
    supplier = api.post("/suppliers", json={"name": "Spindle Works", "code": "SP-01"})
    existing = {"number": number, "customer_id": api.company.id,
                "supplier_id": supplier.get_json()["id"],
                **_webhook_with_delivery(api, admin_secret)}
    schema = _fresh(lambda: schemathesis.openapi.from_wsgi(f"{api.base}/openapi.json", app))
    auth = {"Authorization": f"Bearer {api.secret}", "Accept-Language": "zh-CN"}
    admin_auth = dict(auth, Authorization=f"Bearer {admin_secret}")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27
    assert {"/suppliers", "/suppliers/{supplier_id}", "/suppliers/{supplier_id}/contacts",
            "/supplier-requests", "/webhooks", "/webhooks/{subscription_id}",
            "/webhooks/{subscription_id}/deliveries",
            "/webhooks/{subscription_id}/deliveries/{webhook_delivery_id}/replay",
            } <= {o.path for o in operations}
    statuses: set = set()
    for operation in operations:
        # DELETE is not aimed at the existing webhook: the operations after it need it.
        by = admin_auth if operation.path.startswith("/webhooks") else auth
        for mode, examples in EXAMPLES.items():
            _explore(operation, mode, examples, by, statuses)
        names = {p.name for p in operation.path_parameters}
        if names and operation.method.upper() != "DELETE":
            _explore(operation, GenerationMode.POSITIVE, 6, by, statuses,
                     {name: existing[name] for name in names})
    # It did reach the operations: successes and refusals, on every operation.
    assert {(m, p) for m, p, _s in statuses} == {(o.method.upper(), o.path) for o in operations}
    assert any(200 <= s < 300 for *_k, s in statuses) and any(s == 422 for *_k, s in statuses)

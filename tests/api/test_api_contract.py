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


@pytest.mark.services
def test_every_operation_keeps_its_contract(app, setup):
    api = setup
    # Something to find: generated requests also run against an existing complaint, customer
    # and supplier.
    number = api.post("/complaints", json=complaint_body(api)).get_json()["number"]
    supplier = api.post("/suppliers", json={"name": "Spindle Works", "code": "SP-01"})
    existing = {"number": number, "customer_id": api.company.id,
                "supplier_id": supplier.get_json()["id"]}
    schema = _fresh(lambda: schemathesis.openapi.from_wsgi(f"{api.base}/openapi.json", app))
    auth = {"Authorization": f"Bearer {api.secret}", "Accept-Language": "zh-CN"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    assert {"/suppliers", "/suppliers/{supplier_id}", "/suppliers/{supplier_id}/contacts",
            "/supplier-requests"} <= {o.path for o in operations}
    statuses: set = set()
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            _explore(operation, mode, examples, auth, statuses)
        names = {p.name for p in operation.path_parameters}
        if names:
            _explore(operation, GenerationMode.POSITIVE, 6, auth, statuses,
                     {name: existing[name] for name in names})
    # It did reach the operations: successes and refusals, on every operation.
    assert {(m, p) for m, p, _s in statuses} == {(o.method.upper(), o.path) for o in operations}
    assert any(200 <= s < 300 for *_k, s in statuses) and any(s == 422 for *_k, s in statuses)

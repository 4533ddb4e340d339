"""The REST API for other systems (ERP, MES, BI), mounted at /t/<slug>/api/v1/.

flask-smorest builds the OpenAPI 3.1 document from the views' marshmallow schemas; it is
served per tenant at ``openapi.json`` with a reference page rendered server-side at ``docs``
(no script, so the site's CSP holds). Every other call needs ``Authorization: Bearer <token>``
(``tokens.py``); each write goes through the same operations and workflow as the web pages,
commits once in ``writes()`` and may carry an ``Idempotency-Key`` (``idempotency.py``). Every
error is an RFC 9457 problem document (``problems.py``).
"""

from __future__ import annotations

import copy
import hashlib
from functools import wraps

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint
from werkzeug.exceptions import HTTPException

from .. import uow
from ..client import client_ip
from ..complaints.permissions import Refused
from ..extensions import limiter
from ..tenancy import current_tenant
from . import problems, tokens
from .schemas import ProblemSchema

PREFIX = "/t/<tenant_slug>/api/v1"
PUBLIC_ENDPOINTS = {"api.openapi_document", "api.reference"}

blueprint = ApiBlueprint("api", __name__, template_folder="templates",
                         description="Closeloop REST API")


def rate_limit_key() -> str:
    """Who an API limit counts: a token by the hash of its bearer secret (no database read
    needed), a call without one by its client address."""
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        return "token:" + hashlib.sha256(authorization[7:].strip().encode(
            "utf-8", "surrogatepass")).hexdigest()
    return "addr:" + client_ip()


# Per token; the limit is read from the settings per request.
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(blueprint)


class ClosedloopApi(Api):
    """flask-smorest's Api without its app-wide JSON error handler: the web pages keep their
    HTML error pages, and the API blueprint answers problem documents itself."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        return None


def init_app(app: Flask) -> None:
    """Register the API on the app (called by create_app)."""
    app.config.setdefault("API_TITLE", "Closeloop API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", None)  # served per tenant, below
    api = ClosedloopApi(app, spec_kwargs={
        "info": {"description": _API_DESCRIPTION},
    })
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer",
                   "description": "An API token made on the workspace's API tokens page."})
    from . import (  # noqa: F401  (each module adds its views)
        catalogue,
        complaints,
        suppliers,
        webhooks,
    )

    api.register_blueprint(blueprint, url_prefix=PREFIX)
    from ..extensions import csrf

    csrf.exempt(blueprint)  # bearer tokens, not cookies: no cross-site request can carry one
    app.extensions["closeloop_api"] = api


_API_DESCRIPTION = (
    "Every call but this document and its reference page needs `Authorization: Bearer "
    "<token>`. Errors are RFC 9457 problem documents (`application/problem+json`) in the "
    "language of `Accept-Language` (en or zh-CN). POSTs and PATCHes accept an "
    "`Idempotency-Key` header: "
    "a retry with the same key and body gets the first response again (header "
    "`Idempotent-Replayed: true`). Lists are paged by an opaque `cursor` (the response's "
    "`next_cursor`). Calls are rate limited per token; a 429 says when to retry in "
    "`Retry-After`.")


# -- authentication and scopes ---------------------------------------------------------------

@blueprint.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None  # the reference page is for people: their usual language choice
    g.api_request = True
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    found = tokens.find(secret.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return problems.problem(401, code="unauthorized",
                                headers={"WWW-Authenticate": 'Bearer realm="closeloop"'})
    token, user = found
    if tokens.touch(token):
        uow.commit()
    g.api_token = token
    g.api_actor = tokens.ApiActor(user, token)
    return None


def actor() -> tokens.ApiActor:
    return g.api_actor


def require_scope(*scopes: str) -> None:
    """Refuse (403 problem) unless the token holds one of ``scopes``."""
    token = g.api_token
    if not any(token.allows(scope) for scope in scopes):
        problems.abort_problem(403, code="scope",
                               detail=_scope_detail(scopes))


def _scope_detail(scopes):
    from ..i18n import lazy_gettext as _l

    return _l("The token needs the scope %(scope)s.", scope=" / ".join(scopes))


def reads(view):
    """A GET view that needs the ``read`` scope."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        require_scope("read")
        return view(*args, **kwargs)
    return wrapper


def writes(scope: str):
    """A write view: needs ``scope``, honours ``Idempotency-Key``, commits once after the
    view returned (so the remembered response and the data it describes commit together)."""
    from . import idempotency

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            require_scope(scope)
            return idempotency.run(lambda: make_response(view(*args, **kwargs)))
        return wrapper
    return decorator


# -- errors ----------------------------------------------------------------------------------

def _http_error(error):
    uow.rollback()
    return problems.from_http_exception(error)


# Code-specific handlers, because Flask looks up the app's handler for a code (the HTML 404
# page) before a blueprint's handler for the HTTPException class.
for _code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500):
    blueprint.register_error_handler(_code, _http_error)
blueprint.register_error_handler(HTTPException, _http_error)


@blueprint.errorhandler(Refused)
def _refused(error):
    uow.rollback()
    status = {"forbidden": 403, "not_from_status": 409, "stale": 409}.get(error.code, 422)
    return problems.problem(status, error.message, code=error.code)


@blueprint.errorhandler(Exception)
def _server_error(error):
    uow.rollback()
    propagate = current_app.config.get("PROPAGATE_EXCEPTIONS")
    if propagate or (propagate is None and (current_app.testing or current_app.debug)):
        raise error  # as Flask itself does: tests and the debugger see the exception
    current_app.logger.exception("API error")
    return problems.problem(500, code="server_error")


# -- the document and its reference page -----------------------------------------------------

def tenant_spec() -> dict:
    """The OpenAPI document for the current tenant: paths relative to its server URL."""
    app = current_app
    base = app.extensions.get("closeloop_api_spec")
    if base is None:
        base = _relative(app.extensions["closeloop_api"].spec.to_dict())
        app.extensions["closeloop_api_spec"] = base
    spec = copy.deepcopy(base)
    spec["servers"] = [{"url": f"/t/{current_tenant.slug}/api/v1"}]
    return spec


def _relative(spec: dict) -> dict:
    prefix = "/t/{tenant_slug}/api/v1"
    paths = {}
    for path, item in spec.get("paths", {}).items():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [p for p in operation["parameters"]
                                           if p.get("name") != "tenant_slug"]
        if "parameters" in item:
            item["parameters"] = [p for p in item["parameters"] if p.get("name") != "tenant_slug"]
            if not item["parameters"]:
                del item["parameters"]
        paths[path.removeprefix(prefix) or "/"] = item
    for own in ("/openapi.json", "/docs"):  # the document and its page describe the rest
        paths.pop(own, None)
    spec["paths"] = paths
    for response in spec.get("components", {}).get("responses", {}).values():
        content = response.get("content", {})
        if "application/json" in content:
            content[problems.MEDIA_TYPE] = content.pop("application/json")
    return spec


@blueprint.route("/openapi.json")
def openapi_document():
    response = jsonify(tenant_spec())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.route("/docs")
def reference():
    return render_template("api/reference.html", spec=tenant_spec())

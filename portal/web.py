"""Shared web plumbing: the public pages, the language switch, page-or-fragment rendering,
error pages, and the safe-redirect check."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape

from . import uow
from .extensions import db
from .i18n import LANGUAGE_NAMES
from .storage import StorageUnavailable

blueprint = Blueprint("web", __name__)


def is_htmx() -> bool:
    # Boosted links and history restores send HX-Request too; they want the whole page.
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-Boosted") != "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render(template: str, fragment: str | None = None, status: HTTPStatus = HTTPStatus.OK,
           /, **context):
    """Render the page, or only ``fragment`` when htmx asked for a part. Sends Vary.

    ``fragment`` and ``status`` are positional-only, so a template variable can never become
    them (a view once passed ``status=request.args["status"]`` for the template, and the query
    string became the HTTP status line: CR/LF in it injected headers). The status must be an
    ``HTTPStatus``: a string is refused rather than sent."""
    if not isinstance(status, HTTPStatus):
        raise TypeError(f"render() wants an HTTPStatus, not {type(status).__name__}")
    if "status" in context or "fragment" in context:
        # Passed by keyword they would silently become template variables.
        raise TypeError("render() takes the status and fragment positionally")
    name = fragment if fragment and is_htmx() else template
    response = make_response(render_template(name, **context), status.value)
    response.vary.add("HX-Request")
    return response


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths may be redirected to after sign-in (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


@blueprint.get("/")
def home():
    from sqlalchemy import select

    from .models import Tenant

    tenants = db.session.scalars(
        select(Tenant).where(Tenant.status == "active").order_by(Tenant.name).limit(50)
    ).all()
    return render_template("home.html", tenants=tenants)


@blueprint.post("/lang")
def switch_language():
    """Remember the chosen language for this browser, and for the signed-in user."""
    locale = request.form.get("locale", "")
    target = safe_next(request.form.get("next"), url_for("web.home"))
    if locale in LANGUAGE_NAMES:
        session["locale"] = locale
        _save_locale_on_account(locale, target)
    return redirect(target, code=303)


def _save_locale_on_account(locale: str, page: str) -> None:
    """Save the choice on the signed-in account, so the next sign-in (on any browser) and the
    user's e-mails speak it. /lang is outside every tenant's URL, where nobody is signed in:
    the user is loaded in the tenant of the page the switch was made on (its session must be
    live there, as on any of its pages)."""
    from .accounts import _load_user
    from .models import Tenant
    from .tenancy import activate, unscoped

    if current_user.is_authenticated and hasattr(current_user, "locale"):
        current_user.locale = locale
        uow.commit()
        return
    parts = page.split("/")
    if len(parts) < 3 or parts[1] != "t" or not session.get("_user_id"):
        return
    with unscoped():
        tenant = db.session.scalar(db.select(Tenant).where(Tenant.slug == parts[2]))
    if tenant is None or not tenant.is_live:
        return
    with activate(tenant.id):
        user = _load_user(session["_user_id"])
        if user is not None and hasattr(user, "locale"):
            user.locale = locale
            uow.commit()


@blueprint.get("/demo/mail")
def demo_mail():
    """The demo's sent mail with its links (``flask demo`` only; 404 anywhere else), so a
    newcomer can follow a customer's e-mail link without a mail server."""
    from flask import abort, current_app

    from .mail import DEMO_SENT

    if not current_app.config.get("DEMO_MAILBOX") or current_app.config.get(
            "CLOSELOOP_PRODUCTION"):
        abort(404)
    return render_template("demo_mail.html", mails=list(DEMO_SENT))


# Scripts only from this site (htmx and our own files; no inline script or handler anywhere),
# so markup that slipped into a page could not run. Styles may be inline (the tenant's brand
# colour, a few style attributes); images come from here, data:/blob: (the photo previews a
# phone makes before upload) and the object store's presigned URLs, wherever it is.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https: http:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


_URLS_MAX = 20_000
_PLAIN = (str, int)


def cached_url_for(endpoint: str, **values) -> str:
    """The templates' ``url_for``: a page's thirty-odd links to the same few places are built
    once per process. Only plain links are kept (string or integer arguments, no ``_external``
    or anchor); the key holds everything Flask builds them from here: the endpoint, the
    arguments, the tenant (added by tenancy's url_defaults), the blueprint (for ".name"), the
    script root and the host."""
    if any(k.startswith("_") or type(v) not in _PLAIN for k, v in values.items()):
        return url_for(endpoint, **values)
    space = g._get_current_object()  # each proxy access costs as much as the lookup itself
    where = space.get("_url_cache")
    if where is None:
        req = request._get_current_object()
        # Kept per app: tests (and tools) build several apps in one process, with different
        # static-file settings among other things.
        where = space._url_cache = (current_app.extensions.setdefault("closeloop_urls", {}),
                                    req.blueprint, req.script_root, req.host)
    urls, blueprint_name, script_root, host = where
    tenant = space.get("tenant")
    key = (endpoint, tuple(sorted(values.items())), tenant.slug if tenant is not None else None,
           blueprint_name if endpoint.startswith(".") else None, script_root, host)
    url = urls.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(urls) < _URLS_MAX:
            urls[key] = url
    return url


def option_tags(pairs, selected=None) -> Markup:
    """A select's ``<option>`` elements for ``(value, text)`` pairs, drawn in Python (the
    queue's filters have some eighty: a Jinja loop with a test and two escapes for each was a
    tenth of the page). ``selected``: one value or a collection of them."""
    chosen = set(selected) if isinstance(selected, list | tuple | set | frozenset) else {selected}
    return Markup("".join(
        f'<option value="{escape(value)}"{" selected" if value in chosen else ""}>'
        f'{escape(text)}</option>' for value, text in pairs))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = cached_url_for
    app.jinja_env.globals["option_tags"] = option_tags


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # One-time sign-in and survey links carry their token in the URL: never send it on.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        # Over HTTPS (as seen through PROXY_HOPS), browsers must never fall back to plain HTTP.
        hsts = app.config.get("HSTS_SECONDS")
        if hsts and request.is_secure:
            headers.setdefault("Strict-Transport-Security", f"max-age={int(hsts)}; includeSubDomains")
        return response


def register_error_pages(app: Flask) -> None:
    def page(status: int, title: str, text: str):
        if request.path.startswith("/t/") and request.path.split("/", 4)[3:4] == ["api"]:
            # An API address no route matched (or an unknown tenant): a problem document.
            from .api.problems import problem

            g.api_request = True
            return problem(status)
        return render_template("errors/error.html", status=status, title=title, text=text), status

    @app.errorhandler(404)
    def not_found(e):
        return page(404, _("Page not found"),
                    _("There is nothing here. The address may be mistyped, or the page has moved."))

    @app.errorhandler(403)
    def forbidden(e):
        return page(403, _("Not allowed"), _("You are not allowed to do this."))

    @app.errorhandler(405)
    def method_not_allowed(e):
        return page(405, _("Not allowed"), _("This page cannot be used that way."))

    @app.errorhandler(413)
    def too_large(e):
        return page(413, _("Too large"),
                    _("What you sent is larger than allowed. Send fewer or smaller files."))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return page(400, _("Form expired"),
                    _("This form was open too long or came from elsewhere. "
                      "Go back, reload the page and send it again."))

    @app.errorhandler(StorageUnavailable)
    def storage_down(e):
        # Forms with photos say this beside the photo and keep what was typed; any other
        # write to a store that does not answer at least says what happened (503, not 500).
        db.session.rollback()
        return page(503, _("File store unavailable"),
                    _("Our file store is not answering just now, so what you sent was not "
                      "saved. Go back and send it again in a few minutes."))

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return page(500, _("Something went wrong"),
                    # Never a promise of safety from a page that failed (issue 15): say what
                    # is known — it may not have been saved.
                    _("We could not finish this, so it may not have been saved. Go back, check "
                      "what you sent, and try again shortly."))

    @app.context_processor
    def _tenant():
        return {"tenant": g.get("tenant")}

"""Watching a running system: log lines (JSON in production, readable text in the embedded
default) carrying a request id that follows a request into the jobs it queued, security
events on the ``security`` logger, and error reports through Sentry when ``SENTRY_DSN`` is set.

Metrics are in ``portal/metrics.py``; this module calls it once per request and per job.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

log = logging.getLogger("closeloop.request")
security = logging.getLogger("security")

REQUEST_ID_HEADER = "X-Request-ID"
# An id from a proxy or client is kept only when it is short and plain (no CR/LF, no markup).
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("closeloop_log",
                                                                      default=None)


def current_request_id() -> str | None:
    """The request id of the request or job this code runs for (None outside both)."""
    return (_context.get() or {}).get("request_id")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(raw: str | None) -> str:
    """The client's or proxy's ``X-Request-ID`` when it is sane, else a new one."""
    return raw if raw and _SANE_ID.fullmatch(raw) else new_request_id()


@contextmanager
def bound(**fields):
    """Add ``fields`` to every log line written inside the block (this thread/context only)."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def security_event(event: str, **fields) -> None:
    """One line on the ``security`` logger: sign-ins, failures, refusals, admin changes."""
    security.info("%s", event, extra={"fields": {"event": event, **fields}})


# -- formatting ---------------------------------------------------------------------------

class ContextFilter(logging.Filter):
    """Stamps each record with the bound context and, inside a request, its tenant, user and
    route (read from what the request already loaded: never a database query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = dict(_context.get() or {})
        if has_request_context():
            tenant = g.get("tenant")
            if tenant is not None:
                context.setdefault("tenant", getattr(tenant, "slug", None))
            user = g.get("_login_user")
            if user is not None and getattr(user, "is_authenticated", False):
                context.setdefault("user", user.get_id())
            if request.endpoint:
                context.setdefault("route", request.endpoint)
        record.context = context
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then context and fields."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(getattr(record, "context", None) or {})
        data.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The demo's console: a readable line, with the request id and fields at its end."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = {**(getattr(record, "context", None) or {}),
                 **(getattr(record, "fields", None) or {})}
        extra.pop("route", None)
        if extra:
            line += "  [" + " ".join(f"{k}={v}" for k, v in extra.items()) + "]"
        return line


def make_handler(log_format: str, stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler._closeloop = True  # type: ignore[attr-defined]
    return handler


def configure_logging(app: Flask) -> None:
    """Send every log line of the process (ours, RQ's, gunicorn's) through one handler on
    stderr. Leaves logging alone under tests (pytest captures it)."""
    if app.testing:
        return
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_closeloop", False)]:
        root.removeHandler(old)
    handler = make_handler(app.config["LOG_FORMAT"])
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # start-up chatter
    if app.config["LOG_FORMAT"] == "json":
        # gunicorn's own loggers do not propagate; give their handlers the same lines.
        for name in ("gunicorn.error", "gunicorn.access"):
            for existing in logging.getLogger(name).handlers:
                existing.setFormatter(handler.formatter)
                existing.addFilter(ContextFilter())


# -- requests -----------------------------------------------------------------------------

def register(app: Flask) -> None:
    """Request ids, one log line and metrics per request, security events for refusals and
    admin changes, sign-in events from Flask-Login's signals, and Sentry."""
    from flask_login import user_logged_in, user_logged_out

    from . import metrics

    configure_logging(app)
    init_sentry(app)
    metrics.register(app)

    @app.before_request
    def _start():
        g.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()
        _context.set({"request_id": g.request_id})

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id") or new_request_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        duration = time.perf_counter() - started if started is not None else 0.0
        endpoint = request.endpoint or "unmatched"
        metrics.observe_request(endpoint, request.method, response.status_code, duration)
        fields = {"method": request.method,
                  "path": request.url_rule.rule if request.url_rule else "unmatched",
                  "status": response.status_code, "duration_ms": round(duration * 1000, 1)}
        # The demo's server logs each request itself; the text console needs no second line.
        level = logging.INFO if app.config["LOG_FORMAT"] == "json" else logging.DEBUG
        log.log(level, "%s %s %s", request.method, fields["path"], response.status_code,
                extra={"fields": fields})
        _security_of_response(response.status_code)
        return response

    @app.teardown_request
    def _clear(exc):
        _context.set(None)

    @user_logged_in.connect_via(app)
    def _signed_in(sender, user, **extra):
        security_event("sign_in", user=user.get_id())

    @user_logged_out.connect_via(app)
    def _signed_out(sender, user, **extra):
        security_event("sign_out", user=user.get_id() if user is not None else None)


def _is_admin_change() -> bool:
    endpoint = request.endpoint or ""
    rule = request.url_rule.rule if request.url_rule is not None else ""
    return request.method in _WRITES and (
        "/admin/" in rule or (endpoint.startswith("operator.")
                              and endpoint not in {"operator.sign_in", "operator.sign_out"}))


def _security_of_response(status: int) -> None:
    if status == 403:
        security_event("permission_refused", status=403, method=request.method)
    elif (status == 404 and request.endpoint not in (None, "static")
          and set(request.view_args or {}) - {"tenant_slug"}):
        # A route that matched, with ids in its URL, answering 404: another tenant's object or
        # one this user may not see looks exactly like a missing one, on purpose.
        security_event("permission_refused", status=404, method=request.method)
    elif status < 400 and _is_admin_change():
        security_event("admin_change", method=request.method)


# -- jobs ---------------------------------------------------------------------------------

@contextmanager
def job_context(name: str, tenant_id=None):
    """Bind a job's log lines to the request that queued it (from the RQ job's meta, or the
    context of the in-process caller), log how it ended, and record its metrics."""
    from . import metrics

    job_id = None
    request_id = current_request_id()
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # noqa: BLE001 — not inside an RQ worker
        job = None
    if job is not None:
        job_id = job.id
        request_id = (job.meta or {}).get("request_id") or request_id
    started = time.perf_counter()
    with bound(request_id=request_id or new_request_id(), job=name, job_id=job_id,
               tenant_id=tenant_id):
        outcome = "failed"
        try:
            yield
            outcome = "ok"
        finally:
            duration = time.perf_counter() - started
            metrics.record_job(name, duration, outcome)
            logging.getLogger("closeloop.job").log(
                logging.INFO if outcome == "ok" else logging.WARNING,
                "job %s %s in %.0f ms", name, outcome, duration * 1000,
                extra={"fields": {"outcome": outcome, "duration_ms": round(duration * 1000, 1)}})


# -- errors -------------------------------------------------------------------------------

def _scrub(event, hint):
    """Sign-in and survey links carry their token in the URL: report the route's pattern
    instead, and no query string, cookies or form data."""
    details = event.get("request")
    if details:
        for key in ("query_string", "cookies", "data"):
            details.pop(key, None)
        if has_request_context() and request.url_rule is not None:
            details["url"] = request.url_rule.rule
        details.get("headers", {}).pop("Cookie", None)
    return event


def init_sentry(app: Flask) -> bool:
    """Report errors to Sentry (Flask and RQ integrations) when SENTRY_DSN is set. Tests
    pass ``SENTRY_TRANSPORT`` to catch events in process instead of sending them."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    options = {}
    if app.config.get("SENTRY_TRANSPORT") is not None:
        options["transport"] = app.config["SENTRY_TRANSPORT"]
    sentry_sdk.init(
        dsn=dsn, environment=app.config.get("SENTRY_ENVIRONMENT"),
        integrations=[FlaskIntegration(), RqIntegration()],
        traces_sample_rate=float(app.config.get("SENTRY_TRACES_SAMPLE_RATE") or 0.0),
        before_send=_scrub,
        **options,  # no personal data: the SDK sends none by default
    )
    return True

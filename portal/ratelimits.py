"""Request-rate limits: Flask-Limiter bound to the app, counters kept in Redis (memory in the
embedded default), and the 429 answer in the user's language with ``Retry-After``.

Two ways in. Routes take ``@limiter.limit(...)`` (``portal.extensions.limiter``) and a breach
becomes the 429 page. Code that must answer in its own shape (the photo uploader wants JSON,
the plain complaint form a message beside its photos) calls ``hit()`` with its own
identifiers and sends its own 429 or error.
Business rules (filing limits per hour, sign-up limits) stay in their own modules: these are
counters against abuse, not rules of the product.

Counters fail open: when Redis is unreachable a request is let through (and logged), because
a rate limiter that refuses everyone while Redis restarts would be the outage.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from limits import parse

from .extensions import limiter

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Bind the limiter: Redis from ``REDIS_URL`` unless ``RATELIMIT_STORAGE_URI`` names
    another store, memory when neither is set; ``Retry-After`` on every refusal."""
    config = app.config
    if not config.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = config.get("REDIS_URL") or "memory://"
    config.setdefault("RATELIMIT_KEY_PREFIX", "closeloop")
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)
    app.register_error_handler(429, too_many_requests)


def hit(limit: str, *identifiers: str) -> int | None:
    """Count one request against ``limit`` ("60 per hour") for ``identifiers``. Returns None
    while within the limit, else the seconds until the window frees a place. Fails open."""
    item = parse(limit)
    keys = (current_app.config.get("RATELIMIT_KEY_PREFIX", "closeloop"), *identifiers)
    try:
        if limiter.limiter.hit(item, *keys):
            return None
        reset_at, _remaining = limiter.limiter.get_window_stats(item, *keys)
    except Exception as exc:  # noqa: BLE001 — storage down: let the request through
        log.warning("rate limit storage unavailable, not limiting: %r", exc)
        return None
    return max(1, math.ceil(reset_at - time.time()))


def retry_after_of(error) -> int:
    """Seconds to wait for a refusal raised by a route limit."""
    current = limiter.current_limit
    return max(1, math.ceil(current.reset_at - time.time())) if current else 60


def wait_text(seconds: int) -> str:
    if seconds < 90:
        return _("Wait a minute and try again.")
    return _("Wait %(minutes)d minutes and try again.", minutes=math.ceil(seconds / 60))


def too_many_requests(error):
    """The 429 answer: a page in the user's language (JSON for the uploader), Retry-After."""
    seconds = retry_after_of(error)
    text = _("Too many requests came from here in a short time.") + " " + wait_text(seconds)
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        response = jsonify(error=text)
        response.status_code = 429
    else:
        response = current_app.make_response((render_template(
            "errors/error.html", status=429, title=_("Too many requests"), text=text), 429))
    response.headers["Retry-After"] = str(seconds)
    return response

"""RFC 9457 problem documents: every error the API returns, with its title and detail in the
caller's language (Accept-Language, see ``portal.i18n.select_locale``)."""

from __future__ import annotations

import json
from http import HTTPStatus

from flask import Response, abort, request
from werkzeug.exceptions import HTTPException

from ..i18n import lazy_gettext as _l

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://closeloop.dev/problems/"

TITLES = {
    400: _l("The request is malformed."),
    401: _l("A valid API token is needed."),
    403: _l("This token may not do this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("The request conflicts with the current state."),
    413: _l("The request is too large."),
    415: _l("Send JSON (or multipart form data for photos)."),
    422: _l("The request could not be processed."),
    429: _l("Too many requests: wait and try again."),
    500: _l("Something went wrong on our side."),
    503: _l("This workspace is suspended for now."),
}

# marshmallow's own messages, said in the caller's language.
FIELD_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Unknown field.": _l("Unknown field."),
    "Not a valid integer.": _l("Not a whole number."),
    "Not a valid string.": _l("Not a text."),
    "Not a valid boolean.": _l("Not true or false."),
    "Not a valid date.": _l("Not a date (use 2026-03-31)."),
    "Not a valid decimal.": _l("Not a number."),
    "Not a valid number.": _l("Not a number."),
    "Not a valid list.": _l("Not a list."),
    "Not a valid email address.": _l("Enter a valid e-mail address."),
    "Field may not be null.": _l("This field may not be empty."),
    "Invalid input type.": _l("Wrong type of value."),
    "Invalid value.": _l("Invalid value."),
}


def _translate(messages):
    if isinstance(messages, dict):
        return {str(k): _translate(v) for k, v in messages.items()}
    if isinstance(messages, list | tuple):
        return [_translate(m) for m in messages]
    if messages is None or isinstance(messages, bool | int | float):
        return messages
    text = str(messages)
    if text in FIELD_MESSAGES:
        return str(FIELD_MESSAGES[text])
    if text.startswith(("Must be one of", "Length must be", "Longer than", "Shorter than",
                        "Must be greater", "Must be less")):
        return f"{_l('Invalid value.')} ({text})"
    return text


def problem(status: int, detail=None, *, code: str | None = None, errors=None,
            headers: dict | None = None, title=None) -> Response:
    """A problem+json response. ``detail`` and ``title`` may be lazy strings."""
    status = int(status)
    body = {
        "type": TYPE_BASE + (code or str(status)),
        "title": str(title or TITLES.get(status) or HTTPStatus(status).phrase),
        "status": status,
        "instance": request.path,
    }
    if detail is not None:
        body["detail"] = str(detail)
    if code:
        body["code"] = code
    if errors is not None:
        body["errors"] = _translate(errors)
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype=MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def abort_problem(status: int, detail=None, **kwargs):
    """Stop the request with a problem document (raises HTTPException)."""
    abort(problem(status, detail, **kwargs))


def from_http_exception(error: HTTPException) -> Response:
    """Turn any HTTPException raised in the API (404 of another tenant's id, webargs' 422,
    Flask-Limiter's 429, a body too large) into a problem document."""
    if error.response is not None and error.response.mimetype == MEDIA_TYPE:
        return error.response
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    errors = data.get("messages")
    if isinstance(errors, dict) and set(errors) <= {"json", "query", "form", "files",
                                                    "headers", "view_args", "path"}:
        errors = {location: messages for location, messages in errors.items()}
    detail = None
    if status == 422 and errors:
        detail = _l("Some values are missing or invalid: see errors.")
    if status == 429:
        detail = _l("This token made too many requests. Wait for the time in Retry-After.")
        if error.response is not None and "Retry-After" in error.response.headers:
            headers["Retry-After"] = error.response.headers["Retry-After"]
    if status == 405 and isinstance(error, HTTPException):
        allowed = error.get_headers()
        for name, value in allowed:
            if name == "Allow":
                headers["Allow"] = value
    return problem(status, detail, errors=errors, headers=headers, code=None)

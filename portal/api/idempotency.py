"""``Idempotency-Key`` for writes (POST, PATCH): the first response (2xx) is stored per token
and key in the same transaction as the data it describes; a retry with the same key and the
same request gets that response again, a retry with the same key and another request is
refused (422). Two concurrent first tries: the unique (token, key) lets one commit; the other
rolls back and replays it. A response that carries a secret (a new webhook's signing secret:
the view sets ``g.api_response_has_secret``) is stored encrypted (portal/secretbox.py)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from flask import Response, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import uow
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import IdempotentResponse
from .problems import abort_problem

HEADER = "Idempotency-Key"
SEALED = "sealed:"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, as the IETF draft's examples


def _fingerprint() -> str:
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(b"\0" + request.full_path.encode("utf-8", "surrogateescape") + b"\0")
    h.update(request.get_data(cache=True))
    return h.hexdigest()


def _stored(key: str) -> IdempotentResponse | None:
    return db.session.scalar(select(IdempotentResponse).where(
        IdempotentResponse.token_id == g.api_token.id, IdempotentResponse.key == key))


def _replay(stored: IdempotentResponse, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        abort_problem(422, _l("This Idempotency-Key was used for another request."),
                      code="idempotency_key_reused")
    body = stored.body
    if body.startswith(SEALED):
        from ..secretbox import decrypt

        body = decrypt(body.removeprefix(SEALED))
    response = Response(body, status=stored.status, mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def run(view: Callable[[], Response]) -> Response:
    """Run a write ``view`` under the request's Idempotency-Key (if any) and commit."""
    key = request.headers.get(HEADER)
    if key is None:
        response = view()
        uow.commit()
        return response
    if not _KEY.match(key):
        abort_problem(400, _l("An Idempotency-Key is 1 to 200 visible ASCII characters."),
                      code="bad_idempotency_key")
    fingerprint = _fingerprint()
    stored = _stored(key)
    if stored is not None:
        return _replay(stored, fingerprint)
    response = view()
    if 200 <= response.status_code < 300:
        body = response.get_data(as_text=True)
        if g.get("api_response_has_secret"):
            from ..secretbox import encrypt

            body = SEALED + encrypt(body)
        db.session.add(IdempotentResponse(
            token_id=g.api_token.id, key=key, fingerprint=fingerprint,
            status=response.status_code, body=body,
            location=response.headers.get("Location")))
    try:
        uow.commit()
    except IntegrityError:
        uow.rollback()
        stored = _stored(key)
        if stored is None:
            raise
        return _replay(stored, fingerprint)
    return response

"""Accounts: password hashing, server-side sessions, throttled sign-in, one-time links.

Throttling is ``throttle.py``, the common-password list ``passwords.py``, and the sign-in,
sign-out and password pages shared by the customer, staff and operator areas ``views.py``.

A signed-in browser carries, in Flask's signed cookie, a random session token and the
principal ("staff:3", "contact:9"). The token's hash is a ``LoginSession`` row; the
user loader accepts the cookie only while that row is live in the current tenant. So
logout, a password change or "sign out everywhere" revoke rows, and a cookie captured
before then stops working at once. The same user loader is scoped to the tenant of the
URL, so a user of tenant A is nobody on tenant B.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, exists, func, select, update

from ..client import client_ip
from ..extensions import db, login_manager
from ..models import Contact, LoginSession, SignInFailure, SignInToken, StaffUser, utcnow
from ..tenancy import ScopedStatement, active_tenant_id
from . import throttle
from .passwords import MIN_PASSWORD_LENGTH, is_common  # noqa: F401  (re-exported)
from .throttle import Throttled  # noqa: F401  (re-exported)

# OWASP's recommended argon2id cost: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the account does not exist, so timing does not tell who has one.
_DUMMY_HASH = _hasher.hash("closeloop-no-such-account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user, password: str) -> bool:
    """Check ``password`` against ``user`` (None: a dummy check). Upgrades an outdated hash."""
    stored = getattr(user, "password_hash", None) or _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None or stored is _DUMMY_HASH:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return True


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- sessions ------------------------------------------------------------------------------

def start_session(user) -> None:
    """Sign ``user`` in on this browser with a fresh server-side session."""
    # current_user is a proxy; storing the proxy as the user would make it refer to itself.
    user = user._get_current_object() if hasattr(user, "_get_current_object") else user
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(
        id=_digest(token), principal=user.get_id(), ip_address=client_ip(),
        user_agent=(request.user_agent.string or "")[:300],
    ))
    user.last_sign_in_at = utcnow()
    locale = session.get("locale")
    session.clear()  # nothing from before sign-in survives (session fixation)
    if locale:
        session["locale"] = locale
    session["sid"] = token
    session.permanent = True
    login_user(user)


def end_session() -> None:
    """Sign out this browser: revoke its session row, then forget the cookie's contents."""
    token = session.get("sid")
    if token:
        db.session.execute(
            update(LoginSession).where(LoginSession.id == _digest(token),
                                       LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def end_all_sessions(user) -> int:
    """Revoke every live session of ``user`` (password change, deactivation, admin action)."""
    result = db.session.execute(
        update(LoginSession).where(LoginSession.principal == user.get_id(),
                                   LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount


def change_password(user, new_password: str) -> None:
    """Set a new password, end every session of the user, and keep this browser signed in."""
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)
    start_session(user)


PRINCIPAL_MODELS = {"staff": StaffUser, "contact": Contact}


def load_principal(principal: str):
    """The staff user or contact named ``"staff:3"`` / ``"contact:9"`` in the active tenant."""
    kind, _, raw_id = principal.partition(":")
    model = PRINCIPAL_MODELS.get(kind)
    if model is None or not raw_id.isdigit() or active_tenant_id() is None:
        return None
    return db.session.scalar(select(model).where(model.id == int(raw_id)))


@lru_cache(maxsize=len(PRINCIPAL_MODELS))
def _with_live_session(kind: str) -> ScopedStatement:
    """The user of a kind by id, if the browser's session row is live: built once per kind."""
    model = PRINCIPAL_MODELS[kind]
    return ScopedStatement(select(model).where(model.id == bindparam("user_id"), exists().where(
        LoginSession.id == bindparam("sid"), LoginSession.principal == bindparam("principal"),
        LoginSession.revoked_at.is_(None), LoginSession.created_at > bindparam("since"))))


@login_manager.user_loader
def _load_user(principal: str):
    """The user, if this browser's session row is live in the URL's tenant: one statement
    on every signed-in request (the user, with an EXISTS on its session row)."""
    token = session.get("sid")
    kind, _, raw_id = principal.partition(":")
    model = PRINCIPAL_MODELS.get(kind)
    tenant_id = active_tenant_id()
    if not token or model is None or not raw_id.isdigit() or tenant_id is None:
        return None
    user = _with_live_session(kind).objects(
        user_id=int(raw_id), sid=_digest(token), principal=principal,
        since=utcnow() - current_app.permanent_session_lifetime).scalar()
    if user is None or not user.is_active:
        return None
    return user


# -- signing in ---------------------------------------------------------------------------

def authenticate(model, email: str, password: str, failures=SignInFailure):
    """Return the active ``model`` user with this e-mail and password, else None.

    One check for every area: ``model`` is StaffUser, Contact or PlatformOperator and
    ``failures`` the table its failed attempts are counted in (``throttle``). Raises
    Throttled before checking anything while this account-and-address pair must wait or
    the address is refused. Records a failure (the caller commits it with the error).
    """
    email = (email or "").strip().lower()
    throttle.check(failures, email)
    user = db.session.scalar(select(model).where(func.lower(model.email) == email))
    if verify_password(user, password or "") and getattr(user, "is_active", True):
        throttle.clear(failures, email)
        return user
    from ..observability import security_event

    security_event("sign_in_failed", email=email, kind=model.__name__)
    throttle.record(failures, email)
    return None


# -- one-time links ------------------------------------------------------------------------

def issue_token(user, purpose: str = "sign_in", minutes: int | None = None,
                next_path: str | None = None) -> str:
    """Create a one-time link token for ``user``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    minutes = minutes or current_app.config["SIGNIN_LINK_MINUTES"]
    db.session.add(SignInToken(
        token_hash=_digest(token), principal=user.get_id(), purpose=purpose,
        next_path=next_path, expires_at=utcnow() + timedelta(minutes=minutes),
    ))
    return token


def consume_token(token: str, purpose: str = "sign_in") -> SignInToken | None:
    """Use a one-time token: returns its row once, then None (used, expired or unknown)."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(select(SignInToken).where(
        SignInToken.token_hash == _digest(token), SignInToken.purpose == purpose))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    row.used_at = utcnow()
    return row

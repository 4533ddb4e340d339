"""Sign-in throttling, one mechanism for tenant accounts and platform operators.

Two limits for two kinds of trouble:

* **Per account and address pair, with growing delays.** After ``SIGNIN_FREE_FAILURES``
  wrong passwords for one e-mail from one address, each further attempt of that pair waits
  ``SIGNIN_FIRST_DELAY_SECONDS``, then twice as long after each new failure, up to
  ``SIGNIN_MAX_DELAY_SECONDS``. One person's typos slow only that person on that account:
  colleagues behind the same factory gateway sign in as usual, and an attacker elsewhere
  cannot lock the account's owner out.
* **Per address, for clearly abusive volumes.** ``SIGNIN_MAX_FAILURES_PER_ADDRESS`` failures
  within ``SIGNIN_WINDOW_MINUTES`` from one address, across every account, refuses that
  address until the oldest of them leaves the window — far above what typing goes wrong.

Failures are rows (``sign_in_failures`` per tenant, ``operator_sign_in_failures`` for the
operator area), so every web process sees the same counts. A refused attempt is not
recorded (it checked no password), so waiting out a delay is always enough. Nothing here
commits; the caller commits the failure even though it shows an error.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..client import client_ip
from ..extensions import db
from ..models import utcnow


class Throttled(Exception):
    """Too many failed sign-ins lately; ``seconds`` to wait (``minutes`` rounded up)."""

    def __init__(self, seconds: float):
        self.seconds = max(1, math.ceil(seconds))
        self.minutes = math.ceil(self.seconds / 60)
        super().__init__(f"too many failed sign-ins; wait {self.seconds} s")


def pair_delay(failures: int) -> int:
    """Seconds the pair waits after its ``failures``-th failure (0 while still free)."""
    cfg = current_app.config
    extra = failures - cfg["SIGNIN_FREE_FAILURES"]
    if extra < 0:
        return 0
    return min(cfg["SIGNIN_FIRST_DELAY_SECONDS"] * 2 ** min(extra, 20),
               cfg["SIGNIN_MAX_DELAY_SECONDS"])


def check(table, email: str) -> None:
    """Raise Throttled when this (e-mail, address) pair must still wait, or when this
    address has failed in abusive numbers lately. ``table`` is the failure model."""
    cfg = current_app.config
    now = utcnow()
    address = client_ip()
    count, last = db.session.execute(
        select(func.count(), func.max(table.at)).where(
            table.email == email, table.ip_address == address,
            table.at > now - timedelta(hours=cfg["SIGNIN_PAIR_WINDOW_HOURS"]))).one()
    delay = pair_delay(count)
    if delay and last is not None and last + timedelta(seconds=delay) > now:
        raise Throttled((last + timedelta(seconds=delay) - now).total_seconds())
    window = timedelta(minutes=cfg["SIGNIN_WINDOW_MINUTES"])
    count, oldest = db.session.execute(
        select(func.count(), func.min(table.at)).where(
            table.ip_address == address, table.at > now - window)).one()
    if count >= cfg["SIGNIN_MAX_FAILURES_PER_ADDRESS"]:
        raise Throttled((oldest + window - now).total_seconds())


def record(table, email: str) -> None:
    db.session.add(table(email=email[:254], ip_address=client_ip()))


def clear(table, email: str) -> None:
    """A right password from this address forgets the pair's failures (not other pairs')."""
    db.session.execute(delete(table).where(table.email == email,
                                           table.ip_address == client_ip()))


def forget_old_failures(now=None) -> int:
    """Delete failures older than the pair window from both tables (nothing counts them any
    more). Every tenant: platform housekeeping, run hourly by the clock. Returns how many."""
    from ..models import OperatorSignInFailure, SignInFailure
    from ..tenancy import unscoped

    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["SIGNIN_PAIR_WINDOW_HOURS"])
    deleted = 0
    with unscoped():
        for table in (SignInFailure, OperatorSignInFailure):
            deleted += db.session.execute(
                delete(table).where(table.at < cutoff),
                execution_options={"synchronize_session": False}).rowcount
    return deleted

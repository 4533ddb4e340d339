"""Deadlines: the complaint's clocks (the partial internal/_clocks.html belongs to
portal/deadlines), drawn when scrolled into view: working-time arithmetic is not free."""

from __future__ import annotations

from .base import Case, panel


@panel("clocks", "#clocks", deferred="revealed")
def context(case: Case, forms: dict) -> dict:
    return {}

"""Deadlines: business calendars, the clocks a complaint owes, and the sweep that warns and
escalates. Other packages use:

- ``clocks_for(complaint)`` — every clock, display-ready (``ClockView``);
- ``badge_for(complaint)`` — the most urgent running clock of one complaint;
  ``badge_texts(rows)`` — a page of queue rows' badges as display-ready text (one statement);
- ``promises_for(complaint)`` / ``next_promise(complaint)`` — the times promised to the customer;
- ``refresh(complaint)`` — catch up after a change no workflow event announces (classification
  as class A, an action's due date), which the sweep otherwise does within a minute;
- templates ``internal/_clocks.html``, ``internal/_clock_badge.html``,
  ``customer/_promises.html`` (each expects ``complaint`` in its context).

The clocks and the escalation check follow transitions, submissions and other changes of a
complaint through listeners the application factory registers (``portal.create_app`` →
``register_listeners``): ``clocks.on_transition``, ``escalation.on_transition``,
``clocks.on_submitted``, ``escalation.on_submitted`` and ``follow_changes``. Importing this
package subscribes nothing.
"""

from __future__ import annotations

from . import clocks as _clocks
from . import escalation as _escalation
from .badges import BadgeText, badge_texts
from .clocks import (
    ClockView,
    Promise,
    badge_for,
    clocks_for,
    context_for,
    humanize_minutes,
    next_promise,
    promises_for,
    refresh,
)


def follow_changes(complaint, what: str) -> None:
    """A class-A classification starts its clock at once, action due dates get their clocks,
    and a new failure mode or product is counted in the defect ratios."""
    _clocks.refresh(complaint)
    if what == "classified":
        _escalation.evaluate(complaint)

__all__ = ["BadgeText", "ClockView", "Promise", "badge_for", "badge_texts", "clocks_for", "context_for", "follow_changes",
           "humanize_minutes", "next_promise", "promises_for", "refresh"]

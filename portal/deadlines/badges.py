"""A page of queue rows' deadline badges as display-ready text (the most urgent running clock
of each row): the same text internal/_clock_badge.html renders for one complaint, computed
with the language, time zone and phrases looked up once per page instead of once per row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g

from ..models import utcnow
from .clocks import _context_of, humanize_minutes, prefetch_badges, view


@dataclass(frozen=True)
class BadgeText:
    """A queue row's badge, display-ready: ``css`` (ok, warn, late, paused), ``title`` (the
    clock and its due time), ``text`` (time left, late by, or paused)."""

    css: str
    title: str
    text: str


def badge_texts(rows, now: datetime | None = None) -> dict[int, BadgeText | None]:
    """The most urgent running clock of each row as display text, for a page of queue rows:
    one statement for the clocks, and the language, time zone and phrases looked up once
    per page rather than once per row (the same text internal/_clock_badge.html renders)."""
    from ..i18n import _translations, datetime_formatter

    prefetch_badges(rows)
    found = g.get("_deadline_badges") or {}
    now = now or utcnow()
    when = datetime_formatter("short")
    words = _translations()
    paused, late, left = (words.ugettext("Paused"), words.ugettext("Late by %(time)s"),
                          words.ugettext("%(time)s left"))
    texts: dict[int, BadgeText | None] = {}
    for row in rows:
        clock = found.get(row.id)
        if clock is None:
            texts[row.id] = None
            continue
        badge = view(_context_of(row), clock, now)
        if badge.state == "paused":
            text = paused
        elif badge.state == "late":
            text = late % {"time": humanize_minutes(badge.late_by_minutes)}
        else:
            text = left % {"time": humanize_minutes(badge.minutes_left)}
        texts[row.id] = BadgeText("paused" if badge.state == "paused" else badge.level,
                                  f"{badge.label} · {when(badge.due_at)}", text)
    return texts

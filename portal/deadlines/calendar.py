"""Business calendars: when a tenant works, and time arithmetic on working minutes.

A calendar is a plain value (time zone, working periods of a day, working weekdays, a
holiday source, the tenant's own exceptions). The arithmetic functions are pure: they take
aware datetimes and return aware UTC datetimes or minutes, and know nothing of the database.
``calendar_for(tenant)`` builds a tenant's calendar (it reads CalendarException rows, so
the tenant must be active).

Working periods are wall-clock times in the tenant's zone, so a working day across a
daylight-saving change is still 08:30-12:00 and 13:30-17:30 local time; the UTC length of
a night or weekend simply changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import chinese_calendar

# The furthest ahead we look for working time before giving up (a calendar with no working
# day at all would otherwise loop forever).
MAX_DAYS = 3 * 366

Pause = tuple[datetime, "datetime | None"]


class CalendarError(ValueError):
    """The calendar cannot answer (no working time within MAX_DAYS, or bad settings)."""


def parse_periods(raw: Iterable[Iterable[str]]) -> tuple[tuple[time, time], ...]:
    """``[["08:30", "12:00"], ["13:30", "17:30"]]`` → sorted, non-overlapping time pairs.

    Raises CalendarError on a malformed, empty, reversed or overlapping period.
    """
    periods = []
    for pair in raw or ():
        try:
            start, end = (time.fromisoformat(str(v)) for v in pair)
        except (TypeError, ValueError) as exc:
            raise CalendarError(f"not a working period: {pair!r}") from exc
        if end <= start:
            raise CalendarError(f"a working period must end after it starts: {pair!r}")
        periods.append((start, end))
    periods.sort()
    if not periods:
        raise CalendarError("at least one working period is needed")
    for (_s1, e1), (s2, _e2) in zip(periods, periods[1:], strict=False):
        if s2 < e1:
            raise CalendarError("working periods overlap")
    return tuple(periods)


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Asia/Shanghai"
    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)),
                                              (time(13, 30), time(17, 30)))
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    # "CN": the Chinese mainland's public holidays and make-up working days (调休).
    region: str | None = "CN"
    # The tenant's own days: True = an extra working day, False = a shutdown.
    exceptions: Mapping[date, bool] = field(default_factory=dict)
    # Each day's intervals, once computed: the calendar is a value, and a page of queue rows
    # (or a sweep pass) walks the same days for every clock, sometimes months of them.
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _totals: dict = field(default_factory=dict, init=False, repr=False, compare=False,
                          hash=False)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_minutes(self) -> int:
        """Working minutes of an ordinary working day (half a working day is half of it)."""
        return sum((_minutes_of(e) - _minutes_of(s)) for s, e in self.periods)

    def is_working_day(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        if self.region == "CN":
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:
                pass  # outside the package's years: fall back to the weekdays
        return day.weekday() in self.weekdays

    def holiday_name(self, day: date) -> str | None:
        if self.region != "CN":
            return None
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return None
        return name if on_holiday or name else None

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (aware UTC, start <= end), without pauses.
        Whole days inside the span count by their cached total, so a clock months late costs
        a dictionary lookup per day (a queue page asks this for every row)."""
        zone = self.zone
        day = start.astimezone(zone).date() - _ONE_DAY  # periods may cross UTC midnight
        last = end.astimezone(zone).date() + _ONE_DAY
        total = timedelta(0)
        totals = self._totals
        while day <= last:
            intervals = self.day_intervals(day)
            if intervals:
                if start <= intervals[0][0] and intervals[-1][1] <= end:
                    whole = totals.get(day)
                    if whole is None:
                        whole = totals[day] = sum((b - a for a, b in intervals), timedelta(0))
                    total += whole
                else:
                    for a, b in intervals:
                        if b > start and a < end:
                            total += min(b, end) - max(a, start)
            day += _ONE_DAY
        return total

    def day_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working periods as aware UTC intervals (empty on a day off)."""
        intervals = self._days.get(day)
        if intervals is None:
            if self.is_working_day(day):
                zone = self.zone
                intervals = tuple((_local(day, s, zone), _local(day, e, zone))
                                  for s, e in self.periods)
            else:
                intervals = ()
            self._days[day] = intervals
        return intervals


_ONE_DAY = timedelta(days=1)


def _minutes_of(t: time) -> int:
    return t.hour * 60 + t.minute


def _local(day: date, t: time, zone: ZoneInfo) -> datetime:
    # A wall time inside a spring-forward gap does not exist; fold=0 maps it forward in
    # UTC terms, which is what a clock on the wall would show an hour later.
    return datetime.combine(day, t, tzinfo=zone).astimezone(UTC)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use an aware datetime")
    return value.astimezone(UTC)


def working_intervals(cal: BusinessCalendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals from ``start`` onwards (the first one clipped to start)."""
    start = _aware(start)
    day = start.astimezone(cal.zone).date() - timedelta(days=1)  # periods may cross UTC midnight
    for _ in range(MAX_DAYS):
        for a, b in cal.day_intervals(day):
            if b <= start:
                continue
            yield max(a, start), b
        day += timedelta(days=1)


def _subtract(intervals: Iterable[tuple[datetime, datetime]],
              pauses: list[tuple[datetime, datetime]]) -> Iterator[tuple[datetime, datetime]]:
    """Remove the paused spans from a sorted stream of intervals."""
    for a, b in intervals:
        pieces = [(a, b)]
        for p0, p1 in pauses:
            next_pieces = []
            for x, y in pieces:
                if p1 <= x or p0 >= y:
                    next_pieces.append((x, y))
                    continue
                if x < p0:
                    next_pieces.append((x, p0))
                if p1 < y:
                    next_pieces.append((p1, y))
            pieces = next_pieces
        yield from pieces


def _norm_pauses(pauses: Iterable[Pause] | None, open_end: datetime) -> list[tuple[datetime, datetime]]:
    result = []
    for p0, p1 in pauses or ():
        p0 = _aware(p0)
        p1 = _aware(p1) if p1 is not None else open_end
        if p1 > p0:
            result.append((p0, p1))
    return sorted(result)


FAR = datetime(9999, 1, 1, tzinfo=UTC)


def add_working_minutes(cal: BusinessCalendar, start: datetime, minutes: float,
                        pauses: Iterable[Pause] | None = None) -> datetime:
    """The moment ``minutes`` working minutes after ``start`` (UTC). Paused spans do not
    count (an open pause, end None, runs for ever: the result is then unreachable and
    CalendarError is raised). Zero minutes returns ``start`` itself.

    Raises CalendarError when no such moment exists within MAX_DAYS.
    """
    start = _aware(start)
    remaining = timedelta(minutes=minutes)
    if remaining <= timedelta(0):
        return start
    spans = _subtract(working_intervals(cal, start), _norm_pauses(pauses, FAR))
    for a, b in spans:
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
    raise CalendarError("no working time within reach")


def working_minutes_between(cal: BusinessCalendar, start: datetime, end: datetime,
                            pauses: Iterable[Pause] | None = None) -> float:
    """Working minutes from ``start`` to ``end``, paused spans excluded; negative when
    ``end`` is before ``start``."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -working_minutes_between(cal, end, start, pauses)
    if not pauses:
        return cal.working_time_between(start, end).total_seconds() / 60
    total = timedelta(0)
    for a, b in _subtract(working_intervals(cal, start), _norm_pauses(pauses, end)):
        if a >= end:
            break
        total += min(b, end) - a
    return total.total_seconds() / 60


def add_minutes(start: datetime, minutes: float, pauses: Iterable[Pause] | None = None) -> datetime:
    """Calendar time: ``start`` plus ``minutes``, extended by the paused spans after start."""
    start = _aware(start)
    due = start + timedelta(minutes=minutes)
    for p0, p1 in _norm_pauses(pauses, FAR):
        if p1 == FAR and p0 < due:
            raise CalendarError("paused without end")
        if p0 < due and p1 > start:
            due += p1 - max(p0, start)
    return due


def minutes_between(start: datetime, end: datetime,
                    pauses: Iterable[Pause] | None = None) -> float:
    """Calendar minutes from ``start`` to ``end`` with paused spans excluded."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -minutes_between(end, start, pauses)
    total = end - start
    for p0, p1 in _norm_pauses(pauses, end):
        overlap = min(p1, end) - max(p0, start)
        if overlap > timedelta(0):
            total -= overlap
    return total.total_seconds() / 60


def add(cal: BusinessCalendar, start: datetime, minutes: float, working: bool,
        pauses: Iterable[Pause] | None = None) -> datetime:
    """Working or calendar time, whichever the clock counts."""
    if working:
        return add_working_minutes(cal, start, minutes, pauses)
    return add_minutes(start, minutes, pauses)


def between(cal: BusinessCalendar, start: datetime, end: datetime, working: bool,
            pauses: Iterable[Pause] | None = None) -> float:
    if working:
        return working_minutes_between(cal, start, end, pauses)
    return minutes_between(start, end, pauses)


def region_for(tenant) -> str | None:
    """The holiday source: the tenant's ``holiday_calendar`` setting, where "auto" means the
    Chinese mainland calendar for a tenant in a mainland time zone."""
    value = tenant.setting("holiday_calendar")
    if value == "auto":
        return "CN" if tenant.timezone in ("Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin",
                                           "Asia/Urumqi", "PRC") else None
    return value or None


def calendar_for(tenant, exceptions: Mapping[date, bool] | None = None) -> BusinessCalendar:
    """The tenant's calendar. Reads the tenant's CalendarException rows unless given
    ``exceptions`` (the tenant must then be active). Raises CalendarError on bad settings."""
    if exceptions is None:
        from sqlalchemy import select

        from ..extensions import db
        from ..models import CalendarException

        exceptions = dict(db.session.execute(
            select(CalendarException.day, CalendarException.working)
            .where(CalendarException.tenant_id == tenant.id)
        ).all())
    return BusinessCalendar(
        timezone=tenant.timezone or "Asia/Shanghai",
        periods=parse_periods(tenant.setting("working_hours")),
        weekdays=frozenset(int(d) for d in tenant.setting("working_weekdays")),
        region=region_for(tenant),
        exceptions=dict(exceptions),
    )

"""What the dashboard looks at: a period in the tenant's time zone and the slicing filters,
parsed from URL arguments (unknown or malformed values fall back, so a bookmark never errors)
and turned back into arguments for links.

Months are the tenant's local months: a complaint received at 23:30 on 31 March in Shanghai
(15:30 UTC) belongs to March, whatever the server's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from ..i18n import lazy_gettext as _l
from ..models import SOURCES

PERIODS = {
    "month": _l("This month"),
    "3m": _l("Last 3 months"),
    "12m": _l("Last 12 months"),
    "range": _l("A range"),
}
SOURCE_LABELS = {"customer": _l("Customer complaints"), "staff": _l("Recorded by staff"),
                 "production": _l("Production exceptions")}
MAX_MONTHS = 36


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month (negative goes back)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_keys(start: date, end: date) -> list[str]:
    """'YYYY-MM' for every month from ``start`` up to the day before ``end``."""
    keys, cursor = [], first_of_month(start)
    while cursor < end:
        keys.append(f"{cursor.year:04d}-{cursor.month:02d}")
        cursor = add_months(cursor, 1)
    return keys


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


@dataclass(frozen=True)
class Slice:
    """A period [start, end) of local dates plus filters. ``zone`` is the tenant's."""

    zone: str
    period: str
    start: date
    end: date
    line: str = ""
    product: int | None = None
    customer: int | None = None
    source: str = ""

    @classmethod
    def from_args(cls, args, zone: str, today: date | None = None) -> Slice:
        tz = ZoneInfo(zone)
        today = today or datetime.now(tz).date()
        period = args.get("period") if args.get("period") in PERIODS else "12m"
        start, end = cls._bounds(period, args, today)
        if start is None:
            period, (start, end) = "12m", cls._bounds("12m", args, today)
        return cls(zone=zone, period=period, start=start, end=end,
                   line=(args.get("line") or "").strip()[:120],
                   product=_int(args.get("product")), customer=_int(args.get("customer")),
                   source=args.get("source") if args.get("source") in SOURCES else "")

    @staticmethod
    def _bounds(period: str, args, today: date):
        this_month = first_of_month(today)
        if period == "month":
            return this_month, add_months(this_month, 1)
        if period == "3m":
            return add_months(this_month, -2), add_months(this_month, 1)
        if period == "12m":
            return add_months(this_month, -11), add_months(this_month, 1)
        start, last = _date(args.get("from")), _date(args.get("to"))
        if start is None or last is None or last < start \
                or add_months(start, MAX_MONTHS) <= last:
            return None, None
        return start, last + timedelta(days=1)

    @classmethod
    def for_month(cls, zone: str, month: date) -> Slice:
        month = first_of_month(month)
        return cls(zone=zone, period="range", start=month, end=add_months(month, 1))

    # -- instants ---------------------------------------------------------------------------
    def instant(self, day: date) -> datetime:
        """Local midnight of ``day`` in the tenant's zone, as an aware UTC datetime."""
        return datetime.combine(day, time(), ZoneInfo(self.zone)).astimezone(UTC)

    @cached_property
    def since(self) -> datetime:
        return self.instant(self.start)

    @cached_property
    def before(self) -> datetime:
        return self.instant(self.end)

    @cached_property
    def _edges(self) -> tuple[str, str]:
        """since and before in ISO form: every queue link of a page carries them."""
        return self.since.isoformat(), self.before.isoformat()

    @property
    def last(self) -> date:
        """The period's last day."""
        return self.end - timedelta(days=1)

    @property
    def months(self) -> list[str]:
        return month_keys(self.start, self.end)

    def month_bounds(self, key: str) -> tuple[datetime, datetime]:
        first = date(int(key[:4]), int(key[5:7]), 1)
        return self.instant(max(first, self.start)), self.instant(min(add_months(first, 1),
                                                                      self.end))

    # -- links ------------------------------------------------------------------------------
    def to_args(self, **changes) -> dict:
        s = replace(self, **changes) if changes else self
        args: dict = {"period": s.period}
        if s.period == "range":
            args["from"] = s.start.isoformat()
            args["to"] = (s.end - timedelta(days=1)).isoformat()
        for name in ("line", "product", "customer", "source"):
            if getattr(s, name):
                args[name] = getattr(s, name)
        return args

    def queue_args(self, since: datetime | None = None, before: datetime | None = None,
                   **extra) -> dict:
        """Arguments of the staff queue listing exactly the complaints a figure counts."""
        args = {"view": "all",
                "created_since": since.isoformat() if since else self._edges[0],
                "created_before": before.isoformat() if before else self._edges[1]}
        for name in ("line", "product", "customer", "source"):
            if getattr(self, name):
                args[name] = getattr(self, name)
        args.update({k: v for k, v in extra.items() if v not in (None, "")})
        return args

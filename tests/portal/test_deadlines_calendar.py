"""Working-time arithmetic against cases computed by hand.

Default working day: 08:30-12:00 (210 min) and 13:30-17:30 (240 min) = 450 min; half a
working day = 225 min. chinese_calendar's 2026 data: the Spring Festival holiday runs
Sun 15 Feb - Mon 23 Feb 2026; Sat 14 Feb and Sat 28 Feb 2026 are make-up working days (调休).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from portal.deadlines.calendar import (
    BusinessCalendar,
    CalendarError,
    add_minutes,
    add_working_minutes,
    minutes_between,
    parse_periods,
    working_minutes_between,
)

SH = ZoneInfo("Asia/Shanghai")
BER = ZoneInfo("Europe/Berlin")
CN = BusinessCalendar(timezone="Asia/Shanghai", region="CN")
DE = BusinessCalendar(timezone="Europe/Berlin", region=None)


def sh(*args):
    return datetime(*args, tzinfo=SH)


def ber(*args):
    return datetime(*args, tzinfo=BER)


def test_half_a_working_day_across_a_weekend():
    # Fri 6 Mar 2026 16:30: 60 min left on Friday; Sat/Sun off; Monday 9 Mar
    # 08:30 + (225 - 60 = 165) min = 11:15.
    assert add_working_minutes(CN, sh(2026, 3, 6, 16, 30), 225) == sh(2026, 3, 9, 11, 15)
    assert working_minutes_between(CN, sh(2026, 3, 6, 16, 30), sh(2026, 3, 9, 11, 15)) == 225


def test_lunch_break_does_not_count():
    # Tue 10 Mar 11:00 + 120: 11:00-12:00 = 60, lunch, 13:30 + 60 = 14:30.
    assert add_working_minutes(CN, sh(2026, 3, 10, 11, 0), 120) == sh(2026, 3, 10, 14, 30)
    # Starting inside the break starts counting at 13:30.
    assert add_working_minutes(CN, sh(2026, 3, 10, 12, 45), 30) == sh(2026, 3, 10, 14, 0)
    assert working_minutes_between(CN, sh(2026, 3, 10, 11, 0), sh(2026, 3, 10, 14, 0)) == 90


def test_before_and_after_hours():
    # Starting at 07:00 counts from 08:30; at 18:00 from the next working morning.
    assert add_working_minutes(CN, sh(2026, 3, 10, 7, 0), 30) == sh(2026, 3, 10, 9, 0)
    assert add_working_minutes(CN, sh(2026, 3, 10, 18, 0), 30) == sh(2026, 3, 11, 9, 0)
    assert add_working_minutes(CN, sh(2026, 3, 10, 18, 0), 0) == sh(2026, 3, 10, 18, 0)


def test_spring_festival_and_make_up_days():
    # Fri 13 Feb 16:00 + one working day (450): Fri 16:00-17:30 = 90; Sat 14 Feb is a make-up
    # working day: 08:30-12:00 = 210 (300 in all), then 13:30 + 150 = 16:00 on Saturday.
    assert add_working_minutes(CN, sh(2026, 2, 13, 16, 0), 450) == sh(2026, 2, 14, 16, 0)
    # Sat 14 Feb 17:00 + 60: 30 min that day, then the holiday 15-23 Feb, so Tue 24 Feb
    # 08:30 + 30 = 09:00.
    assert add_working_minutes(CN, sh(2026, 2, 14, 17, 0), 60) == sh(2026, 2, 24, 9, 0)
    # Fri 27 Feb 17:00 + 60: 30 on Friday, Sat 28 Feb (make-up) 08:30 + 30 = 09:00.
    assert add_working_minutes(CN, sh(2026, 2, 27, 17, 0), 60) == sh(2026, 2, 28, 9, 0)
    # Fri 13 Feb 12:00 to Tue 24 Feb 12:00: Fri afternoon 240 + Sat 14 Feb 450 + Tue morning
    # 210 = 900.
    assert working_minutes_between(CN, sh(2026, 2, 13, 12, 0), sh(2026, 2, 24, 12, 0)) == 900
    assert CN.is_working_day(date(2026, 2, 14)) and not CN.is_working_day(date(2026, 2, 16))
    # The same Saturday is a day off for a calendar without the mainland's rules.
    plain = BusinessCalendar(timezone="Asia/Shanghai", region=None)
    assert add_working_minutes(plain, sh(2026, 2, 13, 16, 0), 450) == sh(2026, 2, 16, 16, 0)


def test_tenant_exceptions_override_the_calendar():
    # A shutdown on Tue 10 Mar: Mon 9 Mar 17:00 + 60 -> 30 on Monday, Wed 11 Mar 09:00.
    shutdown = BusinessCalendar(timezone="Asia/Shanghai", region="CN",
                                exceptions={date(2026, 3, 10): False})
    assert add_working_minutes(shutdown, sh(2026, 3, 9, 17, 0), 60) == sh(2026, 3, 11, 9, 0)
    # An extra working Saturday 28 Mar in Berlin: Fri 27 Mar 17:00 + 60 -> Sat 09:00.
    extra = BusinessCalendar(timezone="Europe/Berlin", region=None,
                             exceptions={date(2026, 3, 28): True})
    assert add_working_minutes(extra, ber(2026, 3, 27, 17, 0), 60) == ber(2026, 3, 28, 9, 0)


def test_berlin_across_the_spring_daylight_saving_change():
    # Clocks go from 02:00 CET to 03:00 CEST on Sun 29 Mar 2026.
    # Fri 27 Mar 17:00 CET (16:00 UTC) + 60 working: 30 on Friday, Mon 30 Mar 08:30 CEST + 30
    # = 09:00 CEST = 07:00 UTC.
    due = add_working_minutes(DE, ber(2026, 3, 27, 17, 0), 60)
    assert due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert due.astimezone(BER).hour == 9
    # Working days keep their wall-clock length: Fri + Mon = 900 minutes.
    assert working_minutes_between(DE, ber(2026, 3, 27, 8, 30), ber(2026, 3, 30, 17, 30)) == 900
    # Calendar time is elapsed time: Sat 12:00 CET + 24 h = Sun 13:00 CEST (wall +25 h).
    assert add_minutes(ber(2026, 3, 28, 12, 0), 24 * 60) == ber(2026, 3, 29, 13, 0)
    # Autumn: back from 03:00 CEST to 02:00 CET on Sun 25 Oct 2026. Sat 24 Oct 12:00 CEST
    # + 24 h = Sun 25 Oct 11:00 CET.
    assert add_minutes(ber(2026, 10, 24, 12, 0), 24 * 60) == ber(2026, 10, 25, 11, 0)
    # And working time across it: Fri 23 Oct 17:00 CEST + 60 -> Mon 26 Oct 09:00 CET (08:00 UTC).
    assert add_working_minutes(DE, ber(2026, 10, 23, 17, 0), 60) \
        == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_shanghai_and_berlin_see_the_same_instant_differently():
    # Mon 9 Mar 2026 07:00 UTC is 15:00 in Shanghai and 08:00 in Berlin (CET).
    instant = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
    # Shanghai: 15:00-17:30 = 150 of 225, Tue 08:30 + 75 = 09:45 (01:45 UTC).
    assert add_working_minutes(CN, instant, 225) == sh(2026, 3, 10, 9, 45)
    # Berlin: starts 08:30, 08:30-12:00 = 210, 13:30 + 15 = 13:45 CET (12:45 UTC).
    assert add_working_minutes(DE, instant, 225) == ber(2026, 3, 9, 13, 45)


def test_pauses_while_waiting_on_the_customer():
    # Calendar: started Mon 9 Mar 09:00, 24 h, paused Mon 10:00-15:00 (5 h): due Tue 14:00.
    # A pause after the due time (Tue 10:00) changes nothing: due Tue 09:00.
    assert add_minutes(sh(2026, 3, 9, 9, 0), 24 * 60,
                       [(sh(2026, 3, 10, 10, 0), sh(2026, 3, 10, 15, 0))]) == sh(2026, 3, 10, 9, 0)
    pause = [(sh(2026, 3, 9, 10, 0), sh(2026, 3, 9, 15, 0))]
    assert add_minutes(sh(2026, 3, 9, 9, 0), 24 * 60, pause) == sh(2026, 3, 10, 14, 0)
    # Working: started Mon 9 Mar 09:00, 225 min, paused 10:00-14:00 (working part 10:00-12:00
    # and 13:30-14:00 = 150). Unpaused: 09:00-12:00 = 180, 13:30 + 45 = 14:15. Paused:
    # 09:00-10:00 = 60, resume 14:00 + 165 = 16:45.
    pause = [(sh(2026, 3, 9, 10, 0), sh(2026, 3, 9, 14, 0))]
    assert add_working_minutes(CN, sh(2026, 3, 9, 9, 0), 225) == sh(2026, 3, 9, 14, 15)
    assert add_working_minutes(CN, sh(2026, 3, 9, 9, 0), 225, pause) == sh(2026, 3, 9, 16, 45)
    assert working_minutes_between(CN, sh(2026, 3, 9, 9, 0), sh(2026, 3, 9, 16, 45), pause) == 225
    assert minutes_between(sh(2026, 3, 9, 9, 0), sh(2026, 3, 10, 14, 0),
                           [(sh(2026, 3, 9, 10, 0), sh(2026, 3, 9, 15, 0))]) == 24 * 60
    # An open pause (still waiting) never reaches the due time.
    with pytest.raises(CalendarError):
        add_working_minutes(CN, sh(2026, 3, 9, 9, 0), 225, [(sh(2026, 3, 9, 10, 0), None)])


def test_bad_settings_are_refused():
    with pytest.raises(CalendarError):
        parse_periods([["12:00", "08:30"]])
    with pytest.raises(CalendarError):
        parse_periods([["08:00", "12:00"], ["11:00", "13:00"]])
    with pytest.raises(CalendarError):
        parse_periods([["8h", "12:00"]])
    nothing = BusinessCalendar(timezone="Europe/Berlin", region=None, weekdays=frozenset())
    with pytest.raises(CalendarError):
        add_working_minutes(nothing, ber(2026, 3, 9, 9, 0), 10)
    with pytest.raises(ValueError):
        add_working_minutes(CN, datetime(2026, 3, 9, 9, 0), 10)


def test_tenant_calendar_from_settings(db, make_tenant):
    from portal.deadlines.calendar import calendar_for
    from portal.models import CalendarException
    from portal.tenancy import activate

    shanghai = make_tenant(timezone="Asia/Shanghai")
    berlin = make_tenant(timezone="Europe/Berlin",
                         settings={"working_hours": [["09:00", "17:00"]]})
    with activate(berlin):
        db.session.add(CalendarException(day=date(2026, 3, 28), working=True, note="stocktake"))
        db.session.flush()
        cal = calendar_for(berlin)
    with activate(shanghai):
        assert calendar_for(shanghai).region == "CN"
        assert calendar_for(shanghai).day_minutes == 450
    assert cal.region is None and cal.day_minutes == 480
    assert cal.is_working_day(date(2026, 3, 28))


def test_whole_days_by_their_total_agree_with_the_interval_walk():
    """The fast path (no pauses: whole days counted by their cached total) gives the same
    minutes as walking every interval, over spans from minutes to months, across holidays,
    make-up days, weekends and a tenant's own exceptions."""
    import random
    from datetime import UTC, datetime, timedelta

    from portal.deadlines.calendar import BusinessCalendar, working_minutes_between

    cal = BusinessCalendar(exceptions={date(2026, 5, 9): True, date(2026, 3, 4): False})
    never = [(datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 2, tzinfo=UTC))]
    rng = random.Random(7)
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(300):
        start = origin + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        end = start + timedelta(minutes=rng.choice([0, 7, 95, 600, 3000, 40_000, 150_000]))
        fast = working_minutes_between(cal, start, end)
        walked = working_minutes_between(cal, start, end, never)
        assert fast == pytest.approx(walked, abs=1e-6), (start, end)
        assert working_minutes_between(cal, end, start) == pytest.approx(-walked, abs=1e-6)

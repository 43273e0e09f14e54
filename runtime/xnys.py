"""The New York Stock Exchange's trading calendar in plain Python (no pandas, no numpy).

The Lambda package holds only the handler's needs, so the demo source and the daily
publication check cannot use exchange_calendars there. These are the exchange's published
rules (holidays with their weekend observance, 13:00 early closes, the unscheduled closures
since 2001); tests compare every day from 2005 to 2030 with exchange_calendars' XNYS.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Dict, FrozenSet, List

REGULAR_CLOSE = 16.0  # hours after midnight, America/New_York
EARLY_CLOSE = 13.0
OPEN = 9.5
FIRST_YEAR = 2001  # the unscheduled closures below are complete from here on

# Closed by proclamation or emergency (September 11; Reagan, Ford, Bush, Carter mourning days;
# Hurricane Sandy): no rule predicts these.
UNSCHEDULED_CLOSURES: FrozenSet[date] = frozenset({
    date(2001, 9, 11), date(2001, 9, 12), date(2001, 9, 13), date(2001, 9, 14),
    date(2004, 6, 11), date(2007, 1, 2), date(2012, 10, 29), date(2012, 10, 30),
    date(2018, 12, 5), date(2025, 1, 9),
})
UNSCHEDULED_EARLY_CLOSES: FrozenSet[date] = frozenset({date(2003, 12, 26)})


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (Monday=0) of the month; n=-1 for the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _observed(day: date, saturday_to_friday: bool = True) -> List[date]:
    """A fixed-date holiday on a weekend moves to Friday (from Saturday) or Monday (Sunday)."""
    if day.weekday() == 5:
        return [day - timedelta(days=1)] if saturday_to_friday else []
    if day.weekday() == 6:
        return [day + timedelta(days=1)]
    return [day]


@lru_cache(maxsize=64)
def holidays(year: int) -> FrozenSet[date]:
    """Full-day closures in `year` (weekends aside)."""
    days: List[date] = []
    # New Year's Day on a Saturday is not observed on the Friday before (the year-end close).
    days += _observed(date(year, 1, 1), saturday_to_friday=False)
    days += [_nth_weekday(year, 1, 0, 3), _nth_weekday(year, 2, 0, 3)]  # MLK, Washington
    days.append(easter(year) - timedelta(days=2))  # Good Friday
    days.append(_nth_weekday(year, 5, 0, -1))  # Memorial Day
    if year >= 2022:
        days += _observed(date(year, 6, 19))  # Juneteenth
    days += _observed(date(year, 7, 4))
    days.append(_nth_weekday(year, 9, 0, 1))  # Labor Day
    days.append(_nth_weekday(year, 11, 3, 4))  # Thanksgiving
    days += _observed(date(year, 12, 25))
    days += [d for d in UNSCHEDULED_CLOSURES if d.year == year]
    return frozenset(days)


@lru_cache(maxsize=64)
def early_closes(year: int) -> FrozenSet[date]:
    """Sessions that close at 13:00 ET in `year`."""
    days: List[date] = [_nth_weekday(year, 11, 3, 4) + timedelta(days=1)]  # after Thanksgiving
    july3 = date(year, 7, 3)
    # The day before Independence Day; a Wednesday only since 2013, when the Friday after a
    # Thursday holiday stopped closing early.
    if july3.weekday() in (0, 1, 3) or (july3.weekday() == 2 and year >= 2013):
        days.append(july3)
    july5 = date(year, 7, 5)
    if july5.weekday() == 4 and year < 2013:
        days.append(july5)
    christmas_eve = date(year, 12, 24)
    if christmas_eve.weekday() < 4:
        days.append(christmas_eve)
    days += [d for d in UNSCHEDULED_EARLY_CLOSES if d.year == year]
    return frozenset(d for d in days if is_session(d))


def is_session(day: date) -> bool:
    """True when the exchange trades on `day`."""
    if day.year < FIRST_YEAR:
        raise ValueError(f"the XNYS calendar here starts in {FIRST_YEAR}, not {day}")
    return day.weekday() < 5 and day not in holidays(day.year)


def close_hour(day: date) -> float:
    """The session's close in hours after midnight ET (16.0, or 13.0 on an early close)."""
    if not is_session(day):
        raise ValueError(f"{day} is not an XNYS session (weekend or holiday)")
    return EARLY_CLOSE if day in early_closes(day.year) else REGULAR_CLOSE


def sessions(first: date, last: date) -> List[date]:
    """Every session from `first` to `last`, both included."""
    out, day = [], first
    while day <= last:
        if is_session(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def session_closes(first: date, last: date) -> Dict[date, float]:
    """{session: close hour ET} for every session from `first` to `last`."""
    return {d: close_hour(d) for d in sessions(first, last)}


def new_york_date(moment: datetime) -> date:
    """The America/New_York calendar date of an aware (or naive UTC) moment."""
    from zoneinfo import ZoneInfo

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo("America/New_York")).date()

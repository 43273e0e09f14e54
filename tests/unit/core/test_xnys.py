"""The plain-Python XNYS calendar agrees with exchange_calendars day by day."""

from __future__ import annotations

from datetime import date

import pytest

from runtime import xnys


def test_every_session_and_close_from_2005_to_2030_matches_exchange_calendars():
    import exchange_calendars as xcals

    cal = xcals.get_calendar("XNYS", start="2005-01-01", end="2030-12-31")
    expected = {}
    for session, close in cal.closes.items():
        local = close.tz_convert("America/New_York")
        expected[session.date()] = local.hour + local.minute / 60
    assert xnys.session_closes(date(2005, 1, 1), date(2030, 12, 31)) == expected


@pytest.mark.parametrize(("day", "session", "close"), [
    (date(2026, 11, 26), False, None),   # Thanksgiving
    (date(2026, 11, 27), True, 13.0),    # the day after closes early
    (date(2026, 4, 3), False, None),     # Good Friday (Easter 2026-04-05)
    (date(2027, 6, 18), False, None),    # Juneteenth on a Saturday, observed Friday
    (date(2022, 12, 31), False, None),   # a Saturday; New Year's Day is not moved to Friday
    (date(2025, 1, 9), False, None),     # national day of mourning (unscheduled)
    (date(2026, 12, 24), True, 13.0),
    (date(2026, 12, 1), True, 16.0),
])
def test_known_days(day, session, close):
    assert xnys.is_session(day) is session
    if session:
        assert xnys.close_hour(day) == close
    else:
        with pytest.raises(ValueError, match="not an XNYS session"):
            xnys.close_hour(day)


def test_easter_dates():
    assert [xnys.easter(y) for y in (2024, 2025, 2026, 2038)] == [
        date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5), date(2038, 4, 25)]


def test_days_before_the_covered_range_are_refused():
    with pytest.raises(ValueError, match="starts in 2001"):
        xnys.is_session(date(1999, 12, 31))

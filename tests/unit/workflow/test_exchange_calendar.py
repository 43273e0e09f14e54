"""The exchange-calendar inputs of the warning checks: sessions, early closes, DST."""

from __future__ import annotations

from datetime import date, datetime, timezone

from runtime import exchange_calendar


def test_expected_hours_follow_holidays_and_early_closes():
    # Thanksgiving week 2026 (EST = UTC-5): Mon-Wed full days 09:00-15:00 ET (7 bars each),
    # Thu 26th closed, Fri 27th closes 13:00 ET (09:00-12:00 ET, 4 bars).
    hours = exchange_calendar.expected_session_hours(
        date(2026, 11, 23), date(2026, 11, 27), datetime(2026, 11, 30, tzinfo=timezone.utc)
    )
    assert len(hours) == 7 * 3 + 4
    assert hours[0] == datetime(2026, 11, 23, 14, 0)
    assert hours[6] == datetime(2026, 11, 23, 20, 0)
    assert hours[-4:] == [datetime(2026, 11, 27, h, 0) for h in (14, 15, 16, 17)]
    assert not [h for h in hours if h.day == 26]


def test_expected_hours_use_daylight_saving_time():
    # 2026-03-09 is the first Monday after DST starts: 09:00 EDT = 13:00 UTC.
    hours = exchange_calendar.expected_session_hours(
        date(2026, 3, 9), date(2026, 3, 9), datetime(2026, 3, 10, tzinfo=timezone.utc)
    )
    assert hours == [datetime(2026, 3, 9, h, 0) for h in range(13, 20)]


def test_expected_hours_skip_a_session_that_has_not_closed():
    # 2026-11-25 18:00 UTC is 13:00 ET, before the 16:00 close.
    hours = exchange_calendar.expected_session_hours(
        date(2026, 11, 24), date(2026, 11, 25), datetime(2026, 11, 25, 18, tzinfo=timezone.utc)
    )
    assert {h.day for h in hours} == {24}


def test_last_completed_session_respects_the_early_close():
    before = datetime(2026, 11, 27, 17, 59, tzinfo=timezone.utc)  # 12:59 ET
    after = datetime(2026, 11, 27, 18, 0, tzinfo=timezone.utc)  # 13:00 ET, the early close
    assert exchange_calendar.last_completed_session(before) == date(2026, 11, 25)
    assert exchange_calendar.last_completed_session(after) == date(2026, 11, 27)


def test_freshness_threshold_is_midnight_new_york_in_utc():
    assert exchange_calendar.session_start_utc(date(2026, 11, 25)) == datetime(2026, 11, 25, 5, 0)
    assert exchange_calendar.session_start_utc(date(2026, 7, 1)) == datetime(2026, 7, 1, 4, 0)

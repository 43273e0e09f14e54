"""The ingest window: yesterday in New York, whatever the UTC hour, across DST and New Year."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from runtime.errors import ConfigError
from runtime.window import (
    Window,
    default_window,
    ingest_window,
    parse_date,
    parse_window_day,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "now, expected_end",
    [
        # spring forward 2026-03-08 (07:00 UTC): 00:30 UTC is still the 7th in New York (EST)
        (utc(2026, 3, 8, 0, 30), date(2026, 3, 6)),
        (utc(2026, 3, 8, 23, 30), date(2026, 3, 7)),  # 19:30 EDT on the 8th
        (utc(2026, 3, 9, 0, 30), date(2026, 3, 7)),  # 20:30 EDT on the 8th
        # fall back 2026-11-01 (06:00 UTC)
        (utc(2026, 11, 1, 0, 30), date(2026, 10, 30)),  # 20:30 EDT on Oct 31
        (utc(2026, 11, 1, 23, 30), date(2026, 10, 31)),  # 18:30 EST on Nov 1
        (utc(2026, 11, 2, 0, 30), date(2026, 10, 31)),  # 19:30 EST on Nov 1
        # New Year
        (utc(2026, 12, 31, 23, 30), date(2026, 12, 30)),
        (utc(2027, 1, 1, 0, 30), date(2026, 12, 30)),  # 19:30 EST on Dec 31
        (utc(2027, 1, 1, 23, 30), date(2026, 12, 31)),
    ],
)
def test_end_is_yesterday_in_new_york(now: datetime, expected_end: date) -> None:
    w = ingest_window(now, 7)
    assert w.end == expected_end
    assert (w.end - w.start).days == 7


def test_new_york_midnight_not_utc_midnight_turns_the_day() -> None:
    # winter: New York is UTC-5, so its day starts at 05:00 UTC
    assert ingest_window(utc(2026, 11, 2, 4, 59), 1).end == date(2026, 10, 31)
    assert ingest_window(utc(2026, 11, 2, 5, 0), 1).end == date(2026, 11, 1)
    # summer: UTC-4, the day starts at 04:00 UTC
    assert ingest_window(utc(2026, 7, 2, 3, 59), 1).end == date(2026, 6, 30)
    assert ingest_window(utc(2026, 7, 2, 4, 0), 1).end == date(2026, 7, 1)


def test_window_across_new_year_spans_both_years() -> None:
    w = ingest_window(utc(2027, 1, 3, 16, 0), 7)
    assert (w.start, w.end) == (date(2026, 12, 26), date(2027, 1, 2))
    assert w.days == 8
    assert list(w.dates())[:2] == [date(2026, 12, 26), date(2026, 12, 27)]


def test_naive_now_is_taken_as_utc() -> None:
    assert ingest_window(datetime(2026, 11, 1, 0, 30), 7).end == date(2026, 10, 30)


def test_explicit_end_date_wins_and_future_is_refused() -> None:
    now = utc(2026, 11, 29, 12)
    w = ingest_window(now, 3, end_date=date(2026, 11, 27))
    assert (w.start, w.end) == (date(2026, 11, 24), date(2026, 11, 27))
    assert ingest_window(now, 1, end_date=date(2026, 11, 29)).end == date(2026, 11, 29)
    with pytest.raises(ConfigError, match="end date 2026-11-30 is in the future"):
        ingest_window(now, 3, end_date=date(2026, 11, 30))


@pytest.mark.parametrize("days", [0, -1, True, 2.5, "7"])
def test_days_must_be_a_positive_whole_number(days: object) -> None:
    with pytest.raises(ConfigError, match="days must be a whole number"):
        ingest_window(utc(2026, 11, 29), days)  # type: ignore[arg-type]


def test_parse_date_names_the_bad_value() -> None:
    assert parse_date("2026-11-27") == date(2026, 11, 27)
    with pytest.raises(ConfigError, match="end date must be YYYY-MM-DD, got '27/11/2026'"):
        parse_date("27/11/2026")


def test_window_start_after_end_is_refused() -> None:
    with pytest.raises(ConfigError, match="after its end"):
        Window(date(2026, 11, 2), date(2026, 11, 1))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2026-11-20", date(2026, 11, 20)), ("1763596800000", date(2025, 11, 20)), ("junk", None),
     (None, None)],
)
def test_parse_window_day(raw, expected):
    assert parse_window_day(raw) == expected


def test_default_window_ends_on_the_utc_date_of_now():
    # 23:30 naive is taken as UTC: still the 20th, whatever New York's date.
    assert default_window(datetime(2026, 11, 20, 23, 30), 3) == (
        date(2026, 11, 17), date(2026, 11, 20)
    )
    assert default_window(utc(2026, 11, 21, 0, 30), 1) == (date(2026, 11, 20), date(2026, 11, 21))


def test_a_one_day_window_covers_its_single_date() -> None:
    w = Window(date(2026, 11, 20), date(2026, 11, 20))
    assert (w.days, list(w.dates())) == (1, [date(2026, 11, 20)])


def test_window_dates_include_both_ends() -> None:
    w = ingest_window(utc(2026, 11, 29, 12), 2, end_date=date(2026, 11, 27))
    assert list(w.dates()) == [date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)]
    assert w.days == 3


def test_an_end_given_as_a_datetime_is_refused() -> None:
    # A datetime is a date subclass; its time of day would be silently dropped.
    with pytest.raises(ConfigError, match="end date must be a date"):
        ingest_window(utc(2026, 11, 29, 12), 3, end_date=datetime(2026, 11, 27, 23, 0))

"""Check discovery, SQL rendering guards and the exchange-calendar inputs of the warning checks."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from runtime import checks
from runtime.errors import ConfigError, IdentifierError


def test_every_design_check_has_a_file_with_its_severity():
    found = {c.name: c.severity for c in checks.all_checks()}
    assert found == {
        "bar_time_range": "error",
        "duplicate_keys": "error",
        "duplicate_rows": "error",
        "empty_table": "error",
        "freshness": "warning",
        "missing_session_hours": "warning",
        "negative_values": "error",
        "non_finite_values": "error",
        "null_values": "error",
        "ohlc_consistency": "error",
        "raw_parquet_row_count": "error",
        "ticker_format": "error",
        "zero_values": "error",
    }


def test_render_refuses_a_missing_slot():
    with pytest.raises(ConfigError, match="needs a value for 'table'"):
        checks.render("count_rows.sql")


def test_render_fills_identifiers():
    assert checks.render("count_rows.sql", table="t_x") == "SELECT count(*) AS row_count FROM t_x"


def test_slots_lists_braced_and_bare_names_but_not_escaped_dollars(monkeypatch):
    monkeypatch.setattr(
        checks, "sql_text", lambda name: "SELECT $a, ${b}, '$$c', ${b} FROM ${table}"
    )
    assert checks.slots("any.sql") == {"a", "b", "table"}


def test_slots_of_the_calendar_checks():
    assert checks.slots("checks/freshness.sql") == {
        "fresh_since", "sans_dup_table", "expected_tickers", "checked_at"
    }
    assert "expected_hours" in checks.slots("checks/missing_session_hours.sql")
    assert checks.slots("checks/zero_values.sql") == {"sans_dup_table"}


@pytest.mark.parametrize("uri", ["s3://b/x'; DROP TABLE y; --/", "/tmp/a\\b/", "", "/tmp/a\nb/"])
def test_sql_uri_refuses_quotes_and_control_characters(uri):
    with pytest.raises(ConfigError):
        checks.sql_uri(uri)


def test_ticker_values_keep_dots_and_end_with_a_null_row():
    assert checks.ticker_values(["AAPL", "BRK.B"]) == (
        "('AAPL'), ('BRK.B'), (CAST(NULL AS varchar))"
    )


def test_ticker_values_refuse_a_quote():
    with pytest.raises(IdentifierError):
        checks.ticker_values(["AA'PL"])


def test_timestamp_literal_converts_aware_times_to_utc():
    moment = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    assert checks.timestamp_literal(moment) == "2026-11-20 09:00:00.000"
    assert checks.hour_values([datetime(2026, 11, 20, 14)]) == (
        "(TIMESTAMP '2026-11-20 14:00:00.000'), (CAST(NULL AS timestamp))"
    )
    assert checks.hour_values([]) == "(CAST(NULL AS timestamp))"


def test_expected_hours_follow_holidays_and_early_closes():
    # Thanksgiving week 2026 (EST = UTC-5): Mon-Wed full days 09:00-15:00 ET (7 bars each),
    # Thu 26th closed, Fri 27th closes 13:00 ET (09:00-12:00 ET, 4 bars).
    hours = checks.expected_session_hours(
        date(2026, 11, 23), date(2026, 11, 27), datetime(2026, 11, 30, tzinfo=timezone.utc)
    )
    assert len(hours) == 7 * 3 + 4
    assert hours[0] == datetime(2026, 11, 23, 14, 0)
    assert hours[6] == datetime(2026, 11, 23, 20, 0)
    assert hours[-4:] == [datetime(2026, 11, 27, h, 0) for h in (14, 15, 16, 17)]
    assert not [h for h in hours if h.day == 26]


def test_expected_hours_use_daylight_saving_time():
    # 2026-03-09 is the first Monday after DST starts: 09:00 EDT = 13:00 UTC.
    hours = checks.expected_session_hours(
        date(2026, 3, 9), date(2026, 3, 9), datetime(2026, 3, 10, tzinfo=timezone.utc)
    )
    assert hours == [datetime(2026, 3, 9, h, 0) for h in range(13, 20)]


def test_expected_hours_skip_a_session_that_has_not_closed():
    # 2026-11-25 18:00 UTC is 13:00 ET, before the 16:00 close.
    hours = checks.expected_session_hours(
        date(2026, 11, 24), date(2026, 11, 25), datetime(2026, 11, 25, 18, tzinfo=timezone.utc)
    )
    assert {h.day for h in hours} == {24}


def test_last_completed_session_respects_the_early_close():
    before = datetime(2026, 11, 27, 17, 59, tzinfo=timezone.utc)  # 12:59 ET
    after = datetime(2026, 11, 27, 18, 0, tzinfo=timezone.utc)  # 13:00 ET, the early close
    assert checks.last_completed_session(before) == date(2026, 11, 25)
    assert checks.last_completed_session(after) == date(2026, 11, 27)


def test_freshness_threshold_is_midnight_new_york_in_utc():
    assert checks.session_start_utc(date(2026, 11, 25)) == datetime(2026, 11, 25, 5, 0)
    assert checks.session_start_utc(date(2026, 7, 1)) == datetime(2026, 7, 1, 4, 0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2026-11-20", date(2026, 11, 20)), ("1763596800000", date(2025, 11, 20)), ("junk", None),
     (None, None)],
)
def test_parse_window_day(raw, expected):
    assert checks.parse_window_day(raw) == expected


def test_timestamp_literal_of_a_whole_second_still_has_milliseconds():
    # TIMESTAMP '... 12:00:05' is timestamp(0), which Athena's CTAS refuses to write.
    whole = datetime(2026, 11, 21, 12, 0, 5, tzinfo=timezone.utc)
    assert checks.timestamp_literal(whole) == "2026-11-21 12:00:05.000"
    under_a_ms = datetime(2026, 11, 21, 12, 0, 5, 999)
    assert checks.timestamp_literal(under_a_ms) == "2026-11-21 12:00:05.000"


def test_timestamp_literal_keeps_milliseconds_only():
    moment = datetime(2026, 11, 21, 12, 0, 5, 123456, tzinfo=timezone.utc)
    assert checks.timestamp_literal(moment) == "2026-11-21 12:00:05.123"

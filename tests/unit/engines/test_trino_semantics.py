"""The local engine gives Trino's answers for Athena SQL that DuckDB would read differently.

Hand-worked expectations for sql/trino_semantics.sql:
- t=1577941200000 ms is 2020-01-02 05:00:00 UTC; New York is on EST (UTC-5) in January, so the
  exchange hour is 2020-01-02 00:00 -> day_hour_partition '2020-01-02-00'.
- t=1578027600000 is one day later: 2020-01-03 05:00 UTC -> '2020-01-03-00'.
- t=1593655200000: 2020-07-02 00:00 UTC is 1593648000 s (1577836800 for 2020-01-01 plus 183 days
  of 86400 s), plus 2 h = 1593655200 s -> 2020-07-02 02:00 UTC. New York is on EDT (UTC-4) in
  July -> 2020-07-01 22:00, so the partition is on the previous day: '2020-07-01-22'.
- Trino's round(double, n) is Math.round(x * 10^n) / 10^n, mirrored for negatives:
  74.6099E0 * 100 = 7460.99 -> 7461 -> 74.61;
  1.005E0 is stored as 1.00499999999999989..., * 100 = 100.49999999999999 -> 100 -> 1.0;
  2.345E0 is stored as 2.34500000000000019..., * 100 = 234.50000000000003 -> 235 -> 2.35;
  round(-2.5E0) = -(Math.round(2.5)) = -3.0 (half away from zero).
  round(2.345, 2) on the DECIMAL literal rounds the exact decimal half up: 2.35.
- Integer division truncates toward zero: 7 / 2 = 3, -7 / 2 = -3, 135647456 / 2 = 67823728,
  146535512 / 2 = 73267756, 7 / 2 = 3.
- CAST(timestamp AS varchar) prints Trino's timestamp(3): '2020-01-02 05:00:00.000'.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from runtime.engines.local import joda_to_strftime
from runtime.errors import UnsupportedSQLError

SQL = Path(__file__).parent / "sql" / "trino_semantics.sql"


def test_athena_sql_file_gives_trino_values(engine):
    rows = engine.execute(SQL.read_text()).records()

    assert [r["day_hour_partition"] for r in rows] == [
        "2020-01-02-00",
        "2020-01-03-00",
        "2020-07-01-22",
    ]
    assert [r["bar_time"] for r in rows] == [
        datetime(2020, 1, 2, 5, 0),
        datetime(2020, 1, 3, 5, 0),
        datetime(2020, 7, 2, 2, 0),
    ]
    assert rows[0]["bar_time_tz"] == datetime(2020, 1, 2, 5, 0, tzinfo=timezone.utc)
    assert rows[0]["bar_time_text"] == "2020-01-02 05:00:00.000"
    assert [r["utc_text"] for r in rows] == [
        "2020-01-02 05:00:00",
        "2020-01-03 05:00:00",
        "2020-07-02 02:00:00",
    ]
    assert [r["vwap"] for r in rows] == [74.61, 1.0, 2.35]
    assert all(isinstance(r["vwap"], float) for r in rows)
    assert rows[0]["decimal_round"] == Decimal("2.35")
    # 75.145E0 * 100 is exactly 7514.5 in binary, so Math.round gives 7515: 75.15 (DuckDB's
    # own round(double, 2) says 75.14); negatives mirror.
    assert rows[0]["double_round_binary_half"] == 75.15
    assert rows[0]["negative_double_round_binary_half"] == -75.15
    assert rows[0]["negative_half"] == -3.0
    assert [r["half_volume"] for r in rows] == [67823728, 73267756, 3]
    assert rows[0]["seven_halves"] == 3 and isinstance(rows[0]["seven_halves"], int)
    assert rows[0]["minus_seven_halves"] == -3
    assert [r["volume_text"] for r in rows] == ["135647456", "146535512", "7"]
    assert [r["recency"] for r in rows] == [3, 2, 1]
    assert [r["previous_t"] for r in rows] == [None, 1577941200000, 1578027600000]


def test_from_unixtime_of_fractional_seconds_keeps_milliseconds(engine):
    row = engine.execute(
        "SELECT CAST(from_unixtime(1577941200123 / 1000E0) AS timestamp) AS ts, "
        "to_unixtime(from_unixtime(1577941200123 / 1000E0)) AS back"
    ).records()[0]

    assert row["ts"] == datetime(2020, 1, 2, 5, 0, 0, 123000)
    assert row["back"] == pytest.approx(1577941200.123, abs=1e-6)


def test_integer_division_of_ms_drops_the_remainder_like_trino(engine):
    # bigint / bigint is bigint in Trino: 1577941200123 / 1000 = 1577941200.
    row = engine.execute("SELECT 1577941200123 / 1000 AS s, 1577941200123 / 1000E0 AS f").rows[0]

    assert row == (1577941200, 1577941200.123)


def test_date_trunc_approx_distinct_and_current_timestamp_translate(engine):
    row = engine.execute(
        "SELECT date_trunc('hour', TIMESTAMP '2020-01-02 05:42:10') AS h, "
        "approx_distinct(x) AS d, "
        "current_timestamp > TIMESTAMP '2020-01-01 00:00:00' AS now_is_later "
        "FROM (VALUES 1, 2, 2, 3) AS t (x)"
    ).records()[0]

    assert row == {"h": datetime(2020, 1, 2, 5, 0), "d": 3, "now_is_later": True}


def test_at_time_zone_on_a_plain_timestamp_reads_it_as_utc(engine):
    # Athena's session zone is UTC: 2020-07-02 02:00 UTC is 2020-07-01 22:00 in New York (EDT).
    value = engine.execute(
        "SELECT format_datetime(TIMESTAMP '2020-07-02 02:00:00' AT TIME ZONE 'America/New_York', "
        "'yyyy-MM-dd HH:mm') AS v"
    ).scalar()

    assert value == "2020-07-01 22:00"


def test_at_time_zone_utc_gives_the_utc_wall_clock_of_every_instant(engine):
    # The local engine computes AT TIME ZONE 'UTC' from epoch microseconds instead of ICU; the
    # result must equal the ICU path for offsets, DST days, microseconds, NULL and the epoch.
    rows = engine.execute(
        "SELECT CAST(from_iso8601_timestamp(s) AT TIME ZONE 'UTC' AS timestamp) AS utc, "
        "CAST(from_iso8601_timestamp(s) AT TIME ZONE 'utc' AS timestamp) AS lower_case, "
        "CAST(from_unixtime(CAST(1794560400123 AS double) / 1000.0) AT TIME ZONE 'UTC' "
        "AS timestamp) AS from_ms "
        "FROM (VALUES '2026-03-08T01:30:00.123456-05:00', '2026-11-01T01:30:00-04:00', "
        "'1970-01-01T00:00:00Z', '1900-01-01T00:00:00+01:00', CAST(NULL AS varchar)) AS t (s)"
    ).rows

    assert [r[0] for r in rows] == [
        datetime(2026, 3, 8, 6, 30, 0, 123456),
        datetime(2026, 11, 1, 5, 30),
        datetime(1970, 1, 1, 0, 0),
        datetime(1899, 12, 31, 23, 0),
        None,
    ]
    assert [r[1] for r in rows] == [r[0] for r in rows]
    assert rows[0][2] == datetime(2026, 11, 13, 9, 0, 0, 123000)


@pytest.mark.parametrize(
    "joda, strftime",
    [
        ("yyyy-MM-dd-HH", "%Y-%m-%d-%H"),
        ("yy/M/d H:m:s", "%y/%-m/%-d %-H:%-M:%-S"),
        ("yyyy-MM-dd HH:mm:ss.SSS", "%Y-%m-%d %H:%M:%S.%g"),
        ("EEE, MMM d hh a", "%a, %b %-d %I %p"),
        ("EEEE MMMM", "%A %B"),
        ("'week' D '%' ''", "week %-j %% '"),
    ],
)
def test_joda_patterns_become_strftime(joda, strftime):
    assert joda_to_strftime(joda) == strftime


def test_format_datetime_with_literal_text_and_month_name(engine):
    value = engine.execute(
        "SELECT format_datetime(TIMESTAMP '2020-01-02 05:06:07', 'MMM d, yyyy ''at'' h a') AS v"
    ).scalar()

    assert value == "Jan 2, 2020 at 5 AM"


def test_unsupported_joda_field_is_refused_by_name():
    with pytest.raises(UnsupportedSQLError, match="'ww'"):
        joda_to_strftime("yyyy-ww")


def test_format_datetime_needs_a_constant_pattern(engine):
    with pytest.raises(UnsupportedSQLError, match="constant Joda pattern"):
        engine.execute("SELECT format_datetime(current_timestamp, x) FROM (VALUES 'yyyy') AS t (x)")


def test_iso8601_parse_datetime_and_with_timezone_follow_trino(engine):
    row = engine.execute(
        "SELECT to_iso8601(TIMESTAMP '2020-01-02 05:00:00') AS plain, "
        "to_iso8601(from_unixtime(1577941200)) AS zoned, "
        "to_iso8601(DATE '2020-01-02') AS day, "
        "parse_datetime('2020-01-02 05', 'yyyy-MM-dd HH') AS parsed, "
        "with_timezone(TIMESTAMP '2020-07-01 22:00:00', 'America/New_York') AS ny"
    ).records()[0]

    assert row["plain"] == "2020-01-02T05:00:00.000"
    assert row["zoned"] == "2020-01-02T05:00:00.000Z"
    assert row["day"] == "2020-01-02"
    assert row["parsed"] == datetime(2020, 1, 2, 5, 0, tzinfo=timezone.utc)
    # 22:00 EDT (UTC-4) on 2020-07-01 is 02:00 UTC on 2020-07-02.
    assert row["ny"] == datetime(2020, 7, 2, 2, 0, tzinfo=timezone.utc)


def test_min_by_and_max_by_keep_a_null_value_of_the_extreme_row_like_trino(engine):
    # Trino returns x of the row with the smallest (largest) y, NULL included; rows whose y is
    # NULL are ignored. DuckDB's arg_min/arg_max would skip the NULL x and answer 2.0.
    row = engine.execute(
        "SELECT min_by(x, t), max_by(x, t), min_by(x, u), max_by(x, u) FROM (VALUES "
        "(CAST(NULL AS double), 1, 5), (2e0, 2, CAST(NULL AS integer)), "
        "(CAST(NULL AS double), 3, 1), (4e0, CAST(NULL AS integer), 9)) AS v (x, t, u)"
    ).rows[0]
    assert tuple(row) == (None, None, None, 4.0)

"""The local engine's Trino rewrites on table columns and whole statements, where the ported
upstream cases (tests/conformance) only use constants: zones kept through a query, dates kept
as dates, and refusals that name the function.

Hand-worked values:
- 1593655200 s is 2020-07-02 02:00:00 UTC; New York is on EDT (UTC-4) in July -> 22:00 the
  day before; Tokyo is UTC+9 all year -> 11:00.
- date_add('day', 1, DATE '2020-01-31') = 2020-02-01; + INTERVAL '1' MONTH from 2020-01-31 is
  2020-02-29 (2020 is a leap year; the month end is kept, as Trino's plusMonths does).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from runtime.engines.local import trino_zones
from runtime.errors import DiffersFromAthenaError, EngineError

DAY_TABLE = "(VALUES DATE '2020-01-31', DATE '2020-02-29') AS t (d)"


def test_date_column_arithmetic_stays_a_date(engine):
    rows = engine.execute(
        f"SELECT date_add('day', 1, d), d + INTERVAL '1' MONTH, date_trunc('month', d), "
        f"d - INTERVAL '7' DAY FROM {DAY_TABLE}"
    ).rows

    assert rows == [
        (date(2020, 2, 1), date(2020, 2, 29), date(2020, 1, 1), date(2020, 1, 24)),
        (date(2020, 3, 1), date(2020, 3, 29), date(2020, 2, 1), date(2020, 2, 22)),
    ]
    assert all(type(v) is date for row in rows for v in row)


def test_timestamp_column_arithmetic_stays_a_timestamp(engine):
    value = engine.execute(
        "SELECT date_add('hour', 2, ts) FROM (VALUES TIMESTAMP '2020-01-31 05:00:00') AS t (ts)"
    ).scalar()

    assert value == datetime(2020, 1, 31, 7, 0)


def test_hours_added_to_a_date_column_fail_as_in_athena(engine):
    with pytest.raises(EngineError, match="Cannot add hour, minutes or seconds to a date"):
        engine.execute(f"SELECT d + INTERVAL '2' HOUR FROM {DAY_TABLE}")


def test_result_column_is_shown_in_its_zone(engine):
    row = engine.execute(
        "SELECT from_unixtime(1593655200, 'Asia/Tokyo') AS tokyo, "
        "from_unixtime(1593655200) AT TIME ZONE 'America/New_York' AS ny, "
        "from_unixtime(1593655200, 5, 30) AS offset"
    ).records()[0]

    assert row["tokyo"] == datetime(2020, 7, 2, 11, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert row["tokyo"].tzinfo.key == "Asia/Tokyo"
    assert row["ny"].tzinfo.key == "America/New_York"
    assert (row["ny"].hour, row["ny"].day) == (22, 1)
    assert row["offset"].utcoffset() == timedelta(hours=5, minutes=30)
    assert row["offset"] == datetime(2020, 7, 2, 2, 0, tzinfo=timezone.utc)


def test_wall_clock_fields_are_read_in_the_values_zone(engine):
    ny = "from_unixtime(1593655200) AT TIME ZONE 'America/New_York'"
    row = engine.execute(
        f"SELECT hour({ny}) AS h, day({ny}) AS d, CAST({ny} AS timestamp) AS plain, "
        f"to_unixtime({ny}) AS epoch"
    ).records()[0]

    assert (row["h"], row["d"]) == (22, 1)
    assert row["plain"] == datetime(2020, 7, 1, 22, 0)
    # AT TIME ZONE changes how the instant is shown, never the instant.
    assert row["epoch"] == 1593655200.0


def test_panel_partition_bound_reads_the_utc_macro_value_in_exchange_time(engine):
    # The dashboard's pattern: a UTC timestamp literal, read as UTC, shown in New York.
    value = engine.execute(
        "SELECT format_datetime(TIMESTAMP '2020-07-02 02:00:00' AT TIME ZONE 'UTC' "
        "AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')"
    ).scalar()

    assert value == "2020-07-01-22"


def test_zoned_value_leaving_a_subquery_is_refused_by_name(engine):
    with pytest.raises(DiffersFromAthenaError, match="America/New_York leaving a subquery"):
        engine.execute(
            "WITH t AS (SELECT from_unixtime(0) AT TIME ZONE 'America/New_York' AS z) "
            "SELECT hour(z) FROM t"
        )


def test_iso8601_column_must_be_converted_before_it_is_shown(engine):
    sql = "SELECT {} FROM (VALUES '2020-01-01T00:00:00+01:00') AS t (s)"

    with pytest.raises(DiffersFromAthenaError, match=r"from_iso8601_timestamp\(column\)"):
        engine.execute(sql.format("from_iso8601_timestamp(s)"))
    converted = engine.execute(
        sql.format("CAST(from_iso8601_timestamp(s) AT TIME ZONE 'UTC' AS timestamp)")
    ).scalar()
    assert converted == datetime(2019, 12, 31, 23, 0)


def test_iso8601_column_fields_are_read_in_each_rows_own_offset(engine):
    # Trino keeps each value's offset: 05:06 at +01:00 has hour 5; its UTC wall clock is 04:06.
    rows = engine.execute(
        "SELECT hour(from_iso8601_timestamp(s)), CAST(from_iso8601_timestamp(s) AS timestamp), "
        "CAST(from_iso8601_timestamp(s) AT TIME ZONE 'UTC' AS timestamp) "
        "FROM (VALUES '2020-01-01T05:06:07.123+01:00', '2020-01-01T05:06:07Z') AS t (s)"
    ).rows

    assert rows == [
        (5, datetime(2020, 1, 1, 5, 6, 7, 123000), datetime(2020, 1, 1, 4, 6, 7, 123000)),
        (5, datetime(2020, 1, 1, 5, 6, 7), datetime(2020, 1, 1, 5, 6, 7)),
    ]


@pytest.mark.parametrize(
    "sql, function",
    [
        ("SELECT from_unixtime_nanos(100)", "from_unixtime_nanos"),
        ("SELECT parse_duration('1h')", "parse_duration"),
        ("SELECT date_parse(s, '%Y-%m-%d %h') FROM (VALUES '2020-01-01 12') AS t (s)",
         "date_parse"),
        ("SELECT replace(s, p, 'x') FROM (VALUES ('abc', '')) AS t (s, p)", "replace"),
        ("SELECT CAST(s AS char(3)) = 'a' FROM (VALUES 'a') AS t (s)", "char(n)"),
    ],
)
def test_refusal_names_the_function_and_says_athena_differs(engine, sql, function):
    with pytest.raises(DiffersFromAthenaError) as caught:
        engine.execute(sql)

    assert function in str(caught.value)
    assert "differs from Athena" in str(caught.value)


def test_refusal_while_reading_rows_is_a_differs_from_athena_error(engine):
    # Up to 6 digits of %f are read exactly; more are refused for the row that has them.
    sql = "SELECT date_parse(s, '%Y %s.%f') FROM (VALUES '2020 1.{}') AS t (s)"

    assert engine.execute(sql.format("25")).scalar() == datetime(2020, 1, 1, 0, 0, 1, 250000)
    with pytest.raises(DiffersFromAthenaError, match="more than 6 digits"):
        engine.execute(sql.format("1234567"))


def test_column_rounding_and_decimal_scale_follow_trino(engine):
    row = engine.execute(
        "SELECT round(v, -2) AS hundreds, truncate(DECIMAL '1234.56', 1) AS cut, "
        "round(DECIMAL '3.449', 1) AS kept, DECIMAL '12345678901234567890.123' AS wide "
        "FROM (VALUES 12355) AS t (v)"
    ).records()[0]

    assert row["hundreds"] == 12400 and isinstance(row["hundreds"], int)
    assert str(row["cut"]) == "1234.50"
    assert str(row["kept"]) == "3.400"
    assert row["wide"] == Decimal("12345678901234567890.123")


def test_varchar_length_cuts_strings_and_refuses_other_values_that_do_not_fit(engine):
    cut = engine.execute("SELECT CAST(s AS varchar(3)) FROM (VALUES 'abcdef') AS t (s)").scalar()

    assert cut == "abc"
    with pytest.raises(EngineError, match="cannot be represented as varchar"):
        engine.execute("SELECT CAST(d AS varchar(9)) FROM (VALUES DATE '2013-02-02') AS t (d)")


def test_division_of_doubles_by_zero_gives_infinity_and_nan(engine):
    row = engine.execute(
        "SELECT 1.0E0 / 0.0E0 AS inf, -1.0E0 / 0.0E0 AS ninf, 0.0E0 / 0.0E0 AS nan, "
        "a / 4 AS quarter FROM (VALUES 1.0E0) AS t (a)"
    ).rows[0]

    assert row[0] == float("inf") and row[1] == float("-inf")
    assert row[2] != row[2]  # NaN
    assert row[3] == 0.25


def test_division_by_a_zero_double_column_fails_loudly(engine):
    # Known difference (docs/sql-conformance.md): the column types are only known to DuckDB,
    # which fails where Athena gives Infinity; an error, never a different value.
    with pytest.raises(EngineError, match="Division by zero"):
        engine.execute("SELECT a / b FROM (VALUES (1.0E0, 0.0E0)) AS t (a, b)")


def test_zone_names_are_checked_and_spelled_as_trino_does():
    assert trino_zones.normalize_zone("+7", "test") == "+07:00"
    assert trino_zones.normalize_zone("-05:45", "test") == "-05:45"
    assert trino_zones.normalize_zone("Z", "test") == "UTC"
    with pytest.raises(EngineError, match="'Mars/Olympus' is not a valid time zone"):
        trino_zones.normalize_zone("Mars/Olympus", "test")


def test_cast_of_null_to_varchar_is_a_plain_cast_and_stays_null(engine):
    # The text macro (timestamps with milliseconds, doubles as 2.0E0) is inlined by DuckDB at
    # each use; NULL has no text in any type, so the rows of a VALUES list (lineage, check
    # history) do not carry it.
    import sqlglot

    from runtime.engines.local import dialect

    node = sqlglot.parse_one("SELECT CAST(NULL AS varchar), CAST(1.5E0 AS varchar)",
                             read="athena")
    duck = dialect.transpile(node, engine.database)
    assert duck == "SELECT CAST(NULL AS TEXT), __SP_VARCHAR(1.5E0)"
    rows = engine.execute(
        "SELECT a, a || 'y' FROM (VALUES (CAST(NULL AS varchar)), (CAST('x' AS varchar))) "
        "AS t (a)").rows
    assert rows == [(None, None), ("x", "xy")]

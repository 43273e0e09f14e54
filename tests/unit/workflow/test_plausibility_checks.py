"""The plausibility checks (non_finite_values, bar_time_range, ticker_format) and freshness's
guard against future bars, clause by clause with each boundary, on the local engine: each case
is one deduplicated row, and the check's count says whether that row fails."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from runtime import errors, steps
from runtime.sql_files import render

CHECKED_AT = "2026-11-21 12:00:00.000"
GOOD = {
    "ticker": "'AAPL'",
    "bar_time": "TIMESTAMP '2026-11-20 15:00:00.000'",
    "bar_time_ms": "1795186800000",
    "open": "10.0", "high": "11.0", "low": "9.0", "close": "10.5",
    "volume": "1000.0", "vwap": "10.25", "transactions": "7",
    "ingested_at": "TIMESTAMP '2026-11-21 11:00:00.000'",
    "day_hour_partition": "'2026-11-20'",
}
TYPES = {"ticker": "varchar", "bar_time": "timestamp", "bar_time_ms": "bigint",
         "transactions": "bigint", "ingested_at": "timestamp", "day_hour_partition": "varchar"}
INF = "CAST('Infinity' AS double)"
MAX_DOUBLE = "1.7976931348623157E308"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from runtime.engines import make_engine
    from runtime.settings import Settings

    eng = make_engine(Settings(home=tmp_path_factory.mktemp("home"), tickers=("AAPL",)))
    yield eng
    eng.close()


def one_row(**changes: str) -> str:
    """A derived table of one sans-dup row: GOOD with `changes` (SQL expressions)."""
    values = dict(GOOD, **changes)
    cols = ", ".join(
        f"CAST({values[c]} AS {TYPES.get(c, 'double')}) AS {c}" for c in GOOD
    )
    return f"(SELECT {cols}) AS bars"


def failing(engine, check: str, **changes: str) -> int:
    sql = render(f"checks/{check}.sql", sans_dup_table=one_row(**changes),
                 checked_at=CHECKED_AT, fresh_since="2026-11-20 05:00:00.000",
                 expected_tickers="('AAPL'), (CAST(NULL AS varchar))",
                 partition_column="day_hour_partition", recent_day="2026-11-20")
    return int(engine.execute(sql).scalar())


def test_a_plausible_row_fails_none_of_the_checks(engine):
    for check in ("non_finite_values", "bar_time_range", "ticker_format", "freshness"):
        assert failing(engine, check) == 0, check


# ---- non_finite_values: one clause per column
@pytest.mark.parametrize("column", ["open", "high", "low", "close", "volume", "vwap"])
@pytest.mark.parametrize(
    "value, fails",
    [
        (INF, 1),
        (f"-{INF}", 1),
        ("CAST('NaN' AS double)", 1),
        (MAX_DOUBLE, 0),  # the largest finite double is finite
        (f"-{MAX_DOUBLE}", 0),
        ("NULL", 0),  # null_values counts it
    ],
)
def test_non_finite_values_fails_infinity_and_nan_in_each_column(engine, column, value, fails):
    assert failing(engine, "non_finite_values", **{column: value}) == fails


def test_a_finite_1e308_that_rounding_made_infinite_fails_non_finite_values(mini, helpers):
    # v: 1e308 is a finite number, so ingest keeps it; transform's rounding to cents scales it
    # by 100 and it becomes Infinity in the typed table.
    s = mini.settings
    mini.raw([helpers.bar(helpers.ms(2026, 11, 20, 15), v=1e308)])
    for name in ("crawl", "transform", "dedup"):
        getattr(steps, name)(s, mini.engine, mini.storage)
    assert mini.rows(f"SELECT volume FROM {s.sans_dup_table}") == [(float("inf"),)]
    result = steps.quality(s, mini.engine, mini.storage,
                           now=datetime(2026, 11, 21, 12, tzinfo=timezone.utc))
    assert [c.name for c in result.failed_errors] == ["non_finite_values"]
    assert {c.name: c.failing_rows for c in result.checks}["non_finite_values"] == 1


# ---- bar_time_range: the lower and the upper bound
@pytest.mark.parametrize(
    "bar_time, fails",
    [
        ("TIMESTAMP '1990-01-01 00:00:00.000'", 0),  # the first sane instant
        ("TIMESTAMP '1989-12-31 23:59:59.999'", 1),
        ("TIMESTAMP '1969-12-31 23:00:00.000'", 1),  # Unix time -1 h, a classic default
        (f"TIMESTAMP '{CHECKED_AT}'", 0),  # a bar that starts as quality runs
        ("TIMESTAMP '2026-11-21 12:00:00.001'", 1),  # one millisecond later: the future
        ("TIMESTAMP '2500-01-01 00:00:00.000'", 1),
    ],
)
def test_bar_time_range_fails_bars_before_1990_or_after_the_check(engine, bar_time, fails):
    assert failing(engine, "bar_time_range", bar_time=bar_time) == fails


# ---- ticker_format
@pytest.mark.parametrize(
    "ticker, fails",
    [
        ("AAPL", 0),
        ("BRK.B", 0),
        ("BF-B", 0),
        ("X:BTCUSD", 0),  # a market prefix
        ("A", 0),
        ("ABCDEFGHIJKLMNOP", 0),  # 16 characters, the longest
        ("ABCDEFGHIJKLMNOPQ", 1),
        ("aapl", 1),
        ("", 1),
        ("A;B", 1),
        (" AAPL", 1),
        ("AAPL ", 1),
        (".AAPL", 1),  # must start with a letter or digit
        ("XYZ:AAPL", 1),  # a prefix has one or two letters
    ],
)
def test_ticker_format_fails_what_a_configured_ticker_could_not_be(engine, ticker, fails):
    assert failing(engine, "ticker_format", ticker=f"'{ticker}'") == fails
    # the same verdict as the validation every configured ticker passes
    valid = bool(errors._TICKER.match(ticker))
    assert valid == (not fails)


def test_ticker_format_uses_the_configured_tickers_pattern():
    sql = render("checks/ticker_format.sql", sans_dup_table="t")
    (pattern,) = re.findall(r"regexp_like\(ticker, '([^']*)'\)", sql)
    assert pattern.replace("\\-", "-") == errors._TICKER.pattern.replace("\\-", "-")


def test_ticker_format_leaves_a_null_ticker_to_null_values(engine):
    assert failing(engine, "ticker_format", ticker="NULL") == 0


# ---- freshness ignores bars from the future
@pytest.mark.parametrize(
    "bar_time, stale",
    [
        ("TIMESTAMP '2026-11-20 05:00:00.000'", 0),  # the last session's first instant: fresh
        ("TIMESTAMP '2026-11-20 04:59:59.999'", 1),
        (f"TIMESTAMP '{CHECKED_AT}'", 0),
        # a future bar is not a fresh one: without it the ticker has no bar at all
        ("TIMESTAMP '2026-11-21 12:00:00.001'", 1),
        ("TIMESTAMP '2500-01-01 00:00:00.000'", 1),
    ],
)
def test_freshness_does_not_count_a_future_bar_as_fresh(engine, bar_time, stale):
    assert failing(engine, "freshness", bar_time=bar_time) == stale


def test_a_future_bar_beside_an_old_one_leaves_freshness_failing(mini, helpers):
    s = mini.settings
    now = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
    mini.raw([helpers.bar(helpers.ms(2026, 11, 13, 15)),  # a week old: stale
              helpers.bar(helpers.ms(2099, 1, 2, 15))])  # in 2099
    for name in ("crawl", "transform", "dedup"):
        getattr(steps, name)(s, mini.engine, mini.storage)
    result = steps.quality(s, mini.engine, mini.storage, now=now)
    by_name = {c.name: c.failing_rows for c in result.checks}
    assert (by_name["freshness"], by_name["bar_time_range"]) == (1, 1)
    assert [c.name for c in result.failed_errors] == ["bar_time_range"]

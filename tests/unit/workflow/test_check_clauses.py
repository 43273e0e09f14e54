"""Every clause of every quality check, one case each: a bar that breaks exactly that clause
fails exactly the checks named, with exactly the count named; the bar just inside a limit passes.

Each case builds its own small tables (a table prefix of its own) on one shared local engine,
then runs the real `steps.quality`. A case names every check that fails, so a second check
failing is deliberate: some values cannot break one rule alone (a zero open is below any
positive low, so it also breaks `low <= least(open, close)`); those cases say so.
The mutation list (tests/mutation/mutants.toml) proves each clause is needed by these tests.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence

import pytest

from runtime import steps
from runtime.checks import all_checks
from runtime.sql_files import timestamp_literal

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)  # Saturday after the session below
INGESTED = datetime(2026, 11, 21, 12, 0)
COLUMN_TYPES = {
    "ticker": "varchar", "bar_time": "timestamp", "bar_time_ms": "bigint", "open": "double",
    "high": "double", "low": "double", "close": "double", "volume": "double", "vwap": "double",
    "transactions": "bigint", "ingested_at": "timestamp", "adjusted_as_of": "date",
    "day_hour_partition": "varchar", "day_partition": "varchar",
}
# Friday 2026-11-20 (EST, UTC-5): its regular session's hour bars start 14:00..20:00 UTC
# (09:00..15:00 New York). 13:00 UTC (08:00, pre-market) is a bar no calendar check expects.
SESSION_HOURS = range(14, 21)
OFF_HOUR = 13
# The freshness threshold for NOW: 00:00 New York on the last completed session (2026-11-20).
FRESH_SINCE = datetime(2026, 11, 20, 5, 0)


def bar(hour: int, ticker: str = "AAPL", day: int = 20, **changes: Any) -> Dict[str, Any]:
    """A valid deduplicated row for the hour starting at `hour`:00 UTC on 2026-11-`day`."""
    start = datetime(2026, 11, day, hour)
    row = {
        "ticker": ticker, "bar_time": start,
        "bar_time_ms": int(start.replace(tzinfo=timezone.utc).timestamp() * 1000),
        "open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5, "volume": 1000.0,
        "vwap": 10.25, "transactions": 7, "ingested_at": INGESTED,
        "adjusted_as_of": date(2026, 11, 20),
        "day_hour_partition": (start - timedelta(hours=5)).strftime("%Y-%m-%d-%H"),
        "day_partition": (start - timedelta(hours=5)).strftime("%Y-%m-%d"),
    }
    row.update(changes)
    return row


def session(ticker: str = "AAPL") -> List[Dict[str, Any]]:
    return [bar(h, ticker) for h in SESSION_HOURS]


def _literal(column: str, value: Any) -> str:
    kind = COLUMN_TYPES[column]
    if value is None:
        return f"CAST(NULL AS {kind})"
    if kind == "timestamp":
        return f"TIMESTAMP '{timestamp_literal(value)}'"
    if kind in ("varchar", "date"):
        return f"CAST('{value}' AS {kind})"
    return f"CAST({value!r} AS {kind})"


_prefixes = (f"case{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def quality_of(module_mini):
    """`quality_of(rows, ...)` -> {check: failing rows} of every check that did not pass.

    `rows` become the deduplicated table (and, unless `parquet` is given, the typed table);
    the lineage record says the transform read `raw_rows` and wrote `recorded_rows` (default for
    both: the typed table's rows).
    `window` picks the latest ingest window the calendar checks see: "session" is Friday
    2026-11-20 (7 expected hours per ticker), "two_sessions" 2026-11-19..20 (14), "weekend" is
    2026-11-21..22 (none)."""
    lake = module_mini
    windows = {}
    for name, first, last in (("session", "2026-11-20", "2026-11-20"),
                              ("two_sessions", "2026-11-19", "2026-11-20"),
                              ("weekend", "2026-11-21", "2026-11-22")):
        windows[name] = f"{lake.settings.lake_dir.resolve()}/raw_{name}/"
        lake.storage.write(
            f"{windows[name]}2026/11/21/12/test-1-2026-11-21-12-00-00-0001",
            f'{{"t":1,"window_from":"{first}","window_to":"{last}"}}\n'.encode(),
        )

    def create(settings, table: str, rows: Sequence[Dict[str, Any]]) -> None:
        columns = list(COLUMN_TYPES)
        values = [f"({', '.join(_literal(c, r[c]) for c in columns)})" for r in rows]
        # An empty table: one typed row of NULLs that the filter removes.
        where = "" if values else " WHERE bars.ticker IS NOT NULL"
        values = values or [f"({', '.join(_literal(c, None) for c in columns)})"]
        lake.engine.execute(
            f"CREATE TABLE {table} WITH (external_location = "
            f"'{settings.table_location(table)}', format = 'PARQUET') AS "
            f"SELECT * FROM (VALUES {', '.join(values)}) AS bars ({', '.join(columns)}){where}"
        )

    def run(
        rows: Sequence[Dict[str, Any]],
        *,
        parquet: Optional[Sequence[Dict[str, Any]]] = None,
        raw_rows: Optional[int] = None,
        recorded_rows: Optional[int] = None,
        tickers: Sequence[str] = ("AAPL",),
        window: str = "session",
    ) -> Dict[str, int]:
        s = lake.settings.replace(table_prefix=next(_prefixes), tickers=tuple(tickers),
                                  raw_uri_override=windows[window])
        parquet = rows if parquet is None else parquet
        create(s, s.sans_dup_table, rows)
        create(s, s.parquet_table, parquet)
        # What the lineage says the transform wrote (default: the typed table's rows).
        written = len(parquet) if recorded_rows is None else recorded_rows
        read = len(parquet) if raw_rows is None else raw_rows
        steps.record_commit(s, lake.engine, {"2026/11/20/16/clause-test": read}, written, now=NOW)
        result = steps.quality(s, lake.engine, lake.storage, now=NOW)
        assert [c.name for c in result.checks] == [c.name for c in all_checks()]
        assert result.passed == all(c.passed for c in result.checks if c.severity == "error")
        return {c.name: c.failing_rows for c in result.checks if not c.passed}

    return run


def test_clean_bars_pass_every_check(quality_of):
    # The starting point of every case: a full session of one ticker, nothing to report.
    assert quality_of(session()) == {}
    assert quality_of(session() + [bar(OFF_HOUR)]) == {}


# ---- zero_values: `open = 0 OR high = 0 OR low = 0 OR close = 0 OR volume = 0 OR vwap = 0` ----
@pytest.mark.parametrize("changes, expected", [
    # A zero open, high or close cannot keep low <= open/close <= high with a positive low.
    pytest.param({"open": 0.0}, {"zero_values": 1, "ohlc_consistency": 1}, id="open"),
    pytest.param({"high": 0.0}, {"zero_values": 1, "ohlc_consistency": 1}, id="high"),
    pytest.param({"low": 0.0}, {"zero_values": 1}, id="low"),
    pytest.param({"close": 0.0}, {"zero_values": 1, "ohlc_consistency": 1}, id="close"),
    pytest.param({"volume": 0.0}, {"zero_values": 1}, id="volume"),
    pytest.param({"vwap": 0.0, "low": 0.01, "open": 0.5, "close": 0.5, "high": 1.0},
                 {"zero_values": 1}, id="vwap"),
])
def test_zero_values_counts_a_bar_with_one_zero(quality_of, changes, expected):
    assert quality_of(session() + [bar(OFF_HOUR, **changes)]) == expected


def test_zero_values_counts_rows_not_zeros(quality_of):
    rows = [bar(OFF_HOUR, volume=0.0, low=0.0), bar(OFF_HOUR, "MSFT", volume=0.0)]
    assert quality_of(session() + rows) == {"zero_values": 2}


# ---- negative_values: any price, volume, vwap or trade count below 0 ---------------------------
@pytest.mark.parametrize("changes, expected", [
    # A negative open, high or close breaks low <= open/close <= high as well (low stays 9).
    pytest.param({"open": -1.0}, {"negative_values": 1, "ohlc_consistency": 1}, id="open"),
    pytest.param({"high": -1.0}, {"negative_values": 1, "ohlc_consistency": 1}, id="high"),
    pytest.param({"low": -1.0}, {"negative_values": 1}, id="low"),
    pytest.param({"close": -1.0}, {"negative_values": 1, "ohlc_consistency": 1}, id="close"),
    pytest.param({"volume": -1.0}, {"negative_values": 1}, id="volume"),
    pytest.param({"vwap": -0.001, "low": 0.001, "open": 0.5, "close": 0.5, "high": 1.0},
                 {"negative_values": 1}, id="vwap"),
    pytest.param({"transactions": -1}, {"negative_values": 1}, id="transactions"),
])
def test_negative_values_counts_a_bar_with_one_negative(quality_of, changes, expected):
    assert quality_of(session() + [bar(OFF_HOUR, **changes)]) == expected


def test_negative_values_lets_zero_through_to_zero_values(quality_of):
    # 0 is not negative: the boundary belongs to zero_values alone.
    assert quality_of(session() + [bar(OFF_HOUR, low=0.0)]) == {"zero_values": 1}
    assert quality_of(session() + [bar(OFF_HOUR, transactions=0)]) == {}


# ---- null_values: a null in any of the 13 columns ----------------------------------------------
# (day_partition is the partition column: a partition value is never null, and the check
# reads the columns every granularity has.)
@pytest.mark.parametrize("column", [c for c in COLUMN_TYPES if c != "day_partition"])
def test_null_values_counts_a_null_in_any_column(quality_of, column):
    assert quality_of(session() + [bar(OFF_HOUR, **{column: None})]) == {"null_values": 1}


# ---- ohlc_consistency: low <= least(open, close), high >= greatest(open, close), low <= high,
# ---- vwap within [low, high] with a cent of slack ------------------------------------------------
@pytest.mark.parametrize("changes", [
    pytest.param({"open": 10.0, "close": 10.5, "low": 10.2, "vwap": 10.3}, id="low-above-open"),
    pytest.param({"open": 10.5, "close": 10.0, "low": 10.2, "vwap": 10.3}, id="low-above-close"),
    pytest.param({"open": 10.0, "close": 10.5, "high": 10.4, "vwap": 10.2}, id="high-below-close"),
    pytest.param({"open": 10.5, "close": 10.0, "high": 10.4, "vwap": 10.2}, id="high-below-open"),
    pytest.param({"low": 9.0, "vwap": 8.98}, id="vwap-two-cents-below-low"),
    pytest.param({"high": 11.0, "vwap": 11.02}, id="vwap-two-cents-above-high"),
])
def test_ohlc_consistency_counts_a_bar_breaking_one_clause(quality_of, changes):
    assert quality_of(session() + [bar(OFF_HOUR, **changes)]) == {"ohlc_consistency": 1}


def test_ohlc_consistency_counts_low_above_high_when_open_and_close_are_missing(quality_of):
    # With open, close and vwap null only `low <= high` can still be judged (false): the bar
    # is inconsistent whatever the missing values were.
    row = bar(OFF_HOUR, open=None, close=None, vwap=None, low=11.0, high=9.0)
    assert quality_of(session() + [row]) == {"null_values": 1, "ohlc_consistency": 1}
    # ... and a row with nulls but nothing provably wrong is left to null_values.
    row = bar(OFF_HOUR, open=None, close=None, vwap=None)
    assert quality_of(session() + [row]) == {"null_values": 1}


@pytest.mark.parametrize("changes", [
    pytest.param({"open": 9.0, "low": 9.0}, id="low-equals-open"),
    pytest.param({"close": 9.0, "open": 10.0, "low": 9.0}, id="low-equals-close"),
    pytest.param({"open": 11.0, "high": 11.0}, id="high-equals-open"),
    pytest.param({"close": 11.0, "high": 11.0}, id="high-equals-close"),
    pytest.param({"open": 10.0, "close": 10.0, "low": 10.0, "high": 10.0, "vwap": 10.0},
                 id="flat-bar"),
])
def test_ohlc_consistency_accepts_prices_on_the_limits(quality_of, changes):
    assert quality_of(session() + [bar(OFF_HOUR, **changes)]) == {}


# Prices (in cents) where `x - 0.01` or `x + 0.01` in doubles lands past the price one cent away
# (0.07 - 0.01 is 0.060000000000000005), and ordinary ones.
LIMIT_CENTS = [7, 9, 10, 201, 202, 900, 7380]


def _vwap_outside(cents: int, side: str, by: int) -> Dict[str, Any]:
    """A bar whose low (side 'low') or high ('high') is `cents`, and vwap `by` cents outside."""
    price = cents / 100
    if side == "low":
        return {"low": price, "open": price, "close": price, "high": round(price + 1, 2),
                "vwap": round((cents - by) / 100, 2)}
    return {"high": price, "open": price, "close": price, "low": round(price / 2, 2),
            "vwap": round((cents + by) / 100, 2)}


@pytest.mark.parametrize("side", ["low", "high"])
def test_ohlc_consistency_allows_vwap_one_cent_outside_and_not_two(quality_of, side):
    # vwap, low and high are each rounded to the cent, so a true VWAP inside the range can land
    # one cent outside it; two cents cannot happen. One bar per price, each on a day and a
    # ticker of its own (one ticker's overnight jumps between these prices would be split
    # ratios, which unexplained_split_jump counts).
    def outside(by):
        return [bar(OFF_HOUR, ticker=f"V{day}", day=day, **_vwap_outside(cents, side, by))
                for day, cents in enumerate(LIMIT_CENTS, start=1)]

    assert quality_of(session() + outside(1)) == {}
    assert quality_of(session() + outside(2)) == {"ohlc_consistency": len(LIMIT_CENTS)}


# ---- duplicate_keys: extra rows per (ticker, bar_time_ms) -----------------------------------
def test_duplicate_keys_counts_each_extra_version_of_a_key(quality_of):
    restated = [bar(OFF_HOUR), bar(OFF_HOUR, close=10.6)]
    assert quality_of(session() + restated) == {"duplicate_keys": 1}
    three = restated + [bar(OFF_HOUR, close=10.7)]
    assert quality_of(session() + three) == {"duplicate_keys": 2}
    two_keys = restated + [bar(OFF_HOUR, "MSFT"), bar(OFF_HOUR, "MSFT", close=10.6)]
    assert quality_of(session() + two_keys) == {"duplicate_keys": 2}


def test_duplicate_keys_tells_tickers_and_hours_apart(quality_of):
    same_hour = [bar(OFF_HOUR), bar(OFF_HOUR, "MSFT")]
    assert quality_of(session() + same_hour) == {}
    assert quality_of(session() + [bar(OFF_HOUR, day=19)]) == {}


# ---- duplicate_rows: identical rows (every column) ------------------------------------------
def test_duplicate_rows_counts_each_extra_identical_copy(quality_of):
    twice = [bar(OFF_HOUR), bar(OFF_HOUR)]
    assert quality_of(session() + twice) == {"duplicate_keys": 1, "duplicate_rows": 1}
    thrice = twice + [bar(OFF_HOUR)]
    assert quality_of(session() + thrice) == {"duplicate_keys": 2, "duplicate_rows": 2}


# Two rows of one key that differ only in this column are two versions, not identical rows.
OTHER_VALUES = {
    "bar_time": datetime(2026, 11, 20, OFF_HOUR, 0, 1), "open": 10.1, "high": 11.1, "low": 9.1,
    "close": 10.6, "volume": 1001.0, "vwap": 10.3, "transactions": 8,
    "ingested_at": INGESTED + timedelta(hours=1), "day_hour_partition": "2026-11-20-07",
}


@pytest.mark.parametrize("column", list(OTHER_VALUES))
def test_duplicate_rows_needs_every_column_equal(quality_of, column):
    rows = [bar(OFF_HOUR), bar(OFF_HOUR, **{column: OTHER_VALUES[column]})]
    assert quality_of(session() + rows) == {"duplicate_keys": 1}


# ---- empty_table ------------------------------------------------------------------------------
def test_empty_table_fails_only_when_there_is_no_row(quality_of):
    # In a window without sessions no hour is expected; the ticker's missing bar is stale.
    assert quality_of([], window="weekend") == {"empty_table": 1, "freshness": 1}
    assert quality_of([bar(OFF_HOUR)], window="weekend") == {}


# ---- raw_parquet_row_count: |rows the transform read - rows of the typed table| ---------------
@pytest.mark.parametrize("raw_rows, expected", [
    pytest.param(8, {"raw_parquet_row_count": 1}, id="a-row-lost"),
    pytest.param(6, {"raw_parquet_row_count": 1}, id="a-row-invented"),
    pytest.param(7, {}, id="every-row-kept"),
])
def test_raw_parquet_row_count_counts_rows_lost_or_invented(quality_of, raw_rows, expected):
    assert quality_of(session(), raw_rows=raw_rows) == expected


def test_raw_parquet_row_count_counts_typed_rows_added_outside_a_transform_run(quality_of):
    # The last run read 7 raw rows and wrote 7, but the typed table holds 8: a row came from
    # elsewhere (an INSERT by hand). Only the totals see it, and an invented row counts as one.
    typed = session() + [bar(14, ticker="MSFT")]
    assert quality_of(session(), parquet=typed, raw_rows=7, recorded_rows=7) == {
        "raw_parquet_row_count": 1}


def test_raw_parquet_row_count_compares_the_typed_table_not_the_deduplicated_one(quality_of):
    # A Firehose retry doubles a bar in raw and in the typed table; dedup removes the copy.
    typed = session() + [bar(14)]
    assert quality_of(session(), parquet=typed, raw_rows=8) == {}


# ---- freshness: a ticker whose latest bar starts before the last session's 00:00 New York ----
# The weekend window expects no session hour, so missing_session_hours stays out of these.
@pytest.mark.parametrize("latest, expected", [
    pytest.param(FRESH_SINCE, {}, id="latest-bar-at-the-threshold"),
    pytest.param(FRESH_SINCE - timedelta(hours=1), {"freshness": 1}, id="an-hour-before"),
])
def test_freshness_threshold_is_inclusive(quality_of, latest, expected):
    row = bar(latest.hour, day=latest.day)
    assert row["bar_time"] == latest
    assert quality_of([row], window="weekend") == expected


def test_freshness_judges_a_ticker_by_its_latest_bar(quality_of):
    older = [bar(h, day=19) for h in SESSION_HOURS]
    assert quality_of(older + [bar(OFF_HOUR)], window="weekend") == {}
    assert quality_of(older, window="weekend") == {"freshness": 1}


def test_freshness_judges_by_the_latest_bar_when_the_window_holds_older_sessions(quality_of):
    # The window's first session (Thursday) is read too: its bars are older than the threshold.
    both = [bar(h, day=19) for h in SESSION_HOURS] + session()
    assert quality_of(both, window="two_sessions") == {}
    assert quality_of(both[:7], window="two_sessions") == {
        "freshness": 1, "missing_session_hours": 7}


def test_freshness_counts_each_stale_or_absent_ticker(quality_of):
    tickers = ("AAPL", "MSFT", "NVDA")
    rows = [bar(OFF_HOUR), bar(OFF_HOUR, "MSFT", day=19)]
    assert quality_of(rows, tickers=tickers, window="weekend") == {"freshness": 2}


def test_freshness_ignores_bars_of_tickers_not_asked_for(quality_of):
    rows = [bar(OFF_HOUR, day=19), bar(OFF_HOUR, "MSFT")]
    assert quality_of(rows, window="weekend") == {"freshness": 1}


# ---- missing_session_hours: (ticker, session hour) pairs without a bar ------------------------
def test_missing_session_hours_counts_each_missing_hour(quality_of):
    assert quality_of(session()[:3] + session()[4:]) == {"missing_session_hours": 1}
    assert quality_of(session()[:3]) == {"missing_session_hours": 4}


def test_missing_session_hours_needs_the_tickers_own_bar(quality_of):
    # MSFT's bar at the hour AAPL lacks, and AAPL's bars at other hours, fill nothing.
    rows = session()[:3] + session()[4:] + [bar(17, "MSFT"), bar(OFF_HOUR)]
    assert quality_of(rows) == {"missing_session_hours": 1}


def test_missing_session_hours_counts_every_hour_of_an_absent_ticker(quality_of):
    result = quality_of(session(), tickers=("AAPL", "MSFT"))
    assert result == {"missing_session_hours": 7, "freshness": 1}
    assert quality_of(session() + session("MSFT"), tickers=("AAPL", "MSFT")) == {}

"""ohlc_consistency's VWAP limit: a VWAP stored one cent outside [low, high] passes at any price,
two cents outside fails. Each case builds its own small tables on one shared local engine, then
runs the real `steps.quality`, and names every check that fails with its count.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence

import pytest

from runtime import steps
from runtime.checks import all_checks, timestamp_literal

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)  # Saturday after the session below
INGESTED = datetime(2026, 11, 21, 12, 0)
COLUMN_TYPES = {
    "ticker": "varchar", "bar_time": "timestamp", "bar_time_ms": "bigint", "open": "double",
    "high": "double", "low": "double", "close": "double", "volume": "double", "vwap": "double",
    "transactions": "bigint", "ingested_at": "timestamp", "day_hour_partition": "varchar",
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
        "day_hour_partition": (start - timedelta(hours=5)).strftime("%Y-%m-%d-%H"),
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
    if kind == "varchar":
        return f"CAST('{value}' AS varchar)"
    return f"CAST({value!r} AS {kind})"


_prefixes = (f"case{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def quality_of(module_mini):
    """`quality_of(rows, ...)` -> {check: failing rows} of every check that did not pass.

    `rows` become the deduplicated table (and, unless `parquet` is given, the typed table);
    the lineage record says the transform read `raw_rows` (default: the typed table's rows).
    `window` picks the latest ingest window the calendar checks see: "session" is Friday
    2026-11-20 (7 expected hours per ticker), "weekend" is 2026-11-21..22 (none)."""
    lake = module_mini
    windows = {}
    for name, first, last in (("session", "2026-11-20", "2026-11-20"),
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
        tickers: Sequence[str] = ("AAPL",),
        window: str = "session",
    ) -> Dict[str, int]:
        s = lake.settings.replace(table_prefix=next(_prefixes), tickers=tuple(tickers),
                                  raw_uri_override=windows[window])
        parquet = rows if parquet is None else parquet
        create(s, s.sans_dup_table, rows)
        create(s, s.parquet_table, parquet)
        written = len(parquet)
        steps.record_lineage(
            s, lake.engine,
            steps.TableResult(s.parquet_table, s.table_location(s.parquet_table), written, 1,
                              source_rows=written if raw_rows is None else raw_rows),
            s.raw_table, now=NOW,
        )
        result = steps.quality(s, lake.engine, lake.storage, now=NOW)
        assert [c.name for c in result.checks] == [c.name for c in all_checks()]
        assert result.passed == all(c.passed for c in result.checks if c.severity == "error")
        return {c.name: c.failing_rows for c in result.checks if not c.passed}

    return run


def test_clean_bars_pass_every_check(quality_of):
    # The starting point of every case: a full session of one ticker, nothing to report.
    assert quality_of(session()) == {}
    assert quality_of(session() + [bar(OFF_HOUR)]) == {}


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
@pytest.mark.parametrize("cents", LIMIT_CENTS)
def test_ohlc_consistency_allows_vwap_one_cent_outside_and_not_two(quality_of, cents, side):
    # vwap, low and high are each rounded to the cent, so a true VWAP inside the range can land
    # one cent outside it; two cents cannot happen.
    one = bar(OFF_HOUR, **_vwap_outside(cents, side, 1))
    two = bar(OFF_HOUR, "MSFT", **_vwap_outside(cents, side, 2))
    assert quality_of(session() + [one]) == {}
    assert quality_of(session() + [one, two]) == {"ohlc_consistency": 1}

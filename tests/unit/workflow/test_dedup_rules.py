"""Dedup's choice among the versions of one (ticker, bar_time_ms): the latest ingested_at wins;
among versions ingested at the same instant the ranking columns decide, in their documented
order (close, open, high, low, volume, vwap, transactions; larger first). An exact tie is two
identical rows, so which copy is kept cannot change the output.

Each case runs the real crawl, transform and dedup steps on raw records of its own (its own raw
prefix and table prefix) on one shared local engine.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest

from runtime import steps

T = 1_794_560_400_000  # 2026-11-13 09:00 UTC
RANKING = ["c", "o", "h", "l", "v", "vw", "n"]  # raw names of dedup's tie-break columns, in order
COLUMN = {"c": "close", "o": "open", "h": "high", "l": "low", "v": "volume", "vw": "vwap",
          "n": "transactions"}
SAME_TIME = "2026-11-21T12:00:00.000Z"

_prefixes = (f"dedup{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def deduplicated(module_mini):
    """`deduplicated(records)` -> the deduplicated table's rows (all columns, by ticker, time)."""
    lake = module_mini

    def run(records):
        prefix = next(_prefixes)
        s = lake.settings.replace(
            table_prefix=prefix,
            raw_uri_override=f"{lake.settings.lake_dir.resolve()}/raw_{prefix}/",
        )
        lake.raw(records, settings=s)
        for step in (steps.crawl, steps.transform, steps.dedup):
            step(s, lake.engine, lake.storage)
        return lake.rows(f"SELECT * FROM {s.sans_dup_table} ORDER BY ticker, bar_time_ms")

    return run


def _bar(**kw):
    base = {"ticker": "AAPL", "t": T, "o": 10, "h": 11, "l": 9, "c": 10.5, "v": 1000,
            "vw": 10.25, "n": 7, "ingested_at": SAME_TIME}
    base.update(kw)
    return base


def _column(rows, name):
    index = ["ticker", "bar_time", "bar_time_ms", "open", "high", "low", "close", "volume",
             "vwap", "transactions", "ingested_at", "adjusted_as_of",
             "day_hour_partition"].index(name)
    return [r[index] for r in rows]


def test_latest_ingested_version_wins_even_when_every_ranking_column_is_smaller(deduplicated):
    rows = deduplicated([
        _bar(c=10.9, o=10.9, h=12, l=10, v=2000, vw=11, n=9, ingested_at="2026-11-21T11:00:00Z"),
        _bar(c=10.1, o=10.1, h=11, l=9, v=1000, vw=10.2, n=1, ingested_at="2026-11-21T12:00:00Z"),
        _bar(c=10.8, o=10.8, h=12, l=10, v=1500, vw=11, n=8, ingested_at="2026-11-21T10:00:00Z"),
    ])
    assert _column(rows, "close") == [10.1]
    assert _column(rows, "ingested_at") == [datetime(2026, 11, 21, 12, 0)]


def test_another_tickers_later_version_does_not_hide_a_bar(deduplicated):
    rows = deduplicated([
        _bar(ingested_at="2026-11-21T10:00:00Z"),
        _bar(ticker="MSFT", ingested_at="2026-11-21T12:00:00Z"),
    ])
    assert _column(rows, "ticker") == ["AAPL", "MSFT"]
    assert _column(rows, "ingested_at") == [datetime(2026, 11, 21, 10), datetime(2026, 11, 21, 12)]


@pytest.mark.parametrize("position", range(len(RANKING)), ids=RANKING)
def test_same_instant_versions_are_ranked_by_each_column_in_order(deduplicated, position):
    # The winner is larger in the column at `position` and smaller in every later one; the
    # earlier columns are equal. So the column must rank descending and before the later ones.
    name = RANKING[position]
    later = RANKING[position + 1:]
    winner = _bar(**{name: 20}, **{k: 1 for k in later})
    loser = _bar(**{name: 19}, **{k: 2 for k in later})
    middle = _bar(**{name: 18}, **{k: 3 for k in later})
    rows = deduplicated([loser, winner, middle])
    assert len(rows) == 1
    assert _column(rows, COLUMN[name]) == [20]


def test_a_version_with_a_null_ranking_value_loses_the_tie(deduplicated):
    # NULLS LAST, as Athena (Trino) orders by default in both directions, and DuckDB too.
    rows = deduplicated([_bar(c=None), _bar(c=10.1), _bar(c=None, o=99)])
    assert _column(rows, "close") == [10.1]


def test_an_exact_tie_keeps_one_copy_of_the_identical_rows(deduplicated):
    # Columns outside the ranking (bar_time, day_hour_partition) come from t, so versions equal
    # in every ranking column and ingested_at are identical rows: keeping either is the same.
    rows = deduplicated([_bar(), _bar(), _bar(t=T + 3_600_000), _bar()])
    assert len(rows) == 2
    assert rows[0][2:] == (T, 10.0, 11.0, 9.0, 10.5, 1000.0, 10.25, 7,
                           datetime(2026, 11, 21, 12), date(2026, 11, 20), "2026-11-13-04",
                           "2026-11-13")

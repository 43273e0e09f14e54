"""Splits across daily incremental runs: after every run the adjusted view (what quality judges
and publish copies) equals the one over a full refresh of the same raw data, as multisets both
ways, through a forward split, a reverse split, two splits in one history, a split of a ticker
with no stored history and one of a ticker that never had a bar. A split rewrites no stored
partition: only the new window's partitions are rewritten, the older ones keep their files and
the view puts them on the new basis."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Dict, List, Tuple

import pytest

from runtime import steps
from runtime.adjustments import refresh_adjusted_view
from runtime.records import arrival_key
from runtime.steps.common import production_column_list

from .incremental_lake import HOURS_UTC, START, Twins, bar, ms

# (ticker, execution date, split_from, split_to). Run r's window ends on START + r + 7 and the
# demo source answers as of its arrival day, START + r + 8 (2026-10-09 for run 0).
SPLITS: List[Tuple[str, date, int, int]] = [
    ("NEWT", date(2026, 10, 5), 1, 2),  # before NEWT's first bar (it starts with run 3)
    ("ZZZ", date(2026, 10, 7), 1, 4),  # a ticker that never has a bar
    ("AAPL", date(2026, 10, 11), 1, 2),  # seen from run 2; days 1-2 were only fetched before
    ("MSFT", date(2026, 10, 13), 10, 1),  # 1-for-10 reverse split, seen from run 4
    ("AAPL", date(2026, 10, 14), 1, 3),  # AAPL's second split, seen from run 5
    ("AAPL", date(2026, 11, 30), 1, 5),  # announced, never executed within these runs
]
RUNS = 7


def as_of(run: int) -> date:
    return START + timedelta(days=run + 8)


def arrival(run: int) -> datetime:
    return datetime.combine(as_of(run), datetime.min.time(), tzinfo=timezone.utc) + timedelta(
        hours=15)


def api_factor(ticker: str, day: date, answered: date) -> float:
    """The API's adjustment of a bar of `day` answered on `answered`: the splits between."""
    factor = 1.0
    for t, executed, split_from, split_to in SPLITS:
        if t == ticker and day < executed <= answered:
            factor *= split_to / split_from
    return factor


def deliver_run(lake: Twins, run: int, tickers: Tuple[str, ...]) -> None:
    """Run `run`'s ingest as the API answers it: the 8-day window's bars per ticker on the basis
    of the arrival day, then the tickers' whole split list."""
    when = arrival(run)
    for ticker in tickers:
        records = []
        for d in range(8):
            day = START + timedelta(days=run + d)
            version = run if d >= 6 else 0
            for h in HOURS_UTC:
                rec = bar(ticker, ms(day, h), version, when)
                f = api_factor(ticker, day, as_of(run))
                for k in ("o", "h", "l", "c", "vw"):
                    rec[k] = round(rec[k] / f, 6)
                rec["v"] = rec["v"] * f
                records.append(rec)
        lake.deliver(records, when)
    events = [
        {"id": f"{t}-{d}", "ticker": t, "execution_date": d.isoformat(),
         "adjustment_type": "forward_split" if b > a else "reverse_split",
         "split_from": a, "split_to": b, "historical_adjustment_factor": None,
         "ingested_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "request_id": f"s{run}",
         "window_from": f"{START + timedelta(days=run)}", "window_to": f"{as_of(run)}",
         "source": "demo"}
        for t, d, a, b in SPLITS
    ]
    uri = arrival_key(lake.inc.splits_uri, "stockpipe-splits", when)
    lake.storage.write(uri, "".join(json.dumps(e) + "\n" for e in events).encode())


def adjusted_difference(lake: Twins) -> Tuple[int, int, int]:
    """(rows only in inc, rows only in full, rows) of the two adjusted views, as multisets."""
    for s in (lake.inc, lake.full):
        refresh_adjusted_view(s, lake.engine)
    cols = production_column_list(lake.inc)
    a, b = lake.inc.adjusted_view, lake.full.adjusted_view

    def count(sql: str) -> int:
        return int(lake.engine.execute(sql).scalar())

    only = "SELECT count(*) FROM (SELECT {c} FROM {x} EXCEPT ALL SELECT {c} FROM {y}) d"
    return (count(only.format(c=cols, x=a, y=b)), count(only.format(c=cols, x=b, y=a)),
            count(f"SELECT count(*) FROM {a}"))


@pytest.fixture
def lake(tmp_path):
    made = Twins(tmp_path / "home", "day", ("AAPL", "MSFT", "NEWT"))
    yield made
    made.close()


def test_incremental_runs_and_a_full_refresh_give_the_same_adjusted_bars_across_splits(lake):
    for run in range(RUNS):
        deliver_run(lake, run, ("AAPL", "MSFT") + (("NEWT",) if run >= 3 else ()))
        built = lake.run()
        assert built["dedup"].mode == ("full" if run == 0 else "incremental")
        lake.rebuild_full()
        only_inc, only_full, rows = adjusted_difference(lake)
        assert (only_inc, only_full) == (0, 0), f"adjusted view after run {run}"
        assert rows == len(HOURS_UTC) * (2 * (8 + run) + (5 + run if run >= 3 else 0))

    view = lake.inc.adjusted_view

    def closes(ticker: str, day: date) -> List[Tuple[float, float, float]]:
        return lake.engine.execute(
            f"SELECT close, close_traded, split_factor FROM {view} WHERE ticker = '{ticker}' "
            f"AND day_partition = '{day}' ORDER BY bar_time_ms").rows

    # Oct 1 was only ever fetched before every split: AAPL's two (2 x 3) divide it by 6, MSFT's
    # reverse split multiplies it by 10; the as-traded values are what the API gave then.
    raw_close = bar("AAPL", ms(START, HOURS_UTC[0]), 0, arrival(0))["c"]
    assert closes("AAPL", START)[0] == (round(raw_close / 6, 2), raw_close, 6.0)
    msft_close = bar("MSFT", ms(START, HOURS_UTC[0]), 0, arrival(0))["c"]
    assert closes("MSFT", START)[0] == (round(msft_close * 10, 2), msft_close, 0.1)
    # NEWT's first bars came from the API already adjusted for its split: not adjusted again.
    newt_day = date(2026, 10, 4)
    newt = bar("NEWT", ms(newt_day, HOURS_UTC[0]), 0, arrival(3))["c"]
    assert closes("NEWT", newt_day)[0] == (round(newt / 2, 2), round(newt, 2), 2.0)

    # Quality passes on both (no unexplained jump) and the published copies are equal too.
    now = arrival(RUNS) + timedelta(hours=1)
    published = []
    for s in (lake.inc, lake.full):
        result = steps.quality(s, lake.engine, lake.storage, now=now)
        failing = {c.name: c.failing_rows for c in result.checks}
        assert failing["unexplained_split_jump"] == 0 and result.passed, failing
        steps.publish(s, lake.engine, lake.storage, now=now)
        published.append(s.prod_latest_view)  # the adjusted view over the archive pair
    cols = production_column_list(lake.inc)
    for x, y in (published, published[::-1]):
        assert lake.engine.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM {x} EXCEPT ALL SELECT {cols} FROM {y}) d"
        ).scalar() == 0


def _files(lake: Twins) -> Dict[str, List[str]]:
    """The sans-dup table's files by day partition."""
    location = lake.inc.table_location(lake.inc.sans_dup_table)
    out: Dict[str, List[str]] = {}
    for uri in lake.storage.list(location):
        part = [p for p in uri.split("/") if p.startswith("day_partition=")]
        if part:
            out.setdefault(part[0].split("=", 1)[1], []).append(uri)
    return {k: sorted(v) for k, v in out.items()}


def test_a_split_rewrites_no_stored_partition_only_the_new_window(lake):
    for run in range(2):
        deliver_run(lake, run, ("AAPL", "MSFT"))
        lake.run()
    refresh_adjusted_view(lake.inc, lake.engine)
    view = lake.inc.adjusted_view
    day1 = f"SELECT close FROM {view} WHERE ticker = 'AAPL' AND day_partition = '{START}' " \
           "ORDER BY bar_time_ms"
    before_close = lake.engine.execute(day1).rows
    before = _files(lake)

    deliver_run(lake, 2, ("AAPL", "MSFT"))  # the run that first lists AAPL's split
    built = lake.run()

    # dedup rewrote the 8 days of the window, Oct 3-10, and nothing for the split
    assert built["dedup"].partitions == 8
    after = _files(lake)
    window = {str(START + timedelta(days=2 + d)) for d in range(8)}
    assert set(after) == set(before) | window
    for day in set(before) - window:  # Oct 1 and 2: the same files, byte for byte
        assert after[day] == before[day]
    for day in window & set(before):  # proof that a rewrite shows in the file names
        assert after[day] != before[day]
    # ... while the adjusted view already has Oct 1 on the new basis
    refresh_adjusted_view(lake.inc, lake.engine)
    assert lake.engine.execute(day1).rows == [(round(c / 2, 2),) for (c,) in before_close]

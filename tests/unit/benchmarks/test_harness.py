"""Harness pieces that decide the verdicts: table comparison, the floor, targets, report."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import contenders, harness, report
from benchmarks.report import GB


def _write(dir_, rows):
    cols = ["ticker", "bar_time", "bar_time_ms", "open", "high", "low", "close", "volume",
            "vwap", "transactions", "ingested_at", "day_hour_partition"]
    table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    table = table.set_column(1, "bar_time", table["bar_time"].cast(pa.timestamp("us")))
    table = table.set_column(10, "ingested_at", table["ingested_at"].cast(pa.timestamp("us")))
    pq.write_to_dataset(table, str(dir_), partition_cols=["day_hour_partition"])


def _row(ticker, ms, close, part="2026-11-19-04"):
    return (ticker, ms * 1000, ms, 1.0, 2.0, 0.5, close, 100.0, 1.5, 3, ms * 1000 + 1, part)


def test_compare_sans_dup_counts_rows_found_on_one_side_only(tmp_path):
    a = [_row("AAA", 1, 1.5), _row("AAA", 2, 1.5), _row("AAB", 1, 1.5)]
    b = [_row("AAA", 1, 1.5), _row("AAA", 2, 1.25), _row("AAB", 1, 1.5), _row("AAB", 2, 1.0)]
    _write(tmp_path / "a", a)
    _write(tmp_path / "b", b)
    got = harness.compare_sans_dup(str(tmp_path / "a"), str(tmp_path / "b"))
    assert got == {"only_stockpipe": 1, "only_pandas": 2, "stockpipe_rows": 3, "pandas_rows": 4}
    same = harness.compare_sans_dup(str(tmp_path / "a"), str(tmp_path / "a"))
    assert same == {"only_stockpipe": 0, "only_pandas": 0, "stockpipe_rows": 3,
                    "pandas_rows": 3}


def test_floor_copies_every_raw_row_into_one_parquet_file(tiny_lake):
    root, manifest = tiny_lake
    got = contenders.run_floor(root, "hour")
    assert got["parquet_rows"] == manifest.raw_rows == 800
    assert pq.read_metadata(root / "floor" / "raw.parquet").num_rows == 800


def _results(sp_secs, floor_secs, pandas_secs, sp_rss, raw_rows=10_000_000, pandas_at=None):
    def run(name, secs, rss=GB, gran="hour"):
        return {"contender": name, "granularity": gran, "timed_seconds": secs,
                "rows_per_second": raw_rows / secs, "peak_rss_bytes": rss, "phases": {}}

    big = {"size": "500x365", "manifest": {"raw_rows": raw_rows, "objects": 600},
           "runs": [run("floor", floor_secs), run("stockpipe", sp_secs, sp_rss)]}
    sizes = [big]
    if pandas_at is None:
        big["runs"].append(run("pandas", pandas_secs))
    else:  # pandas ran only at a smaller size
        small_rows, small_secs = pandas_at
        sizes.insert(0, {"size": "100x90", "manifest": {"raw_rows": small_rows, "objects": 30},
                         "runs": [{"contender": "pandas", "granularity": "hour",
                                   "timed_seconds": small_secs,
                                   "rows_per_second": small_rows / small_secs,
                                   "peak_rss_bytes": GB, "phases": {}}]})
    return {"machine": {}, "sizes": sizes,
            "default_job": {"seconds": 6.5, "note": ""},
            "ingestion": {"stockpipe_calls_per_1000_bars": 2.08, "rows": []}}


def test_targets_fail_when_stockpipe_is_slower_than_three_floors_or_too_big():
    # 100 s vs a 30 s floor is 3.3x; 5 GB of RSS; pandas at 500 s is only 5x slower.
    got = report.targets(_results(100, 30, 500, 5 * GB))
    verdicts = [passed for _name, _m, passed, _n in got]
    measured = [m for _name, m, _p, _n in got]
    assert verdicts == [False, False, False, False, True]
    assert measured[:3] == ["5.0x", "3.3x (100 s vs 30.00 s)", "5.00 GB"]
    assert measured[3:] == ["6.50 s", "2.08"]


def test_targets_pass_when_fast_enough_and_small():
    got = report.targets(_results(50, 20, 600, 2 * GB))
    assert [p for _n, _m, p, _x in got][:3] == [True, True, True]
    assert got[0][1] == "12.0x"


def test_pandas_rate_is_extrapolated_from_the_largest_size_it_ran_and_says_so():
    results = _results(50, 20, None, GB, pandas_at=(500_000, 25.0))
    rate, extrapolated = report.pandas_rate(results, results["sizes"][1])
    assert (rate, extrapolated) == (20_000.0, True)
    first = report.targets(results)[0]
    # stockpipe 10M rows / 50 s = 200,000 rows/s vs 20,000 extrapolated: 10.0x, a pass.
    assert first[1:] == ("10.0x", True, "pandas rate extrapolated from a smaller size")
    page = report.markdown(results, None)
    assert "pandas (extrapolated, not run)" in page
    assert "~500" in page  # 10M rows at 20,000 rows/s



def test_a_contender_past_the_memory_cap_is_killed_and_reported_without_numbers(tiny_lake):
    root, _ = tiny_lake
    # Importing pandas alone takes more than 40 MB of resident memory.
    got = harness.run_contender("pandas", root, "hour", rss_cap_bytes=40 * 2**20)
    assert got["killed"] is True
    assert got["killed_at_rss_bytes"] > 40 * 2**20
    assert got["timed_seconds"] is None
    results = {"machine": {}, "sizes": [{"size": "2x7", "manifest": {"raw_rows": 800,
                                                                     "objects": 4},
                                         "runs": [got]}]}
    assert report.pandas_rate(results, results["sizes"][0]) == (None, True)
    assert "pandas (killed at the memory cap)" in report.markdown(results, None)


def test_best_of_keeps_the_fastest_run_and_lists_every_run(monkeypatch):
    seconds = iter([12.0, 9.5, 11.0])
    monkeypatch.setattr(harness, "run_contender",
                        lambda name, root, gran="hour", cap=None: {"contender": name,
                                                                   "timed_seconds": next(seconds)})
    got = harness.best_of(3, "floor", None)
    assert got["timed_seconds"] == 9.5
    assert got["repeats"] == [12.0, 9.5, 11.0]


def test_previous_output_is_set_aside_untouched_and_deleted_only_by_empty_trash(tmp_path):
    out = tmp_path / "pandas" / "parquet" / "p=1"
    out.mkdir(parents=True)
    (out / "a.parquet").write_bytes(b"x")

    contenders.set_aside(tmp_path / "pandas", tmp_path)
    contenders.set_aside(tmp_path / "missing", tmp_path)  # nothing there: nothing happens

    assert not (tmp_path / "pandas").exists()
    moved = list((tmp_path / contenders.TRASH).iterdir())
    assert [p.name.split("-")[0] for p in moved] == ["pandas"]
    assert (moved[0] / "parquet" / "p=1" / "a.parquet").read_bytes() == b"x"
    contenders.empty_trash(tmp_path)
    assert not (tmp_path / contenders.TRASH).exists()

"""Incremental runs give the same tables as a full refresh of the same raw data, read only the
new raw objects, rewrite only the partitions new rows touch, and rebuild by themselves when the
stored tables no longer match the transform."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from runtime import steps

from .incremental_lake import HOURS_UTC, START, Twins, bar, ms


@pytest.fixture
def twins(tmp_path, request):
    made = []

    def make(granularity="day", tickers=("AAPL", "MSFT")):
        t = Twins(tmp_path / f"home{len(made)}", granularity, tickers)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


@pytest.mark.parametrize("granularity", ["day", "hour"])
def test_six_overlapping_daily_runs_equal_a_full_refresh_after_each_run(twins, granularity):
    lake = twins(granularity)
    late_arrival = datetime(2026, 10, 2, 3, tzinfo=timezone.utc)  # sorts before every run's keys
    for run in range(6):
        lake.daily(run)
        if run == 2:
            # A late object: its key sorts before objects already consumed, and it restates a
            # bar of day 0, outside this run's window (an old partition is rewritten).
            lake.deliver([bar("AAPL", ms(START, 13), 99, datetime(2026, 10, 11, 16,
                                                                 tzinfo=timezone.utc))],
                         late_arrival)
        if run == 3:
            # A Firehose retry: the same records delivered twice (an exact duplicate, tied
            # ingested_at), and a stale version (older ingested_at) that must not win.
            stale = datetime(2026, 10, 1, 16, tzinfo=timezone.utc)
            records = [bar("MSFT", ms(START + timedelta(days=5), 14), 7, stale)]
            lake.deliver(records, late_arrival + timedelta(hours=1))
            lake.deliver(records, late_arrival + timedelta(hours=2))
        built = lake.run()
        lake.rebuild_full()
        assert lake.difference("parquet")[:2] == (0, 0), f"typed table after run {run}"
        assert lake.difference("sans_dup")[:2] == (0, 0), f"sans-dup table after run {run}"
        mode = built["transform"].mode
        assert mode == ("full" if run == 0 else "incremental")
    typed, sans = lake.difference("parquet")[2], lake.difference("sans_dup")[2]
    # 2 tickers x 4 bars x (8 + 5 runs' new days) plus 3 delivered by hand, 48 versions...
    assert sans == 2 * len(HOURS_UTC) * 13
    assert typed == 6 * 2 * len(HOURS_UTC) * 8 + 1 + 2
    # The restated day-0 bar holds the late object's version (version 99: close 100+..+25).
    got = lake.engine.execute(
        f"SELECT transactions FROM {lake.inc.sans_dup_table} "
        f"WHERE ticker = 'AAPL' AND bar_time_ms = {ms(START, 13)}"
    ).rows
    assert got == [(7 + 99,)]


def test_incremental_run_reads_only_new_objects_and_rewrites_only_touched_partitions(twins):
    lake = twins("day", ("AAPL",))
    for run in range(3):
        lake.daily(run)
        lake.run()
    new = lake.daily(3)
    before = lake.engine.json_bytes_read
    built = lake.run()
    read = lake.engine.json_bytes_read - before
    assert read == sum(lake.storage.list(u) and len(lake.storage.read(u)) for u in new)
    transform, dedup = built["transform"], built["dedup"]
    assert (transform.mode, transform.raw_objects_read) == ("incremental", 1)
    # The 8-day window ending on day 10 touches 8 day partitions, of both tables.
    assert (transform.partitions, dedup.partitions) == (8, 8)
    assert dedup.mode == "incremental"
    # Nothing new: nothing read, nothing rewritten.
    again = lake.run()
    assert (again["transform"].raw_objects_read, again["dedup"].partitions) == (0, 0)
    assert lake.engine.json_bytes_read - before == read


def test_a_changed_granularity_or_a_missing_table_rebuilds_and_says_why(twins):
    lake = twins("day", ("AAPL",))
    lake.daily(0)
    lake.run()
    hourly = lake.inc.replace(partition_granularity="hour")
    result = lake.run(hourly)["transform"]
    assert result.mode == "full"
    assert result.full_refresh_reason == "partition granularity changed from day to hour"
    lake.engine.execute(f"DROP TABLE {lake.inc.sans_dup_table}")
    result = lake.run(hourly)["dedup"]
    assert (result.mode, result.full_refresh_reason) == (
        "full", f"table {lake.inc.sans_dup_table} does not exist")
    asked = lake.run(hourly, full=True)["transform"]
    assert (asked.mode, asked.full_refresh_reason) == ("full", "a full refresh was requested")


def test_a_changed_transform_sql_rebuilds_by_itself(twins, monkeypatch):
    lake = twins("day", ("AAPL",))
    lake.daily(0)
    lake.run()
    import importlib

    module = importlib.import_module("runtime.steps.typed")

    monkeypatch.setattr(module, "transform_hash", lambda settings: "0123456789abcdef")
    result = lake.run()["transform"]
    assert result.mode == "full"
    assert result.full_refresh_reason.startswith("the transform SQL changed since run ")


def test_day_partitions_keep_the_hour_column_and_partition_by_the_day(twins):
    lake = twins("day", ("AAPL",))
    lake.daily(0, days=1)
    lake.run()
    rows = lake.engine.execute(
        f"SELECT day_hour_partition, day_partition FROM {lake.inc.sans_dup_table} "
        "ORDER BY bar_time_ms"
    ).rows
    # 2026-10-01 13:00 UTC = 09:00 EDT ... 23:00 UTC = 19:00 EDT.
    assert rows == [("2026-10-01-09", "2026-10-01"), ("2026-10-01-10", "2026-10-01"),
                    ("2026-10-01-15", "2026-10-01"), ("2026-10-01-19", "2026-10-01")]
    partitions = lake.engine.execute(f"SHOW PARTITIONS {lake.inc.sans_dup_table}").rows
    assert partitions == [("day_partition=2026-10-01",)]


def test_quality_row_count_compares_the_run_and_the_totals(twins):
    lake = twins("day", ("AAPL",))
    lake.daily(0)
    lake.run()
    lake.daily(1)
    lake.run()
    counts = steps.row_counts(lake.inc, lake.engine)
    # Run 1 read one object of 8 days x 4 bars and added them all to the typed table.
    assert counts == {"run_raw_rows": 32, "run_typed_rows": 32, "total_raw_rows": 64}

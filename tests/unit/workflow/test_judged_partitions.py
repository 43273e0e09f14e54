"""Quality reuses the clean judgement of partitions whose files did not change, and its answers
are always those of a judgement of the whole table: after daily runs, defects written into old
and new partitions, a file rewritten in place, a changed check, a clock that went back and a
damaged record."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from runtime import steps
from runtime.sql_files import sql_text
from runtime.steps import judged_partitions
from runtime.steps.archive import data_files

from .incremental_lake import Twins

NOW = datetime(2026, 10, 20, 12, tzinfo=timezone.utc)


@pytest.fixture
def lake(tmp_path):
    made = []

    def make(granularity="day"):
        t = Twins(tmp_path / f"home{len(made)}", granularity, ("AAPL", "MSFT"))
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def judge(lake: Twins, *, full: bool = False, now: datetime = NOW):
    """(failing rows per check, the partitions read (None: all), partitions reused)."""
    r = steps.quality(lake.inc, lake.engine, lake.storage, now=now, full_refresh=full)
    return {c.name: c.failing_rows for c in r.checks}, r.partitions_judged, r.partitions_reused


def partitions(lake: Twins):
    column = lake.inc.partition_column
    found = lake.engine.execute(
        f"SELECT DISTINCT {column} FROM {lake.inc.sans_dup_table} ORDER BY 1").rows
    return [r[0] for r in found]


def insert_copy_of(lake: Twins, partition: str, **changes: str) -> None:
    """Append to the sans-dup table a copy of one row of `partition` with `changes` (SQL)."""
    column = lake.inc.partition_column
    cols = steps.typed_columns(lake.inc)
    select = ", ".join(changes.get(c, c) for c in cols)
    lake.engine.execute(
        f"INSERT INTO {lake.inc.sans_dup_table} SELECT {select} FROM {lake.inc.sans_dup_table} "
        f"WHERE {column} = '{partition}' ORDER BY ticker, bar_time_ms LIMIT 1"
    )


@pytest.mark.parametrize("granularity", ["day", "hour"])
def test_daily_runs_with_defects_get_the_answers_of_a_whole_table_judgement(lake, granularity):
    lake = lake(granularity)
    seen_partial = False
    for run in range(6):
        lake.daily(run)
        lake.run()
        old = partitions(lake)
        if run == 1:
            # A zero volume in the oldest partition (a new key: a rule on each row breaks).
            insert_copy_of(lake, old[0], volume="0e0", bar_time_ms="bar_time_ms + 1")
        if run == 3:
            # A duplicate key (and row) in another old one: the duplicate checks count over all
            # the partitions they read, so from now on no partition is recorded clean.
            insert_copy_of(lake, old[1])
        reused = judge(lake)
        whole = judge(lake, full=True)
        assert reused[0] == whole[0], f"run {run}"
        assert whole[1] is None
        if reused[1] is not None:
            seen_partial = True
            assert reused[2] > 0 and len(reused[1]) < len(old)
        if run >= 1:
            assert reused[0]["zero_values"] == 1, f"run {run}: the old defect stays counted"
        dups = (reused[0]["duplicate_keys"], reused[0]["duplicate_rows"])
        assert dups == ((0, 0) if run < 3 else (1, 1)), f"run {run}"
    assert seen_partial


def test_an_unchanged_table_is_judged_by_its_record_and_a_changed_partition_alone(lake):
    lake = lake()
    for run in range(3):
        lake.daily(run)
        lake.run()
    first = judge(lake)
    assert first[1] is None  # no record yet: the whole table
    every = partitions(lake)
    again = judge(lake)
    assert (again[0], again[1], again[2]) == (first[0], [], len(every))

    # A new bar whose close lies above its high, in that partition only.
    insert_copy_of(lake, every[2], close="high + 5", bar_time_ms="bar_time_ms + 1")
    third = judge(lake)
    assert third[1] == [every[2]] and third[2] == len(every) - 1
    assert third[0] == dict(first[0], ohlc_consistency=1)
    # A failing partition is not recorded as clean: the next run reads it again.
    assert judge(lake)[1] == [every[2]]


def test_a_file_rewritten_in_place_is_judged_again(lake):
    lake = lake()
    lake.daily(0)
    lake.run()
    judge(lake)
    location = lake.inc.table_location(lake.inc.sans_dup_table)
    path, _size, _tag = data_files(lake.storage, location)[0]
    target = Path(location) / path
    # The same file name, now holding a negative open in every row.
    import duckdb

    con = duckdb.connect()
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    con.execute(f"COPY (SELECT * REPLACE (-open AS open) FROM read_parquet('{target}')) "
                f"TO '{target}.new' (FORMAT PARQUET)")
    con.close()
    Path(f"{target}.new").replace(target)
    failing, judged, _ = judge(lake)
    assert judged == [path.split("/", 1)[0].split("=", 1)[1]]
    assert failing["negative_values"] == rows


def test_a_changed_check_a_clock_gone_back_and_a_damaged_record_judge_every_partition(
        lake, monkeypatch, caplog):
    lake = lake()
    lake.daily(0)
    lake.run()
    judge(lake)
    assert judge(lake)[1] == []
    # The clock goes back: bar_time_range compares bars with the time quality runs.
    assert judge(lake, now=NOW - timedelta(days=1))[1] is None
    assert judge(lake)[1] == []
    # A partition-scope check's SQL changes (an upgrade): the record no longer applies.
    original = sql_text

    def changed(name: str) -> str:
        text = original(name)
        return text + "\n" if name == "checks/zero_values.sql" else text

    monkeypatch.setattr(judged_partitions, "sql_text", changed)
    assert judge(lake)[1] is None
    assert judge(lake)[1] == []
    monkeypatch.undo()
    assert judge(lake)[1] is None
    # A damaged record costs a whole judgement, and says so.
    uri = judged_partitions.record_uri(lake.inc.table_location(lake.inc.sans_dup_table))
    lake.storage.write(uri, b'{"format": 1, "checks": ')
    with caplog.at_level(logging.WARNING, logger="runtime.steps.judged_partitions"):
        assert judge(lake)[1] is None
    assert "every partition is judged" in caplog.text
    assert json.loads(lake.storage.read(uri))["format"] == 1  # rewritten whole


def test_a_full_refresh_deletes_the_record_with_the_table(lake):
    lake = lake()
    lake.daily(0)
    lake.run()
    judge(lake)
    uri = judged_partitions.record_uri(lake.inc.table_location(lake.inc.sans_dup_table))
    assert lake.storage.exists(uri)
    lake.run(full=True)
    assert not lake.storage.exists(uri)
    assert judge(lake)[1] is None


def test_files_by_partition_needs_every_file_in_a_partition_folder():
    files = [("day_partition=2026-10-01/a.parquet", 10, "1"),
             ("day_partition=2026-10-01/b.parquet", 12, "2"),
             ("day_partition=2026-10-02/c.parquet", 10, "3")]
    digests = judged_partitions.files_by_partition(files, "day_partition")
    assert sorted(digests) == ["2026-10-01", "2026-10-02"]
    moved = [files[0], ("day_partition=2026-10-01/b.parquet", 12, "9"), files[2]]
    changed = judged_partitions.files_by_partition(moved, "day_partition")
    assert changed["2026-10-01"] != digests["2026-10-01"]
    assert changed["2026-10-02"] == digests["2026-10-02"]
    assert judged_partitions.files_by_partition(files + [("x.parquet", 1, "")],
                                                "day_partition") is None
    assert judged_partitions.files_by_partition(files, "day_hour_partition") is None
    assert judged_partitions.files_by_partition(
        [("day_partition=2026-10-01;x/a.parquet", 1, "")], "day_partition") is None


def test_the_record_reuses_only_partitions_with_the_same_files():
    record = judged_partitions.JudgedPartitions("c", "2026-10-20T12:00:00.000000Z", {
        "2026-10-01": ("d1", 8), "2026-10-02": ("d2", 8)})
    assert record.reusable({"2026-10-01": "d1", "2026-10-02": "other", "2026-10-03": "d3"}) == {
        "2026-10-01": 8}


def test_rows_in_a_null_partition_make_the_whole_table_read():
    from runtime.steps.quality_run import _stale_partitions

    record = judged_partitions.JudgedPartitions("c", "2026-10-20T12:00:00.000000Z", {
        "2026-10-01": ("d1", 8)})
    current = {"2026-10-01": "d1", "2026-10-02": "d2"}
    assert _stale_partitions(current, {"2026-10-01": 8, "2026-10-02": 8}, record) == (
        ["2026-10-02"], {"2026-10-01": 8})
    # The rows the table shows decide too: a partition whose count moved is read again.
    assert _stale_partitions(current, {"2026-10-01": 9, "2026-10-02": 8}, record) == (None, {})
    assert _stale_partitions(current, {"2026-10-01": 8, None: 1}, record) == (None, {})


def test_quality_killed_after_any_operation_then_rerun_gives_the_uninterrupted_answers(tmp_path):
    import shutil

    from .test_crash_safety import Countdown, CrashingEngine, CrashingStorage, Killed

    class WritesCount(CrashingStorage):
        def write(self, uri, data):  # the record is quality's one object write
            self.inner.write(uri, data)
            self.countdown.tick(f"write {uri}")

    lake = Twins(tmp_path / "home", "day", ("AAPL",))
    lake.daily(0, days=4)
    lake.run()
    judge(lake)
    lake.daily(1, days=4)
    lake.run()
    insert_copy_of(lake, partitions(lake)[1], low="high + 1", bar_time_ms="bar_time_ms + 7")
    lake.close()
    home, saved = tmp_path / "home", tmp_path / "saved"
    shutil.copytree(home, saved)
    uri = judged_partitions.record_uri(lake.inc.table_location(lake.inc.sans_dup_table))

    def quality(engine, storage):
        r = steps.quality(lake.inc, engine, storage, now=NOW)
        return {c.name: c.failing_rows for c in r.checks}, r.partitions_judged

    lake.reopen()
    countdown = Countdown(0)
    expected = quality(CrashingEngine(lake.engine, countdown),
                       WritesCount(lake.storage, countdown))
    record = lake.storage.read(uri)
    assert expected[0]["ohlc_consistency"] == 1 and expected[1] == partitions(lake)[1:]
    total = countdown.done
    lake.close()
    assert total > 10
    for k in range(1, total + 1):
        shutil.rmtree(home)
        shutil.copytree(saved, home)
        lake.reopen()
        countdown = Countdown(k)
        with pytest.raises(Killed):
            quality(CrashingEngine(lake.engine, countdown), WritesCount(lake.storage, countdown))
        lake.reopen()
        got = quality(lake.engine, lake.storage)
        assert got[0] == expected[0], f"answers differ after a kill at operation {k} of {total}"
        assert lake.storage.read(uri) == record, f"record differs after a kill at {k}"
        lake.close()

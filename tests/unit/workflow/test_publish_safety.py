"""Publish copies exactly the sans-dup state that quality judged, registers the copy only once it
is complete and verified, and a publish killed after any operation leaves nothing that a rerun
does not clean: the rerun ends with the production of an uninterrupted run."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from runtime import steps
from runtime.errors import QualityCheckFailed, StorageError
from runtime.steps import archive
from runtime.steps.common import without_header

from .test_crash_safety import Countdown, CrashingEngine, CrashingStorage, Killed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
T_0900 = 1_794_560_400_000  # 2026-11-13 09:00 UTC
DAY_MS = 86_400_000
COLS = ("ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions, "
        "ingested_at, day_hour_partition")


def _build(lake, now=NOW):
    s = lake.settings
    steps.crawl(s, lake.engine, lake.storage)
    steps.transform(s, lake.engine, lake.storage)
    steps.dedup(s, lake.engine, lake.storage)
    result = steps.quality(s, lake.engine, lake.storage, now=now)
    assert result.passed, [c.to_dict() for c in result.failed_errors]
    return result


def _rows(lake, table):
    return Counter(lake.engine.execute(f"SELECT {COLS} FROM {table}").rows)


def _archives(lake):
    return steps.archives(lake.settings, lake.engine)


def _archive_folders(lake):
    """Archive folders that hold at least one file (a local delete keeps empty folders)."""
    root = lake.settings.archive_uri
    return {u[len(root):].split("/", 1)[0] for u in lake.storage.list(root)}


def _completed(lake):
    log = archive.read_log(lake.settings, lake.engine, "none")
    return log.completed


def _reopen(lake):
    from runtime.engines import make_engine

    lake.engine.close()
    lake.engine = make_engine(lake.settings)


@pytest.fixture
def judged(mini, helpers):
    """A lake with one publish done (4 day partitions), then a restatement and a new day built
    and judged by quality: the next publish has new rows to copy."""
    mini.raw([helpers.bar(T_0900 + d * DAY_MS) for d in range(4)])
    _build(mini)
    first = steps.publish(mini.settings, mini.engine, mini.storage, now=NOW)
    mini.raw([helpers.bar(T_0900 + DAY_MS, c=10.75, ingested_at="2026-11-21T13:00:00.000Z"),
              helpers.bar(T_0900 + 5 * DAY_MS)])
    _build(mini, NOW + timedelta(hours=1))
    return first


def test_publish_copies_the_judged_files_and_registers_them_without_a_scan(mini, judged):
    s = mini.settings
    sent = []
    inner = mini.engine.execute
    mini.engine.execute = lambda sql: sent.append(without_header(sql)) or inner(sql)
    result = steps.publish(s, mini.engine, mini.storage, now=NOW + timedelta(hours=2))
    # No statement reads the sans-dup table's rows: the archive is its files, copied.
    assert not [q for q in sent if s.sans_dup_table in q and "SELECT" in q.upper()
                and "lineage" not in q]
    # The archive and, beside it, the copy of the splits table the adjusted view reads.
    assert [q.split("(")[0].strip() for q in sent if q.startswith("CREATE EXTERNAL")] == [
        f"CREATE EXTERNAL TABLE {result.table}",
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {result.table}_splits"]
    assert len([q for q in sent if q.startswith(f"ALTER TABLE {result.table} ADD")]) == 1
    assert (result.rows, result.partitions) == (5, 5)
    assert _rows(mini, result.table) == _rows(mini, s.sans_dup_table)
    assert _rows(mini, s.prod_latest_view) == _rows(mini, s.sans_dup_table)
    source = {p: n for p, n, _ in archive.data_files(
        mini.storage, s.table_location(s.sans_dup_table))}
    copied = {p: n for p, n, _ in archive.data_files(mini.storage, result.location)}
    assert copied == source and len(copied) == 5
    assert result.table in _completed(mini)


def test_publish_registers_partitions_in_batches_of_100(make_mini, helpers):
    lake = make_mini(tickers=("AAPL",), partition_granularity="hour")
    # 105 hourly bars in the window: 105 hour partitions.
    lake.raw([helpers.bar(T_0900 + h * 3_600_000) for h in range(105)])
    _build(lake)
    sent = []
    inner = lake.engine.execute
    lake.engine.execute = lambda sql: sent.append(sql) or inner(sql)
    result = steps.publish(lake.settings, lake.engine, lake.storage, now=NOW)
    adds = [q for q in sent if q.startswith(f"ALTER TABLE {result.table} ADD")]
    assert [q.count("PARTITION (") for q in adds] == [100, 5]
    assert (result.rows, result.partitions) == (105, 105)
    assert lake.rows(f"SELECT count(*) FROM {lake.settings.prod_latest_view}") == [(105,)]


def test_publish_refuses_a_table_changed_after_quality(mini, judged):
    s = mini.settings
    before = _rows(mini, s.prod_latest_view)
    # A row written by hand after quality judged the table.
    mini.engine.execute(f"INSERT INTO {s.sans_dup_table} SELECT * FROM {s.sans_dup_table} "
                        f"WHERE bar_time_ms = {T_0900}")
    with pytest.raises(archive.StaleQualityResult, match="changed after quality run") as err:
        steps.publish(s, mini.engine, mini.storage, now=NOW + timedelta(hours=2))
    assert isinstance(err.value, QualityCheckFailed) and err.value.exit_code == 3
    assert "--from quality" in err.value.hint
    assert _archives(mini) == [judged.table]
    assert _rows(mini, s.prod_latest_view) == before
    # Judged again (the duplicate fails its check) and refused for that reason instead.
    steps.quality(s, mini.engine, mini.storage, now=NOW + timedelta(hours=3))
    with pytest.raises(QualityCheckFailed, match="duplicate"):
        steps.publish(s, mini.engine, mini.storage, now=NOW + timedelta(hours=3))


def test_publish_refuses_a_quality_run_without_a_fingerprint(mini, judged):
    s = mini.settings
    # The newest quality run's fingerprint is lost (a run killed between its two records, or
    # results written by an older version).
    steps.quality(s, mini.engine, mini.storage, now=NOW + timedelta(hours=2))
    latest = steps.latest_quality(s, mini.engine)
    mini.engine.execute(
        f"INSERT INTO {s.dq_table} SELECT '{latest.run_id}-x', run_at, check_name, severity, "
        f"failing_rows, passed FROM {s.dq_table} WHERE run_id = '{latest.run_id}'"
    )
    with pytest.raises(archive.StaleQualityResult, match="recorded no fingerprint"):
        steps.publish(s, mini.engine, mini.storage, now=NOW + timedelta(hours=3))
    assert _archives(mini) == [judged.table]


def test_a_copy_that_fails_its_check_is_removed_and_the_view_stays(mini, judged, monkeypatch):
    s = mini.settings
    before = _rows(mini, s.prod_latest_view)
    real_copy = mini.storage.copy

    def truncating_copy(src, dst):
        real_copy(src, dst)
        if "2026-11-14" in dst:  # one file arrives damaged (half its bytes)
            data = mini.storage.read(dst)
            mini.storage.write(dst, data[: len(data) // 2])

    monkeypatch.setattr(mini.storage, "copy", truncating_copy)
    with pytest.raises(StorageError, match="differs from what quality judged"):
        steps.publish(s, mini.engine, mini.storage, now=NOW + timedelta(hours=2))
    assert _archives(mini) == [judged.table]
    assert _archive_folders(mini) == {judged.table}
    assert _rows(mini, s.prod_latest_view) == before


def test_a_copy_whose_files_cannot_be_read_is_removed(mini, judged, monkeypatch):
    s = mini.settings
    real_copy = mini.storage.copy

    def garbling_copy(src, dst):
        real_copy(src, dst)
        if "2026-11-14" in dst:  # same size, unreadable bytes
            data = mini.storage.read(dst)
            mini.storage.write(dst, b"\0" * len(data))

    monkeypatch.setattr(mini.storage, "copy", garbling_copy)
    with pytest.raises(Exception) as err:
        steps.publish(s, mini.engine, mini.storage, now=NOW + timedelta(hours=2))
    assert not isinstance(err.value, QualityCheckFailed)
    assert _archives(mini) == [judged.table]
    assert _archive_folders(mini) == {judged.table}


def _state(lake):
    """The view's rows, and every archive (registered or not) with its rows."""
    s = lake.settings
    tables = _archives(lake)
    return (_rows(lake, s.prod_latest_view), {t: _rows(lake, t) for t in tables},
            _archive_folders(lake))


def test_publish_killed_after_any_operation_then_rerun_equals_an_uninterrupted_run(
    mini, judged, tmp_path
):
    s = mini.settings
    home, saved = s.home, tmp_path / "saved"
    old_rows = _rows(mini, judged.table)
    mini.engine.close()
    shutil.copytree(home, saved)
    mini.engine = None
    at = NOW + timedelta(hours=2)

    def restore():
        from runtime.engines import make_engine

        shutil.rmtree(home)
        shutil.copytree(saved, home)
        mini.engine = make_engine(s)

    restore()
    countdown = Countdown(0)
    uninterrupted = steps.publish(s, CrashingEngine(mini.engine, countdown),
                                  CrashingStorage(mini.storage, countdown), now=at)
    total = countdown.done
    new_rows = _rows(mini, uninterrupted.table)
    assert new_rows == _rows(mini, s.sans_dup_table) != old_rows
    expected = _state(mini)
    assert expected == (new_rows, {judged.table: old_rows, uninterrupted.table: new_rows},
                        {judged.table, uninterrupted.table})
    mini.engine.close()
    assert total > 8  # lineage records, 5 copies, create, partitions, view
    for k in range(1, total + 1):
        restore()
        countdown = Countdown(k)
        with pytest.raises(Killed):
            steps.publish(s, CrashingEngine(mini.engine, countdown),
                          CrashingStorage(mini.storage, countdown), now=at)
        _reopen(mini)  # a new process
        # The view reads a complete copy (the old one until the new one is recorded complete),
        # and every archive recorded complete holds all its rows.
        view, tables, _folders = _state(mini)
        assert view in (old_rows, new_rows), f"view partial after a kill at {k} of {total}"
        for table in _completed(mini):
            assert tables[table] in (old_rows, new_rows), f"{table} partial at {k}"
        steps.publish(s, mini.engine, mini.storage, now=at)
        view, tables, folders = _state(mini)
        assert view == new_rows, f"after a kill at {k} of {total}"
        # Nothing unfinished is left: each archive is registered, complete and recorded.
        assert folders == set(tables) == set(_completed(mini)) | {judged.table}, k
        assert tables[judged.table] == old_rows
        others = [t for t in tables if t != judged.table]
        assert all(tables[t] == new_rows for t in others), k
        # A second archive of the new state only when the killed run had completed its own.
        assert others[-1] == uninterrupted.table or len(others) == 2, (k, others)
        mini.engine.close()
    restore()  # an open engine for the fixture to close


def test_a_registered_unfinished_archive_is_removed_but_never_the_view_s_target(mini, judged):
    s = mini.settings
    log = archive.PublishLog(started={judged.table, "stock_aggregate_prod_20261121_130000"})
    # An archive a killed publish had registered but not recorded complete.
    mini.engine.execute(
        f"CREATE EXTERNAL TABLE stock_aggregate_prod_20261121_130000 (ticker string) "
        f"PARTITIONED BY (day_partition string) STORED AS PARQUET "
        f"LOCATION '{s.table_location('stock_aggregate_prod_20261121_130000')}'"
    )
    mini.storage.write(
        s.table_location("stock_aggregate_prod_20261121_130000") + "day_partition=x/f.parquet",
        b"half")
    removed = archive.clean_unfinished(s, mini.engine, mini.storage, log,
                                       protected=[judged.table])
    assert removed == ["stock_aggregate_prod_20261121_130000"]
    assert _archives(mini) == [judged.table]
    assert _archive_folders(mini) == {judged.table}
    assert mini.rows(f"SELECT count(*) FROM {s.prod_latest_view}") == [(4,)]


def test_fingerprint_changes_with_any_write_and_not_with_reads(mini, judged):
    s = mini.settings
    first = archive.fingerprint(s, mini.engine, mini.storage)
    assert first == archive.fingerprint(s, mini.engine, mini.storage)
    assert first.rows == 5 and len(first.files) == 5
    assert first.partitions(s.partition_column) == [
        "2026-11-13", "2026-11-14", "2026-11-15", "2026-11-16", "2026-11-18"]
    mini.engine.execute(f"INSERT INTO {s.sans_dup_table} SELECT * FROM {s.sans_dup_table} "
                        f"WHERE bar_time_ms = {T_0900}")
    assert archive.fingerprint(s, mini.engine, mini.storage).digest != first.digest



def test_the_archive_pair_serves_the_adjusted_view_and_new_splits_need_a_new_judgement(
    mini, helpers
):
    from .test_split_adjustment import land_splits, traded_bar

    s = mini.settings
    day12, day17 = helpers.ms(2026, 11, 12, 15), helpers.ms(2026, 11, 17, 15)
    mini.raw([{**traded_bar(helpers, day12, 100), "window_to": "2026-11-13"}])
    mini.raw([{**traded_bar(helpers, day17, 51), "window_to": "2026-11-17"}])
    land_splits(mini, [("2026-11-16", "AAPL", 1, 2)], window_to="2026-11-17")
    _build(mini)
    cols = ", ".join(steps.common.PRODUCTION_COLUMNS) + ", day_hour_partition, day_partition"
    adjusted = mini.rows(f"SELECT {cols} FROM {s.adjusted_view} ORDER BY bar_time_ms")
    published = steps.publish(s, mini.engine, mini.storage, now=NOW)
    # The view over the archive and its splits copy gives what quality judged, split applied.
    assert mini.rows(f"SELECT {cols} FROM {s.prod_latest_view} ORDER BY bar_time_ms") == adjusted
    assert mini.rows(f"SELECT close, close_traded FROM {s.prod_latest_view} "
                     "ORDER BY bar_time_ms") == [(50.5, 101.0), (52.0, 52.0)]
    assert mini.rows(f"SELECT count(*) FROM {published.table}_splits") == [(1,)]
    assert steps.archives(s, mini.engine) == [published.table]
    # A split that lands after quality is not published unjudged.
    land_splits(mini, [("2026-11-18", "AAPL", 1, 3)], window_to="2026-11-19", n=2)
    with pytest.raises(archive.StaleQualityResult, match="changed after quality run"):
        steps.publish(s, mini.engine, mini.storage, now=NOW + timedelta(hours=1))
    # Pruning drops the pair: the archive and its splits copy, tables and files.
    steps.quality(s, mini.engine, mini.storage, now=NOW + timedelta(hours=1))
    second = steps.publish(s, mini.engine, mini.storage, now=NOW + timedelta(hours=1))
    dropped = steps.prune(s, mini.engine, mini.storage, keep=1)
    assert dropped.dropped == [published.table]
    assert f"{published.table}_splits" not in mini.engine.list_tables()
    assert _archive_folders(mini) == {second.table, f"{second.table}_splits"}

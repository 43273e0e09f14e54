"""The LocalEngine's speed measures (issue #7) must never change an answer: the scan cache, the
JSON view's file-name handling and the DuckDB settings."""

from __future__ import annotations

import pytest

from runtime.engines.base import QueryResult
from runtime.engines.local import LocalEngine
from runtime.partitioned import WriteResult, write_partitioned

from .conftest import parquet_files, write_firehose_object
from .test_partitioned import HOURS, Recording


def _ctas(engine: LocalEngine, lake, rows: str) -> None:
    engine.execute(
        f"CREATE TABLE t WITH (external_location = '{lake / 't'}', format = 'PARQUET', "
        f"partitioned_by = ARRAY['p']) AS SELECT x, p FROM (VALUES {rows}) AS v (x, p)"
    )


def test_second_read_with_unchanged_files_is_served_from_a_temp_copy(engine, lake):
    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    assert engine.execute("SELECT sum(x) FROM t").scalar() == 3
    assert engine.cache_stats.cached == ()
    assert engine.execute("SELECT sum(x) FROM t WHERE p = 'b'").scalar() == 2
    assert (engine.cache_stats.cached, engine.cache_stats.copies) == (("t",), 1)
    # A join of the table with itself and a qualified name both read the copy, right.
    assert engine.execute(
        "SELECT count(*), sum(a.x) FROM stock_aggregates.t a JOIN t b ON a.p = b.p"
    ).rows == [(2, 3)]


def test_insert_into_a_cached_table_is_seen_by_the_next_read(engine, lake):
    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    engine.execute("SELECT sum(x) FROM t")
    engine.execute("SELECT sum(x) FROM t")
    engine.execute("INSERT INTO t SELECT x, p FROM (VALUES (10, 'c')) AS v (x, p)")
    assert engine.execute("SELECT sum(x) FROM t").scalar() == 13
    assert engine.cache_stats.cached == ()  # the files changed: first read of the new files
    assert engine.execute("SELECT count(*) FROM t").scalar() == 3


def test_deleting_a_file_of_a_cached_table_drops_its_rows(engine, lake):
    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    engine.execute("SELECT sum(x) FROM t")
    assert engine.execute("SELECT sum(x) FROM t").scalar() == 3
    [gone] = [f for f in parquet_files(lake / "t") if "p=a" in str(f)]
    gone.unlink()
    assert engine.execute("SELECT sum(x) FROM t").scalar() == 2


def test_table_recreated_at_the_same_location_is_not_read_from_the_old_copy(engine, lake):
    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    engine.execute("SELECT sum(x) FROM t")
    engine.execute("SELECT sum(x) FROM t")
    engine.execute("DROP TABLE t")
    for f in parquet_files(lake / "t"):
        f.unlink()
    _ctas(engine, lake, "(5, 'a')")
    assert engine.execute("SELECT sum(x) FROM t").scalar() == 5


def test_consistent_reads_check_a_table_once_and_keep_that_state_to_the_end(
    engine, lake, monkeypatch
):
    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    checks = engine.cache_stats.file_checks
    with engine.consistent_reads():
        assert [engine.execute("SELECT sum(x) FROM t").scalar() for _ in range(4)] == [3] * 4
        # checked at the first read, and once more while the second read made the copy
        assert engine.cache_stats.file_checks - checks == 2
        # A file deleted behind the engine's back is not seen inside the block...
        [gone] = [f for f in parquet_files(lake / "t") if "p=a" in str(f)]
        gone.unlink()
        assert engine.execute("SELECT sum(x) FROM t").scalar() == 3
        # ...but the engine's own INSERT is, and unpins the table.
        engine.execute("INSERT INTO t SELECT x, p FROM (VALUES (10, 'c')) AS v (x, p)")
        assert engine.execute("SELECT sum(x) FROM t").scalar() == 12
    assert engine.execute("SELECT sum(x) FROM t").scalar() == 12
    checks = engine.cache_stats.file_checks
    engine.execute("SELECT sum(x) FROM t")
    engine.execute("SELECT sum(x) FROM t")
    # outside a block every read checks the files again
    assert engine.cache_stats.file_checks - checks >= 2


def test_consistent_reads_nest_and_a_dropped_table_is_unpinned(engine, lake):
    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    with engine.consistent_reads():
        engine.execute("SELECT sum(x) FROM t")
        with engine.consistent_reads():
            assert engine.execute("SELECT sum(x) FROM t").scalar() == 3
        # The inner block does not end the outer one: a file deleted behind the engine's back
        # is still not seen.
        [gone] = [f for f in parquet_files(lake / "t") if "p=a" in str(f)]
        gone.unlink()
        assert engine.execute("SELECT sum(x) FROM t").scalar() == 3
        engine.execute("DROP TABLE t")
        for f in parquet_files(lake / "t"):
            f.unlink()
        _ctas(engine, lake, "(5, 'a'), (6, 'b')")
        assert engine.execute("SELECT sum(x) FROM t").scalar() == 11
        assert engine.execute("SELECT sum(x) FROM t").scalar() == 11
    # The outer block ended: the next read sees a file deleted now.
    [gone] = [f for f in parquet_files(lake / "t") if "p=a" in str(f)]
    gone.unlink()
    assert engine.execute("SELECT sum(x) FROM t").scalar() == 6


@pytest.mark.parametrize(
    "statement", ["ALTER TABLE t ADD PARTITION (p = 'c')", "MSCK REPAIR TABLE t"]
)
def test_consistent_reads_see_partitions_the_engine_is_told_about(engine, lake, statement):
    # Files copied into a new partition folder, then announced to the engine as Athena needs:
    # the next read inside the block sees them.
    import shutil

    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    with engine.consistent_reads():
        assert [engine.execute("SELECT sum(x) FROM t").scalar() for _ in range(2)] == [3, 3]
        [source] = [f for f in parquet_files(lake / "t") if "p=b" in str(f)]
        (lake / "t" / "p=c").mkdir()
        shutil.copy(source, lake / "t" / "p=c" / "copy.parquet")
        assert engine.execute("SELECT sum(x) FROM t").scalar() == 3  # not announced yet
        engine.execute(statement)
        assert engine.execute("SELECT sum(x) FROM t").scalar() == 5


def test_a_pinned_kept_stage_evicted_inside_a_block_is_not_copied_on_every_read(home, lake):
    # Every table is over the cache budget, so only kept stages are cached. "a" is pinned while
    # kept (no size cap), then two newer writes evict it: its reads must go back to plain scans,
    # not copy the whole table and throw the copy away each time.
    engine = LocalEngine(home / "catalog.duckdb", scan_cache_bytes=10, scan_cache_min_files=1)

    def write(table):
        write_partitioned(
            engine, table=table, select_sql=HOURS.format(last=3), location=f"{lake}/{table}/"
        )

    try:
        write("a")
        copies = engine.cache_stats.copies
        with engine.consistent_reads():
            assert engine.execute("SELECT count(*) FROM a").scalar() == 4
            write("b")
            write("c")
            assert engine.cache_stats.kept == ("b", "c")
            assert [engine.execute("SELECT count(*) FROM a").scalar() for _ in range(3)] == [4] * 3
        assert engine.cache_stats.copies == copies
        assert engine.cache_stats.cached == ("b", "c")
    finally:
        engine.close()


def test_cte_named_like_a_cached_table_reads_the_cte(engine, lake):
    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    engine.execute("SELECT sum(x) FROM t")
    engine.execute("SELECT sum(x) FROM t")
    assert engine.execute("WITH t AS (SELECT 40 AS x) SELECT sum(x) FROM t").scalar() == 40


def test_table_larger_than_the_cache_budget_is_always_scanned(home, lake):
    engine = LocalEngine(home / "catalog.duckdb", scan_cache_bytes=10, scan_cache_min_files=1)
    try:
        _ctas(engine, lake, "(1, 'a'), (2, 'b')")
        for _ in range(3):
            assert engine.execute("SELECT sum(x) FROM t").scalar() == 3
        assert (engine.cache_stats.cached, engine.cache_stats.copies) == ((), 0)
    finally:
        engine.close()


def test_views_stored_in_the_catalog_never_refer_to_a_temp_copy(engine, lake, home):
    _ctas(engine, lake, "(1, 'a'), (2, 'b')")
    engine.execute("SELECT sum(x) FROM t")
    engine.execute("SELECT sum(x) FROM t")
    engine.execute("CREATE VIEW v AS SELECT x FROM t")
    engine.close()
    other = LocalEngine(home / "catalog.duckdb", scan_cache_min_files=1)
    try:
        assert other.execute("SELECT sum(x) FROM v").scalar() == 3
    finally:
        other.close()


def test_json_table_with_its_own_filename_column_keeps_it_and_its_partitions(engine, home):
    raw = home / "raw"
    write_firehose_object(raw, "2026/11/20/14", "s-1", [{"filename": "mine.csv", "n": 1}])
    engine.execute(
        "CREATE EXTERNAL TABLE r (filename string, n bigint) PARTITIONED BY (partition_0 string, "
        "partition_1 string, partition_2 string, partition_3 string) ROW FORMAT SERDE "
        f"'org.openx.data.jsonserde.JsonSerDe' LOCATION '{raw}/'"
    )
    assert engine.execute("SELECT filename, n, partition_0, partition_3 FROM r").rows == [
        ("mine.csv", 1, "2026", "14")
    ]


def test_json_table_over_an_empty_prefix_keeps_its_typed_columns(engine, home):
    raw = home / "raw"
    raw.mkdir()
    engine.execute(
        "CREATE EXTERNAL TABLE r (ticker string, t bigint) PARTITIONED BY (partition_0 string) "
        f"ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION '{raw}/'"
    )
    assert engine.execute("DESCRIBE r").rows == [
        ("ticker", "string", ""),
        ("t", "bigint", ""),
        ("partition_0", "string", "partition key"),
    ]
    result = engine.execute("SELECT ticker, t, partition_0 FROM r")
    assert (result.columns, result.rows) == (["ticker", "t", "partition_0"], [])


@pytest.mark.parametrize(
    "setting, expected",
    [("memory_limit", "2.7 GiB"), ("preserve_insertion_order", False)],
)
def test_connection_bounds_memory_and_drops_insertion_order(engine, setting, expected):
    assert engine.con.execute(f"SELECT current_setting('{setting}')").fetchone()[0] == expected


def test_spill_folder_is_next_to_the_catalog(engine, home):
    spill = engine.con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert spill == str(home / "catalog.duckdb") + ".tmp"


class _Silent(Recording):
    """An engine whose CTAS/INSERT report no row count (as Athena does for some statements)."""

    def execute(self, sql: str) -> QueryResult:
        result = super().execute(sql)
        if sql.startswith(("CREATE TABLE bars ", "INSERT INTO bars ")):
            return QueryResult()
        return result


def test_written_rows_are_the_sum_the_statements_report_without_a_recount(engine, lake):
    rec = Recording(engine)
    result = write_partitioned(
        rec, table="bars", select_sql=HOURS.format(last=149), location=f"{lake}/bars/"
    )
    assert result == WriteResult(rows=150, partitions=150, statements=2, source_rows=150)
    assert "SELECT count(*) FROM bars" not in rec.statements


def test_written_rows_are_counted_when_a_statement_reports_none(engine, lake):
    rec = _Silent(engine)
    result = write_partitioned(
        rec, table="bars", select_sql=HOURS.format(last=149), location=f"{lake}/bars/"
    )
    assert result == WriteResult(rows=150, partitions=150, statements=2, source_rows=150)
    assert rec.statements.count("SELECT count(*) FROM bars") == 1

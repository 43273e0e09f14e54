"""The scan cache on its own: a connection, one Parquet table's view, and the cache deciding when
a read may come from a copy (no LocalEngine, no SQL statement handlers)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Tuple

import pytest
import sqlglot

from runtime.engines.local.cache import CacheStats, ScanCache, files_signature
from runtime.engines.local.catalog import TableEntry
from runtime.engines.local.connection import Connection


def _write(db: Connection, path: Path, values: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db.con.execute(f"COPY (SELECT * FROM (VALUES {values}) AS v (x)) TO '{path}' (FORMAT PARQUET)")


@pytest.fixture
def table(tmp_path: Path) -> Iterator[Tuple[Connection, TableEntry]]:
    db = Connection(str(tmp_path / "catalog.duckdb"), "lake")
    location = tmp_path / "t"
    _write(db, location / "a.parquet", "(1), (2)")
    db.con.execute(f"CREATE VIEW lake.t AS SELECT * FROM read_parquet('{location}/*.parquet')")
    yield db, TableEntry("t", "parquet", f"{location}/", [("x", "INTEGER")])
    db.close()


def _read(cache: ScanCache, entry: TableEntry, db: Connection) -> Tuple[str, int]:
    """What a SELECT of the table is rewritten to, and the sum it then gives."""
    select = sqlglot.parse_one("SELECT sum(x) FROM t", read="athena")
    node = cache.swap_tables(select, {entry.name: entry}.get)
    sql = node.sql("duckdb")
    return sql, db.con.execute(sql).fetchone()[0]


def test_second_read_with_the_same_files_comes_from_a_copy(table):
    db, entry = table
    cache = ScanCache(db, min_files=1)

    first, total = _read(cache, entry, db)
    assert (first, total) == ("SELECT SUM(x) FROM t", 3)
    assert _read(cache, entry, db) == ('SELECT SUM(x) FROM __sp_cache_t AS "t"', 3)
    assert cache.stats == CacheStats(cached=("t",), kept=(), copies=1, hits=1, file_checks=3)


def test_a_changed_file_drops_the_copy_and_the_read_scans_again(table):
    db, entry = table
    cache = ScanCache(db, min_files=1)
    _read(cache, entry, db)
    _read(cache, entry, db)

    _write(db, Path(entry.location) / "b.parquet", "(10)")

    assert _read(cache, entry, db) == ("SELECT SUM(x) FROM t", 13)
    assert cache.stats.cached == ()


def test_a_table_over_the_byte_budget_is_never_copied(table):
    db, entry = table
    cache = ScanCache(db, max_bytes=10, min_files=1)

    reads = [_read(cache, entry, db) for _ in range(3)]

    assert reads == [("SELECT SUM(x) FROM t", 3)] * 3
    assert (cache.stats.cached, cache.stats.copies) == ((), 0)


def test_a_table_of_fewer_files_than_the_minimum_is_read_from_its_files(table):
    db, entry = table
    _write(db, Path(entry.location) / "b.parquet", "(4)")
    cache = ScanCache(db, min_files=3)

    reads = [_read(cache, entry, db) for _ in range(3)]

    assert reads == [("SELECT SUM(x) FROM t", 7)] * 3
    assert (cache.stats.cached, cache.stats.copies) == ((), 0)
    _write(db, Path(entry.location) / "c.parquet", "(5)")  # the third file: now worth a copy
    assert [_read(cache, entry, db) for _ in range(2)] == [
        ("SELECT SUM(x) FROM t", 12), ('SELECT SUM(x) FROM __sp_cache_t AS "t"', 12)]
    assert cache.stats.copies == 1


def test_inside_a_block_files_are_checked_once_until_the_table_is_said_to_change(table):
    db, entry = table
    cache = ScanCache(db, min_files=1)
    assert cache.begin_block() is True
    assert cache.begin_block() is False  # nested: only the outermost block ends pinning
    _read(cache, entry, db)
    _read(cache, entry, db)
    checks = cache.stats.file_checks
    _write(db, Path(entry.location) / "b.parquet", "(10)")

    assert _read(cache, entry, db)[1] == 3  # the state the block started with
    assert cache.stats.file_checks == checks
    cache.table_changed("t")
    assert _read(cache, entry, db) == ("SELECT SUM(x) FROM t", 13)
    cache.end_block()


def test_dropped_table_loses_its_copy(table):
    db, entry = table
    cache = ScanCache(db, min_files=1)
    _read(cache, entry, db)
    _read(cache, entry, db)

    cache.table_dropped("t")

    assert cache.stats.cached == ()
    assert db.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary"
    ).fetchone() == (0,)


def test_signature_follows_size_and_mtime_and_is_none_for_no_files(tmp_path, table):
    db, entry = table
    before = files_signature(entry, None)
    path = Path(entry.location) / "a.parquet"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))

    assert files_signature(entry, None) != before
    assert files_signature(entry, max_bytes=10) is None
    empty = TableEntry("e", "parquet", f"{tmp_path / 'nothing'}/", [("x", "INTEGER")])
    assert files_signature(empty, None) is None

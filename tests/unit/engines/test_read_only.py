"""The local engine opened read-only, as the commands that only read open it: it reads every
table and view, writes not a byte of its catalog (so a full disk does not stop it), refuses a
statement that would write before any file is touched, and shares the file with other readers."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import pytest

from runtime.engines.local import LocalEngine
from runtime.errors import EngineError
from runtime.settings import Settings


@pytest.fixture
def home(tmp_path):
    settings = Settings(home=tmp_path / "home", tickers=("AAPL",))
    writer = LocalEngine.from_settings(settings)
    writer.execute("CREATE TABLE t AS SELECT 1 AS a UNION ALL SELECT 2 AS a")
    writer.execute("CREATE VIEW v AS SELECT CAST(a AS varchar) AS b FROM t")
    writer.close()
    return settings


def _state(settings):
    """The catalog file's bytes and modification time, and every file of the home."""
    catalog = settings.catalog_path
    files = sorted(str(p.relative_to(settings.home)) for p in settings.home.rglob("*"))
    return hashlib.sha256(catalog.read_bytes()).hexdigest(), catalog.stat().st_mtime_ns, files


def test_a_reader_reads_tables_and_views_and_writes_nothing(home):
    before = _state(home)
    reader = LocalEngine.from_settings(home, read_only=True)
    try:
        assert reader.list_tables() == ["t", "v"]
        assert reader.execute("SELECT sum(a) FROM t").scalar() == 3
        assert reader.execute("SELECT b FROM v ORDER BY b").rows == [("1",), ("2",)]
        # a second read of the same table comes from the scan cache (a temporary table)
        assert reader.execute("SELECT count(*) FROM t").scalar() == 2
    finally:
        reader.close()
    assert _state(home) == before


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE u AS SELECT 1 AS a",
        "INSERT INTO t SELECT 3 AS a",
        "DROP TABLE t",
        "CREATE VIEW w AS SELECT 1 AS x",
        "MSCK REPAIR TABLE t",
    ],
)
def test_a_reader_refuses_a_write_before_touching_any_file(home, sql):
    before = _state(home)
    reader = LocalEngine.from_settings(home, read_only=True)
    try:
        with pytest.raises(EngineError, match=r"this statement writes, but the catalog .* was "
                                              r"opened read-only"):
            reader.execute(sql)
        assert reader.execute("SELECT count(*) FROM t").scalar() == 2
    finally:
        reader.close()
    assert _state(home) == before


def test_a_reader_of_a_home_without_a_catalog_sees_no_tables_and_creates_nothing(tmp_path):
    settings = Settings(home=tmp_path / "new", tickers=("AAPL",))
    reader = LocalEngine.from_settings(settings, read_only=True)
    try:
        assert reader.list_tables() == []
        with pytest.raises(EngineError, match="TABLE_NOT_FOUND"):
            reader.execute("SELECT * FROM stock_aggregate_prod_latest")
    finally:
        reader.close()
    assert not settings.catalog_path.exists()


def test_readers_share_the_catalog_with_a_reader_in_another_process(home):
    # Another process (a notebook, a second `stockpipe query`) holds the file read-only.
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, duckdb
            con = duckdb.connect({str(home.catalog_path)!r}, read_only=True)
            print("open", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        reader = LocalEngine.from_settings(home, read_only=True)
        try:
            assert reader.execute("SELECT sum(a) FROM t").scalar() == 3
        finally:
            reader.close()
        # A writer cannot open it meanwhile (DuckDB's file lock): what `tables` met before.
        with pytest.raises(EngineError, match="open in another process"):
            LocalEngine.from_settings(home)
    finally:
        holder.stdin.close()
        holder.wait(10)


@pytest.mark.parametrize(
    "sql, reads",
    [
        ("SELECT 1", True),
        ("  -- a comment\n/* another */ with a AS (SELECT 1 AS x) SELECT x FROM a", True),
        ("(SELECT 1) UNION ALL (SELECT 2)", True),
        ("SHOW TABLES", True),
        ("DESCRIBE t", True),
        ("VALUES 1", True),
        ("CREATE TABLE x AS SELECT 1 AS a", False),
        ("INSERT INTO t SELECT 1", False),
        ("DROP TABLE t", False),
        ("MSCK REPAIR TABLE t", False),
        ("ALTER TABLE t ADD PARTITION (p='1')", False),
        ("", False),
        ("selectx FROM t", False),
    ],
)
def test_statements_that_only_read(sql, reads):
    from runtime.engines.local.guard import reads_only

    assert reads_only(sql) is reads

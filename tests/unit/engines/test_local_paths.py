"""Athena's `"$path"` pseudo-column on JSON tables and ALTER TABLE DROP PARTITION, locally."""

from __future__ import annotations

import pytest

from runtime.engines.local import LocalEngine
from runtime.errors import EngineError
from runtime.storage import LocalStorage


@pytest.fixture
def raw(tmp_path):
    engine = LocalEngine(tmp_path / "catalog.duckdb")
    root = tmp_path / "raw"
    files = {
        "a": root / "2026/11/20/15/s-1-a",
        "b": root / "2026/11/21/15/s-1-b",
        "hidden": root / "2026/11/21/15/.s-1-c",
    }
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f'{{"ticker": "{name}", "t": {i}}}\n' for i in range(2)))
    engine.execute(
        "CREATE EXTERNAL TABLE raw (ticker string, t bigint) PARTITIONED BY (partition_0 string, "
        "partition_1 string, partition_2 string, partition_3 string) ROW FORMAT SERDE "
        f"'org.openx.data.jsonserde.JsonSerDe' LOCATION '{root}/'"
    )
    yield engine, files
    engine.close()


def test_path_names_each_rows_object_and_star_leaves_it_out(raw):
    engine, files = raw
    got = engine.execute('SELECT ticker, "$path" FROM raw ORDER BY 1, 2').rows
    assert got == [("a", str(files["a"]))] * 2 + [("b", str(files["b"]))] * 2
    assert engine.execute("SELECT * FROM raw LIMIT 1").columns == [
        "ticker", "t", "partition_0", "partition_1", "partition_2", "partition_3"]


def test_a_path_list_opens_only_those_objects(raw):
    engine, files = raw
    before = engine.json_bytes_read
    sql = (f'SELECT count(*), min("$path") FROM raw WHERE "$path" IN (\'{files["b"]}\', '
           f"'{files['hidden']}', '/elsewhere/x') AND partition_2 = '21'")
    assert engine.execute(sql).rows == [(2, str(files["b"]))]
    # Only b was opened: a hidden object or a file outside the table is never read.
    assert engine.json_bytes_read - before == files["b"].stat().st_size
    # Without a list, every object of the table is read, as Athena scans them all.
    engine.execute('SELECT count(DISTINCT "$path") FROM raw')
    assert engine.json_bytes_read - before == (
        files["b"].stat().st_size * 2 + files["a"].stat().st_size)


def test_path_works_inside_a_ctas(raw, tmp_path):
    engine, files = raw
    engine.execute(
        f"CREATE TABLE picked WITH (external_location = '{tmp_path}/picked/', "
        f"format = 'PARQUET') AS SELECT ticker, \"$path\" AS source_object FROM raw "
        f"WHERE \"$path\" = '{files['a']}'"
    )
    assert engine.execute("SELECT DISTINCT source_object FROM picked").rows == [
        (str(files["a"]),)]


def test_drop_partition_needs_the_files_gone_first(tmp_path):
    engine = LocalEngine(tmp_path / "catalog.duckdb")
    loc = tmp_path / "t"
    engine.execute(
        f"CREATE TABLE t WITH (external_location = '{loc}/', format = 'PARQUET', "
        "partitioned_by = ARRAY['p']) AS SELECT * FROM (VALUES (1, 'x'), (2, 'y')) AS v (n, p)"
    )
    assert engine.execute("SELECT sum(n) FROM t").scalar() == 3
    with pytest.raises(EngineError, match="delete them first"):
        engine.execute("ALTER TABLE t DROP PARTITION (p = 'x')")
    LocalStorage().delete_prefix(f"{loc}/p=x/")
    engine.execute("ALTER TABLE t DROP IF EXISTS PARTITION (p = 'x'), PARTITION (p = 'zz')")
    assert engine.execute("SELECT sum(n) FROM t").scalar() == 2
    with pytest.raises(EngineError, match="EntityNotFoundException"):
        engine.execute("ALTER TABLE t DROP PARTITION (p = 'zz')")
    with pytest.raises(EngineError, match=r"name every partition column \['p'\]"):
        engine.execute("ALTER TABLE t DROP PARTITION (q = 'x')")
    engine.close()

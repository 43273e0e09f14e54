"""LocalEngine: Athena's CTAS / INSERT / DROP / VIEW semantics on DuckDB, and Athena's rules."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from runtime.engines.local import LocalEngine
from runtime.errors import EngineError, IdentifierError, UnsupportedSQLError

from .conftest import parquet_files

HOURS_SQL = (
    "SELECT CAST(x AS bigint) AS n, "
    "format_datetime(from_unixtime(1577836800 + x * 3600), 'yyyy-MM-dd-HH') AS day_hour_partition "
    "FROM UNNEST(sequence(0, {last})) AS u (x)"
)


def ctas(table: str, location: Path, select: str, partitioned: bool = True) -> str:
    part = ", partitioned_by = ARRAY['day_hour_partition']" if partitioned else ""
    return (
        f"CREATE TABLE {table} WITH (external_location = '{location}/', format = 'PARQUET', "
        f"write_compression = 'SNAPPY'{part}) AS {select}"
    )


def test_partitioned_ctas_writes_hive_layout_with_string_partition(engine, lake):
    loc = lake / "bars"

    result = engine.execute(ctas("bars", loc, HOURS_SQL.format(last=2)))

    assert result.rows == [(3,)]
    folders = sorted(p.name for p in loc.iterdir())
    assert folders == [
        "day_hour_partition=2020-01-01-00",
        "day_hour_partition=2020-01-01-01",
        "day_hour_partition=2020-01-01-02",
    ]
    assert all(len(list((loc / f).glob("*.parquet"))) == 1 for f in folders)
    rows = engine.execute("SELECT n, day_hour_partition FROM bars ORDER BY n").rows
    assert rows == [(0, "2020-01-01-00"), (1, "2020-01-01-01"), (2, "2020-01-01-02")]
    described = engine.execute("DESCRIBE bars").rows
    assert described == [("n", "bigint", ""), ("day_hour_partition", "string", "partition key")]
    # The partition value is not auto-typed as a date by DuckDB's hive reader.
    assert (
        engine.execute("SELECT typeof(day_hour_partition) FROM bars LIMIT 1").scalar() == "VARCHAR"
    )


def test_partition_files_do_not_repeat_the_partition_column(engine, lake):
    loc = lake / "bars"
    engine.execute(ctas("bars", loc, HOURS_SQL.format(last=0)))

    (path,) = parquet_files(loc)
    names = [
        r[0]
        for r in duckdb.sql(
            f"DESCRIBE SELECT * FROM read_parquet('{path}', hive_partitioning = false)"
        ).fetchall()
    ]
    assert names == ["n"]


def test_unpartitioned_ctas_writes_files_directly_under_location(engine, lake):
    loc = lake / "flat"

    engine.execute(ctas("flat", loc, "SELECT 1 AS a, 'x' AS b", partitioned=False))

    files = list(loc.iterdir())
    assert len(files) == 1 and files[0].suffix == ".parquet"
    assert engine.execute("SELECT a, b FROM flat").rows == [(1, "x")]


def test_ctas_over_100_partitions_is_refused_and_writes_nothing(engine, lake):
    loc = lake / "big"

    with pytest.raises(EngineError) as info:
        engine.execute(ctas("big", loc, HOURS_SQL.format(last=249)))

    assert info.value.error_name == "HIVE_TOO_MANY_OPEN_PARTITIONS"
    assert "Exceeded limit of 100 open writers for partitions/buckets" in str(info.value)
    # the workaround in SQL terms, for an analyst at the query prompt
    assert "a CTAS of the first 100, then INSERT INTO batches of at most 100" in str(info.value)
    assert "250 partitions" in str(info.value)
    # Files the refused statement wrote are removed again, with their partition folders.
    assert list(loc.rglob("*")) == [] if loc.exists() else True
    assert "big" not in engine.list_tables()


def test_exactly_100_partitions_is_allowed(engine, lake):
    result = engine.execute(ctas("hundred", lake / "hundred", HOURS_SQL.format(last=99)))

    assert result.rows == [(100,)]
    assert engine.execute("SELECT count(DISTINCT day_hour_partition) FROM hundred").scalar() == 100


def test_ctas_into_non_empty_location_is_refused(engine, lake):
    loc = lake / "used"
    loc.mkdir()
    (loc / "leftover.parquet").write_bytes(b"orphan from a failed run")

    with pytest.raises(EngineError, match="must be empty") as info:
        engine.execute(ctas("used", loc, "SELECT 1 AS a", partitioned=False))

    assert info.value.error_name == "HIVE_PATH_ALREADY_EXISTS"
    assert str(loc) in str(info.value)
    assert (loc / "leftover.parquet").read_bytes() == b"orphan from a failed run"


def test_ctas_of_existing_table_is_refused(engine, lake):
    engine.execute(ctas("t", lake / "t", "SELECT 1 AS a", partitioned=False))

    with pytest.raises(EngineError, match="already exists"):
        engine.execute(ctas("t", lake / "t2", "SELECT 1 AS a", partitioned=False))


def test_partition_column_must_be_last(engine, lake):
    select = "SELECT '2020-01-01-00' AS day_hour_partition, 1 AS n"

    with pytest.raises(EngineError, match="Partition keys must be the last columns") as info:
        engine.execute(ctas("bad", lake / "bad", select))

    assert info.value.error_name == "HIVE_COLUMN_ORDER_MISMATCH"
    assert not (lake / "bad").exists()


@pytest.mark.parametrize(
    "prop, name",
    [
        ("bucketed_by = ARRAY['n'], bucket_count = 4", "bucketed_by"),
        ("orc_compression = 'ZLIB'", "orc_compression"),
        ("field_delimiter = ','", "field_delimiter"),
    ],
)
def test_unsupported_ctas_property_is_refused_by_name(engine, lake, prop, name):
    sql = (
        f"CREATE TABLE t WITH (external_location = '{lake}/t/', format = 'PARQUET', {prop}) "
        "AS SELECT 1 AS n"
    )

    with pytest.raises(UnsupportedSQLError, match=name):
        engine.execute(sql)
    assert "t" not in engine.list_tables()


def test_non_parquet_format_and_s3_location_are_refused(engine, lake):
    with pytest.raises(UnsupportedSQLError, match="PARQUET only"):
        engine.execute(
            f"CREATE TABLE t WITH (external_location = '{lake}/t/', format = 'ORC') "
            "AS SELECT 1 AS n"
        )
    with pytest.raises(UnsupportedSQLError, match="local filesystem only"):
        engine.execute(
            "CREATE TABLE t WITH (external_location = 's3://bucket/t/') AS SELECT 1 AS n"
        )


def test_ctas_column_of_timestamp_with_time_zone_is_refused_as_in_athena(engine, lake):
    with pytest.raises(EngineError, match="timestamp\\(3\\) with time zone") as info:
        engine.execute(ctas("tz", lake / "tz", "SELECT from_unixtime(0) AS ts", partitioned=False))

    assert info.value.error_name == "NOT_SUPPORTED"


def test_ctas_column_without_name_is_refused_as_in_athena(engine, lake):
    with pytest.raises(EngineError, match="Column name not specified at position 2"):
        engine.execute(ctas("anon", lake / "anon", "SELECT 1 AS a, 1 + 1", partitioned=False))


def test_sum_of_bigint_is_stored_as_bigint(engine, lake):
    engine.execute(
        ctas(
            "agg",
            lake / "agg",
            "SELECT sum(x) AS total FROM (VALUES 1, 2) AS t (x)",
            partitioned=False,
        )
    )

    assert engine.execute("DESCRIBE agg").rows == [("total", "bigint", "")]
    assert engine.execute("SELECT total FROM agg").scalar() == 3


def test_insert_appends_new_files_without_overwriting(engine, lake):
    loc = lake / "bars"
    engine.execute(ctas("bars", loc, HOURS_SQL.format(last=1)))
    before = {p: p.read_bytes() for p in parquet_files(loc)}

    result = engine.execute(
        "INSERT INTO bars SELECT 10, '2020-01-01-00' UNION ALL SELECT 11, '2020-01-05-00'"
    )

    assert result.rows == [(2,)]
    after = parquet_files(loc)
    assert len(after) == len(before) + 2
    assert all(p.read_bytes() == data for p, data in before.items())
    rows = engine.execute(
        "SELECT day_hour_partition, count(*), sum(n) FROM bars GROUP BY 1 ORDER BY 1"
    ).rows
    assert rows == [("2020-01-01-00", 2, 10), ("2020-01-01-01", 1, 1), ("2020-01-05-00", 1, 11)]


def test_insert_casts_to_table_types_by_position(engine, lake):
    engine.execute(ctas("bars", lake / "bars", HOURS_SQL.format(last=0)))

    engine.execute("INSERT INTO bars SELECT CAST(5 AS integer), '2020-02-01-00'")

    assert engine.execute("SELECT typeof(n) FROM bars WHERE n = 5").scalar() == "BIGINT"


def test_insert_over_100_partitions_is_refused(engine, lake):
    engine.execute(ctas("bars", lake / "bars", HOURS_SQL.format(last=0)))

    with pytest.raises(EngineError) as info:
        engine.execute("INSERT INTO bars " + HOURS_SQL.format(last=100))

    assert info.value.error_name == "HIVE_TOO_MANY_OPEN_PARTITIONS"
    assert "101 partitions" in str(info.value)
    assert engine.execute("SELECT count(*) FROM bars").scalar() == 1
    # Only the table's own partition is left on disk: the refused rows' folders are gone.
    assert [p.name for p in (lake / "bars").iterdir()] == ["day_hour_partition=2020-01-01-00"]


def test_insert_with_wrong_column_count_is_refused(engine, lake):
    engine.execute(ctas("bars", lake / "bars", HOURS_SQL.format(last=0)))

    with pytest.raises(EngineError, match="expects 2 columns"):
        engine.execute("INSERT INTO bars SELECT 1")


def test_insert_into_unknown_table_is_refused(engine):
    with pytest.raises(EngineError, match="does not exist"):
        engine.execute("INSERT INTO nowhere SELECT 1")


def test_drop_table_keeps_files(engine, lake):
    loc = lake / "bars"
    engine.execute(ctas("bars", loc, HOURS_SQL.format(last=2)))
    files = parquet_files(loc)

    engine.execute("DROP TABLE bars")

    assert "bars" not in engine.list_tables()
    assert parquet_files(loc) == files
    with pytest.raises(EngineError, match="does not exist"):
        engine.execute("DROP TABLE bars")
    engine.execute("DROP TABLE IF EXISTS bars")
    # Athena refuses a new CTAS over the orphaned files too.
    with pytest.raises(EngineError, match="must be empty"):
        engine.execute(ctas("bars", loc, HOURS_SQL.format(last=2)))


def test_view_over_table_sees_rows_inserted_later(engine, lake):
    engine.execute(ctas("bars", lake / "bars", HOURS_SQL.format(last=2)))
    engine.execute("CREATE VIEW big_bars AS SELECT n FROM bars WHERE n >= 1")

    assert engine.execute("SELECT n FROM big_bars ORDER BY n").rows == [(1,), (2,)]
    engine.execute("INSERT INTO bars SELECT 7, '2020-03-01-00'")
    assert engine.execute("SELECT n FROM big_bars ORDER BY n").rows == [(1,), (2,), (7,)]


def test_create_or_replace_view_and_drop_view(engine):
    engine.execute("CREATE VIEW v AS SELECT 1 AS a")
    with pytest.raises(EngineError, match="already exists"):
        engine.execute("CREATE VIEW v AS SELECT 2 AS a")
    engine.execute("CREATE OR REPLACE VIEW v AS SELECT 2 AS a")
    assert engine.execute("SELECT a FROM v").scalar() == 2
    with pytest.raises(EngineError, match="use DROP VIEW"):
        engine.execute("DROP TABLE v")
    engine.execute("DROP VIEW v")
    assert engine.list_tables() == []


def test_catalog_is_seen_by_a_second_engine(home, lake):
    first = LocalEngine(home / "catalog.duckdb")
    first.execute(ctas("bars", lake / "bars", HOURS_SQL.format(last=2)))
    first.execute("CREATE VIEW late AS SELECT max(n) AS m FROM bars")
    first.close()

    second = LocalEngine(home)  # a home folder resolves to home/catalog.duckdb
    try:
        assert second.list_tables() == ["bars", "late"]
        assert second.execute("SELECT m FROM late").scalar() == 2
        assert second.execute("SELECT count(*) FROM stock_aggregates.bars").scalar() == 3
    finally:
        second.close()


def test_empty_partitioned_ctas_gives_a_typed_empty_table(engine, lake):
    engine.execute(ctas("none", lake / "none", HOURS_SQL.format(last=3) + " WHERE x > 100"))

    assert engine.execute("SELECT count(*) FROM none").scalar() == 0
    assert engine.execute("DESCRIBE none").rows[0] == ("n", "bigint", "")
    engine.execute("INSERT INTO none SELECT 1, '2020-01-01-00'")
    assert engine.execute("SELECT n, day_hour_partition FROM none").rows == [(1, "2020-01-01-00")]


def test_show_tables_and_show_partitions(engine, lake):
    engine.execute(ctas("bars", lake / "bars", HOURS_SQL.format(last=1)))
    engine.execute("CREATE VIEW bars_view AS SELECT * FROM bars")

    assert engine.execute("SHOW TABLES").rows == [("bars",), ("bars_view",)]
    assert engine.execute("SHOW TABLES IN stock_aggregates 'bars_*'").rows == [("bars_view",)]
    assert engine.execute("SHOW VIEWS").rows == [("bars_view",)]
    assert engine.execute("-- from a .sql file\n/* note */ SHOW TABLES 'bars'").rows == [("bars",)]
    assert engine.execute("SHOW PARTITIONS bars").rows == [
        ("day_hour_partition=2020-01-01-00",),
        ("day_hour_partition=2020-01-01-01",),
    ]


def test_qualified_names_resolve_to_the_engine_database(engine, lake):
    engine.execute(ctas("stock_aggregates.bars", lake / "bars", HOURS_SQL.format(last=0)))

    assert engine.execute("SELECT count(*) FROM awsdatacatalog.stock_aggregates.bars").scalar() == 1
    with pytest.raises(EngineError, match="database 'other' does not exist"):
        engine.execute("SELECT * FROM other.bars")


@pytest.mark.parametrize("bad", ['"x; drop"', '"' + "a" * 129 + '"', '"Bad-Name"'])
def test_bad_table_identifiers_are_rejected_before_any_sql_runs(engine, lake, bad):
    with pytest.raises(IdentifierError):
        engine.execute(
            f"CREATE TABLE {bad} WITH (external_location = '{lake}/x/') AS SELECT 1 AS a"
        )

    assert list(lake.iterdir()) == []
    assert engine.list_tables() == []


@pytest.mark.parametrize("bad", ["x; drop", "", "a" * 129, None])
def test_bad_database_names_are_rejected_before_opening(tmp_path, bad):
    with pytest.raises(IdentifierError):
        LocalEngine(tmp_path / "catalog.duckdb", database=bad if bad is not None else 5)
    assert not (tmp_path / "catalog.duckdb").exists()


def test_unsupported_statement_is_refused(engine):
    with pytest.raises(UnsupportedSQLError, match="does not run this kind of statement"):
        engine.execute("UPDATE t SET a = 1")


def test_two_statements_at_once_are_refused(engine):
    with pytest.raises(EngineError, match="exactly one statement"):
        engine.execute("SELECT 1; SELECT 2")


def test_duckdb_error_carries_engine_text_and_statement(engine):
    with pytest.raises(EngineError) as info:
        engine.execute("SELECT * FROM no_such_table WHERE 1 = 1")

    message = str(info.value)
    assert "no_such_table" in message
    assert "[statement: SELECT * FROM no_such_table WHERE 1 = 1]" in message


def test_closed_engine_says_so(home):
    eng = LocalEngine(home / "c.duckdb")
    eng.close()
    eng.close()  # twice is fine
    with pytest.raises(EngineError, match="closed"):
        eng.execute("SELECT 1")


def test_insert_with_column_list_fills_missing_columns_with_null(engine, lake):
    engine.execute(
        ctas("t", lake / "t", "SELECT 1 AS a, 'x' AS b, '2020-01-01-00' AS day_hour_partition")
    )

    engine.execute("INSERT INTO t (day_hour_partition, a) SELECT '2020-01-02-00', 2")

    assert engine.execute("SELECT a, b, day_hour_partition FROM t ORDER BY a").rows == [
        (1, "x", "2020-01-01-00"),
        (2, None, "2020-01-02-00"),
    ]
    with pytest.raises(EngineError, match="no such column"):
        engine.execute("INSERT INTO t (nope) SELECT 1")


def test_describe_view_and_insert_into_view_refused(engine):
    engine.execute("CREATE VIEW v AS SELECT CAST(1 AS bigint) AS a, 'x' AS b")

    assert engine.execute("DESCRIBE v").rows == [("a", "bigint", ""), ("b", "string", "")]
    with pytest.raises(UnsupportedSQLError, match="Parquet tables only"):
        engine.execute("INSERT INTO v SELECT 1, 'y'")


def test_two_open_engines_in_one_process_share_the_catalog(home):
    first = LocalEngine(home / "catalog.duckdb")
    second = LocalEngine(home / "catalog.duckdb")
    try:
        first.execute("CREATE VIEW v AS SELECT 41 + 1 AS answer")

        assert second.list_tables() == ["v"]
        assert second.execute("SELECT answer FROM v").scalar() == 42
    finally:
        first.close()
        second.close()


def test_null_partition_goes_to_hive_default_partition_and_reads_back_null(engine, lake):
    engine.execute(
        ctas("t", lake / "t", "SELECT 1 AS n, CAST(NULL AS varchar) AS day_hour_partition")
    )

    assert [p.name for p in (lake / "t").iterdir()] == [
        "day_hour_partition=__HIVE_DEFAULT_PARTITION__"
    ]
    assert engine.execute("SELECT n, day_hour_partition FROM t").rows == [(1, None)]


def test_unaliased_expressions_are_named_by_position_as_athena_names_them(engine):
    result = engine.execute(
        "SELECT x, count(*), max(x) AS top, x + 1 FROM (VALUES 1, 2, 2) AS t(x) GROUP BY x "
        "ORDER BY x"
    )
    assert result.columns == ["x", "_col1", "top", "_col3"]
    assert result.rows == [(1, 1, 1, 2), (2, 2, 2, 3)]
    # a UNION takes the first branch's names; a * keeps the engine's names (positions shift)
    assert engine.execute("SELECT 1 UNION ALL SELECT 2").columns == ["_col0"]
    assert engine.execute("SELECT *, 1 AS one FROM (SELECT 2 AS y)").columns == ["y", "one"]


def test_catalog_held_by_another_process_is_a_one_line_error_naming_its_pid(home):
    import subprocess
    import sys

    from runtime.errors import EngineError

    path = home / "catalog.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.readline()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(EngineError) as err:
            LocalEngine(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert str(err.value) == (
        f"the local catalog {path} is open in another process (PID {holder.pid}); wait for it "
        "to finish, or close its connection (a notebook's too), then retry"
    )

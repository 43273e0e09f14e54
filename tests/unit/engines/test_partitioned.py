"""write_partitioned: one CTAS plus INSERT batches of <= 100 partitions, from a stage read once."""

from __future__ import annotations

from typing import List

import pytest

from runtime.engines.base import Engine, QueryResult
from runtime.errors import ConfigError, EngineError, IdentifierError
from runtime.partitioned import WriteResult, write_partitioned

from .conftest import parquet_files

HOURS = (
    "SELECT CAST(x AS bigint) AS n, "
    "format_datetime(from_unixtime(1577836800 + x * 3600), 'yyyy-MM-dd-HH') AS day_hour_partition "
    "FROM UNNEST(sequence(0, {last})) AS u (x)"
)


class Recording(Engine):
    """Wraps an engine and keeps every statement it was asked to run."""

    def __init__(self, inner: Engine, fail_on: str = ""):
        self.inner = inner
        self.database = inner.database
        self.statements: List[str] = []
        self.fail_on = fail_on

    def execute(self, sql: str) -> QueryResult:
        self.statements.append(sql)
        if self.fail_on and sql.startswith(self.fail_on):
            raise EngineError(f"simulated crash on {self.fail_on}")
        return self.inner.execute(sql)

    # The stage goes to the inner engine's own implementation (memory, for the local engine),
    # recorded as pseudo-statements.
    def create_stage(self, name, select_sql, location, **kwargs):
        self.statements.append(f"STAGE {name} ORDER BY {kwargs.get('order_by')}: {select_sql}")
        return self.inner.create_stage(name, select_sql, location, **kwargs)

    def drop_stage(self, name, location, storage, **kwargs):
        self.statements.append(f"DROP STAGE {name} KEEP AS {kwargs.get('keep_as')}")
        return self.inner.drop_stage(name, location, storage, **kwargs)

    def list_tables(self) -> List[str]:
        return self.inner.list_tables()


def test_250_partitions_are_written_in_three_statements(engine, lake):
    rec = Recording(engine)

    result = write_partitioned(
        rec, table="bars", select_sql=HOURS.format(last=249), location=f"{lake}/bars/"
    )

    assert result == WriteResult(rows=250, partitions=250, statements=3, source_rows=250)
    writes = [
        s for s in rec.statements if s.startswith(("CREATE TABLE bars ", "INSERT INTO bars "))
    ]
    assert [w.split()[0] for w in writes] == ["CREATE", "INSERT", "INSERT"]
    # Hours 0-99, 100-199, 200-249 after 2020-01-01 00:00 UTC: 99 h = 4 days 3 h, 199 h = 8 days
    # 7 h, 249 h = 10 days 9 h.
    assert writes[0].endswith("BETWEEN '2020-01-01-00' AND '2020-01-05-03'")
    assert writes[1].endswith("BETWEEN '2020-01-05-04' AND '2020-01-09-07'")
    assert writes[2].endswith("BETWEEN '2020-01-09-08' AND '2020-01-11-09'")
    # The expensive source select ran once, into the stage (clustered by the partition column
    # when no cheaper column is named); the batches read the stage, which then became the
    # table's cached copy.
    assert sum("UNNEST(sequence" in s for s in rec.statements) == 1
    assert [s.split(":")[0] for s in rec.statements if "STAGE" in s] == [
        "DROP STAGE bars__stage KEEP AS None",
        "STAGE bars__stage ORDER BY day_hour_partition",
        "DROP STAGE bars__stage KEEP AS bars",
    ]
    assert engine.execute("SELECT count(DISTINCT day_hour_partition), sum(n) FROM bars").rows == [
        (250, sum(range(250)))
    ]
    assert len(list((lake / "bars").iterdir())) == 250


def test_an_unsorted_stage_is_asked_for_and_still_writes_every_row_once(engine, lake):
    # Rows in descending hour order: the batches still pick exactly their partitions.
    select = HOURS.format(last=249).replace("sequence(0, 249)", "sequence(249, 0, -1)")
    rec = Recording(engine)

    result = write_partitioned(
        rec, table="bars", select_sql=select, location=f"{lake}/bars/", cluster_by="n",
        sort_stage=False,
    )

    assert [s.split(":")[0] for s in rec.statements if s.startswith("STAGE")] == [
        "STAGE bars__stage ORDER BY None"
    ]
    assert (result.rows, result.partitions, result.statements) == (250, 250, 3)
    assert engine.execute(
        "SELECT count(*), count(DISTINCT n), sum(n), min(n), max(n) FROM bars"
    ).rows == [(250, 250, sum(range(250)), 0, 249)]


def test_stage_table_and_files_are_removed_afterwards(engine, lake):
    write_partitioned(
        engine, table="bars", select_sql=HOURS.format(last=5), location=f"{lake}/bars"
    )

    assert engine.list_tables() == ["bars"]
    assert not (lake / "bars__stage").exists() or parquet_files(lake / "bars__stage") == []


def test_rerun_after_crash_cleans_the_stale_stage_first(engine, lake):
    crashing = Recording(engine, fail_on="INSERT INTO bars")
    with pytest.raises(EngineError, match="simulated crash"):
        write_partitioned(
            crashing, table="bars", select_sql=HOURS.format(last=149), location=f"{lake}/bars/"
        )
    # Leave a stage behind as a killed process would, then reset the target as callers do.
    engine.execute(
        f"CREATE TABLE bars__stage WITH (external_location = '{lake}/bars__stage/') "
        "AS SELECT 1 AS n, 'x' AS day_hour_partition"
    )
    engine.execute("DROP TABLE bars")
    from runtime.storage import LocalStorage

    LocalStorage().delete_prefix(f"{lake}/bars/")

    result = write_partitioned(
        engine, table="bars", select_sql=HOURS.format(last=149), location=f"{lake}/bars/"
    )

    assert result == WriteResult(rows=150, partitions=150, statements=2, source_rows=150)
    assert engine.execute("SELECT count(*) FROM bars WHERE day_hour_partition = 'x'").scalar() == 0
    assert engine.list_tables() == ["bars"]


def test_failure_still_removes_the_stage(engine, lake):
    crashing = Recording(engine, fail_on="INSERT INTO bars")

    with pytest.raises(EngineError):
        write_partitioned(
            crashing, table="bars", select_sql=HOURS.format(last=120), location=f"{lake}/bars/"
        )

    assert "bars__stage" not in engine.list_tables()
    assert parquet_files(lake / "bars__stage") == [] if (lake / "bars__stage").exists() else True


def test_empty_source_creates_an_empty_table_in_one_statement(engine, lake):
    result = write_partitioned(
        engine,
        table="bars",
        select_sql=HOURS.format(last=3) + " WHERE x < 0",
        location=f"{lake}/bars/",
    )

    assert result == WriteResult(rows=0, partitions=0, statements=1, source_rows=0)
    assert engine.execute("SELECT count(*) FROM bars").scalar() == 0


def test_null_partition_values_are_written_too(engine, lake):
    select = "SELECT 1 AS n, CAST(NULL AS varchar) AS day_hour_partition UNION ALL SELECT 2, 'a''b'"

    result = write_partitioned(engine, table="bars", select_sql=select, location=f"{lake}/bars/")

    assert result.rows == 2 and result.partitions == 2


def test_smaller_batches_when_asked(engine, lake):
    result = write_partitioned(
        engine,
        table="bars",
        select_sql=HOURS.format(last=9),
        location=f"{lake}/bars/",
        max_partitions=4,
    )

    assert result == WriteResult(rows=10, partitions=10, statements=3, source_rows=10)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"table": "x; drop"}, IdentifierError),
        ({"table": ""}, IdentifierError),
        ({"table": "a" * 129}, IdentifierError),
        ({"table": "a" * 125}, IdentifierError),  # the stage name would pass the limit
        ({"partition_col": "p; drop"}, IdentifierError),
        ({"max_partitions": 101}, ConfigError),
        ({"max_partitions": 0}, ConfigError),
        ({"compression": "SNAPPY') --"}, ConfigError),
        ({"location": "/x/'y"}, ConfigError),
        ({"select_sql": "  "}, ConfigError),
    ],
)
def test_bad_arguments_are_rejected_before_any_sql_runs(engine, lake, kwargs, error):
    rec = Recording(engine)
    args = {
        "table": "bars",
        "select_sql": HOURS.format(last=1),
        "location": f"{lake}/bars/",
        **kwargs,
    }

    with pytest.raises(error):
        write_partitioned(rec, **args)

    assert rec.statements == []


def test_local_stage_stays_in_memory_and_becomes_the_tables_cached_copy(engine, lake):
    rec = Recording(engine)

    result = write_partitioned(
        rec, table="bars", select_sql=HOURS.format(last=149), location=f"{lake}/bars/",
        cluster_by="n",
    )

    assert result == WriteResult(rows=150, partitions=150, statements=2, source_rows=150)
    # No stage files and no stage table in the catalog, ever: the stage was a temp table.
    assert not (lake / "bars__stage").exists()
    assert engine.list_tables() == ["bars"]
    # Each batch also selects its range of the cluster column (n is 0-149, in hour order).
    writes = [s for s in rec.statements if s.startswith(("CREATE TABLE bars ", "INSERT"))]
    assert writes[0].endswith("AND '2020-01-05-03') AND n BETWEEN 0 AND 99")
    assert writes[1].endswith("AND '2020-01-07-05') AND n BETWEEN 100 AND 149")
    # The stage is now the table's cached copy: reads come from it while the files are unchanged
    # and from the files again as soon as they change.
    assert "bars" in engine.cache_stats.cached
    assert engine.execute("SELECT count(*), sum(n) FROM bars").rows == [(150, sum(range(150)))]
    first = parquet_files(lake / "bars")[0]
    # DuckDB directly: Athena SQL (engine.execute) reads tables, not files
    gone = engine.con.execute(f"SELECT n FROM read_parquet('{first}')").fetchone()[0]
    first.unlink()
    assert engine.execute("SELECT count(*), sum(n) FROM bars").rows == [
        (149, sum(range(150)) - gone)
    ]
    assert "bars" not in engine.cache_stats.cached


def test_only_the_two_latest_written_tables_are_kept_in_memory(engine, lake):
    for table in ("first", "second", "third"):
        write_partitioned(
            engine, table=table, select_sql=HOURS.format(last=3), location=f"{lake}/{table}/"
        )
    assert engine.cache_stats.kept == ("second", "third")
    assert engine.execute("SELECT count(*) FROM third").scalar() == 4
    engine.execute("DROP TABLE third")  # metadata only; the cached copy goes with it
    assert engine.cache_stats.kept == ("second",)
    engine.execute("DROP TABLE second")
    assert engine.cache_stats.cached == ()
    assert engine.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary"
    ).fetchone() == (0,)


def test_null_cluster_values_are_written_and_get_no_range(engine, lake):
    # One partition holds a row whose cluster value is NULL: no range can hold it, so that
    # batch is selected by the partition column alone.
    select = (
        "SELECT CAST(x AS bigint) AS n, CAST(x AS varchar) AS day_hour_partition "
        "FROM UNNEST(sequence(1, 3)) AS u (x) "
        "UNION ALL SELECT CAST(NULL AS bigint), '2'"
    )
    rec = Recording(engine)

    result = write_partitioned(
        rec, table="bars", select_sql=select, location=f"{lake}/bars/", cluster_by="n",
        max_partitions=2,
    )

    assert (result.rows, result.source_rows) == (4, 4)
    writes = [s for s in rec.statements if s.startswith(("CREATE TABLE bars ", "INSERT"))]
    assert writes[0].endswith("WHERE day_hour_partition BETWEEN '1' AND '2'")
    assert writes[1].endswith("WHERE (day_hour_partition = '3') AND n BETWEEN 3 AND 3")
    assert engine.execute(
        "SELECT day_hour_partition, count(*), count(n) FROM bars GROUP BY 1 ORDER BY 1"
    ).rows == [("1", 1, 1), ("2", 2, 1), ("3", 1, 1)]

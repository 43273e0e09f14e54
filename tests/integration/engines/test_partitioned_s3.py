"""write_partitioned on the Athena path: the statements Athena receives, and the S3 stage prefix
cleaned before and after (S3 on moto; Athena scripted, since moto's Athena executes nothing)."""

from __future__ import annotations

from typing import List

import pytest

from runtime.engines.base import Engine, QueryResult
from runtime.partitioned import WriteResult, write_partitioned
from runtime.storage import S3Storage


class ScriptedAthena(Engine):
    """Answers the two queries write_partitioned reads, records every statement."""

    database = "stock_aggregates"

    def __init__(self, partitions: List[str], rows: int):
        self.partitions = partitions
        self.rows = rows
        self.statements: List[str] = []

    def execute(self, sql: str) -> QueryResult:
        self.statements.append(sql)
        if sql.startswith("SELECT day_hour_partition, count(*)"):
            # Per partition: rows, min(a), max(a), and whether no `a` is NULL (the last
            # partition has one, so its batch gets no range on `a`).
            last = len(self.partitions) - 1
            return QueryResult(
                ["p", "n", "lo", "hi", "full"],
                [(p, 1, i, i, i != last) for i, p in enumerate(self.partitions)],
            )
        if sql.startswith("SELECT count(*)"):
            return QueryResult(["_col0"], [(self.rows,)])
        return QueryResult()

    def list_tables(self) -> List[str]:
        return []


@pytest.fixture
def s3(monkeypatch):
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="curated")
        yield client


def test_athena_gets_one_ctas_and_inserts_and_the_s3_stage_is_cleaned(s3):
    # Leftovers of a crashed run under the stage prefix, and a neighbour that must survive.
    s3.put_object(Bucket="curated", Key="t__stage/old-1", Body=b"x")
    s3.put_object(Bucket="curated", Key="t__stage/old-2", Body=b"x")
    s3.put_object(Bucket="curated", Key="t__stage_other/keep", Body=b"x")
    hours = [f"2026-11-{d:02d}-{h:02d}" for d in range(1, 12) for h in range(4, 20)]  # 176
    athena = ScriptedAthena(hours, rows=5000)

    result = write_partitioned(
        athena,
        table="t",
        select_sql="SELECT a, day_hour_partition FROM raw",
        location="s3://curated/t/",
        cluster_by="a",
        storage=S3Storage(client=s3),
    )

    assert result == WriteResult(rows=5000, partitions=176, statements=2, source_rows=176)
    assert athena.statements[0] == "DROP TABLE IF EXISTS t__stage"
    assert athena.statements[1] == (
        "CREATE TABLE t__stage WITH (external_location = 's3://curated/t__stage/', "
        "format = 'PARQUET', write_compression = 'SNAPPY') "
        "AS SELECT a, day_hour_partition FROM raw"
    )
    assert athena.statements[3] == (
        "CREATE TABLE t WITH (external_location = 's3://curated/t/', format = 'PARQUET', "
        "write_compression = 'SNAPPY', partitioned_by = ARRAY['day_hour_partition']) "
        "AS SELECT * FROM t__stage "
        f"WHERE (day_hour_partition BETWEEN '{hours[0]}' AND '{hours[99]}') "
        "AND a BETWEEN 0 AND 99"
    )
    # A NULL `a` in the last partition: no range on `a` could hold it, so none is added.
    assert athena.statements[4] == (
        "INSERT INTO t SELECT * FROM t__stage "
        f"WHERE day_hour_partition BETWEEN '{hours[100]}' AND '{hours[175]}'"
    )
    assert athena.statements[-1] == "DROP TABLE IF EXISTS t__stage"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="curated").get("Contents", [])]
    assert keys == ["t__stage_other/keep"]

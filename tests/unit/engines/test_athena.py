"""AthenaEngine on pyathena, offline: botocore Stubber for exact API traffic, moto for plumbing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.stub import ANY, Stubber

from runtime.engines.athena import AthenaEngine
from runtime.errors import AthenaQueryError, ConfigError, IdentifierError

QUERY_ID = "a1b2c3d4-0000-4000-8000-000000000001"
REASON = (
    "HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of 100 open writers for partitions/buckets. "
    "Ensure that the number of partitions doesn't exceed the limit"
)
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _fake_aws(aws_env):
    """Fake credentials for every test here (tests/conftest.py)."""


@pytest.fixture
def connection(athena_connection):
    return athena_connection("stockpipe", "s3://results/q/")


def execution(state: str, reason: str = "", statement_type: str = "DML") -> dict:
    status = {"State": state, "SubmissionDateTime": NOW, "CompletionDateTime": NOW}
    if reason:
        status["StateChangeReason"] = reason
    return {
        "QueryExecution": {
            "QueryExecutionId": QUERY_ID,
            "Query": "SELECT 1",
            "StatementType": statement_type,
            "ResultConfiguration": {"OutputLocation": f"s3://results/q/{QUERY_ID}.csv"},
            "QueryExecutionContext": {"Database": "stock_aggregates"},
            "Status": status,
            "Statistics": {"EngineExecutionTimeInMillis": 1, "DataScannedInBytes": 0},
            "WorkGroup": "stockpipe",
        }
    }


def start_params(sql: str, reuse: bool = False) -> dict:
    params = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": "stock_aggregates", "Catalog": "awsdatacatalog"},
        "ResultConfiguration": {"OutputLocation": "s3://results/q/"},
        "WorkGroup": "stockpipe",
    }
    if reuse:
        params["ResultReuseConfiguration"] = {
            "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 60}
        }
    return params


def test_failed_query_raises_with_reason_and_query_id(connection):
    sql = "CREATE TABLE t WITH (partitioned_by = ARRAY['p']) AS SELECT 1 AS a, 'x' AS p"
    engine = AthenaEngine("stock_aggregates", "stockpipe", connection=connection)
    with Stubber(connection.client) as stub:
        stub.add_response(
            "start_query_execution", {"QueryExecutionId": QUERY_ID}, start_params(sql)
        )
        stub.add_response(
            "get_query_execution", execution("FAILED", REASON), {"QueryExecutionId": QUERY_ID}
        )

        with pytest.raises(AthenaQueryError) as info:
            engine.execute(sql)

    err = info.value
    assert err.query_id == QUERY_ID
    assert err.error_name == "HIVE_TOO_MANY_OPEN_PARTITIONS"
    assert REASON in str(err)
    assert QUERY_ID in str(err)
    assert "[statement: CREATE TABLE t WITH" in str(err)


def test_cancelled_query_raises_with_reason(connection):
    engine = AthenaEngine("stock_aggregates", "stockpipe", connection=connection)
    reason = "Query cancelled: bytes scanned limit was exceeded"
    with Stubber(connection.client) as stub:
        stub.add_response(
            "start_query_execution", {"QueryExecutionId": QUERY_ID}, start_params("SELECT 1")
        )
        stub.add_response(
            "get_query_execution", execution("CANCELLED", reason), {"QueryExecutionId": QUERY_ID}
        )

        with pytest.raises(AthenaQueryError, match="bytes scanned limit") as info:
            engine.execute("SELECT 1")

    assert info.value.query_id == QUERY_ID
    assert info.value.error_name is None


def test_result_reuse_is_requested_for_select_only(connection):
    engine = AthenaEngine(
        "stock_aggregates", "stockpipe", connection=connection, result_reuse_minutes=60
    )
    ddl = "DROP TABLE IF EXISTS t"
    with Stubber(connection.client) as stub:
        stub.add_response(
            "start_query_execution", {"QueryExecutionId": QUERY_ID}, start_params(ddl)
        )
        stub.add_response(
            "get_query_execution",
            execution("SUCCEEDED", statement_type="DDL"),
            {"QueryExecutionId": QUERY_ID},
        )
        stub.add_response(
            "get_query_results",
            {"ResultSet": {"Rows": [], "ResultSetMetadata": {"ColumnInfo": []}}, "UpdateCount": 0},
            {"QueryExecutionId": QUERY_ID, "MaxResults": ANY},
        )
        engine.execute(ddl)
        stub.assert_no_pending_responses()

    with Stubber(connection.client) as stub:
        stub.add_response(
            "start_query_execution",
            {"QueryExecutionId": QUERY_ID},
            start_params("SELECT 1 AS one", reuse=True),
        )
        stub.add_response(
            "get_query_execution", execution("FAILED", "stop here"), {"QueryExecutionId": QUERY_ID}
        )
        with pytest.raises(AthenaQueryError, match="stop here"):
            engine.execute("SELECT 1 AS one;")
        stub.assert_no_pending_responses()


def test_successful_select_returns_rows_through_moto():
    import boto3
    import requests
    from moto import mock_aws

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="results")
        # moto's Athena runs nothing: register the canned result the next query returns.
        requests.post(
            "http://motoapi.amazonaws.com/moto-api/static/athena/query-results",
            json={
                "account_id": "123456789012",
                "region": "us-east-1",
                "results": [
                    {
                        "rows": [
                            {"Data": [{"VarCharValue": "ticker"}, {"VarCharValue": "bars"}]},
                            {"Data": [{"VarCharValue": "AAPL"}, {"VarCharValue": "112"}]},
                        ],
                        "column_info": [
                            {
                                "CatalogName": "hive",
                                "SchemaName": "",
                                "TableName": "",
                                "Name": "ticker",
                                "Label": "ticker",
                                "Type": "varchar",
                                "Precision": 0,
                                "Scale": 0,
                                "Nullable": "UNKNOWN",
                                "CaseSensitive": True,
                            },
                            {
                                "CatalogName": "hive",
                                "SchemaName": "",
                                "TableName": "",
                                "Name": "bars",
                                "Label": "bars",
                                "Type": "bigint",
                                "Precision": 19,
                                "Scale": 0,
                                "Nullable": "UNKNOWN",
                                "CaseSensitive": False,
                            },
                        ],
                    }
                ],
            },
            timeout=5,
        ).raise_for_status()
        engine = AthenaEngine(
            "stock_aggregates",
            "primary",
            region="us-east-1",
            s3_staging_dir="s3://results/q/",
            poll_interval=0.001,
        )
        try:
            result = engine.execute(
                "SELECT ticker, count(*) AS bars FROM stock_aggregate_sans_dup GROUP BY 1"
            )
        finally:
            engine.close()

    assert result.columns == ["ticker", "bars"]
    assert result.rows == [("AAPL", 112)]
    assert result.query_id


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"database": "x; drop"}, IdentifierError),
        ({"database": ""}, IdentifierError),
        ({"workgroup": "bad name"}, ConfigError),
        ({"workgroup": "w" * 129}, ConfigError),
        ({"result_reuse_minutes": 10081}, ConfigError),
    ],
)
def test_bad_arguments_are_rejected_before_any_call(kwargs, error):
    args = {"database": "stock_aggregates", "workgroup": "stockpipe", **kwargs}

    with pytest.raises(error):
        AthenaEngine(**args)


def _succeeded(stub, sql, statement_type, substatement, result):
    done = execution("SUCCEEDED", statement_type=statement_type)
    done["QueryExecution"]["SubstatementType"] = substatement
    stub.add_response("start_query_execution", {"QueryExecutionId": QUERY_ID}, start_params(sql))
    stub.add_response("get_query_execution", done, {"QueryExecutionId": QUERY_ID})
    stub.add_response(
        "get_query_results", result, {"QueryExecutionId": QUERY_ID, "MaxResults": ANY}
    )


def test_ctas_reports_rows_written_like_the_local_engine(connection):
    engine = AthenaEngine("stock_aggregates", "stockpipe", connection=connection)
    sql = "CREATE TABLE t WITH (format = 'PARQUET') AS SELECT 1 AS a"
    with Stubber(connection.client) as stub:
        _succeeded(
            stub,
            sql,
            "DML",
            "CREATE_TABLE_AS_SELECT",
            {"ResultSet": {"Rows": [], "ResultSetMetadata": {"ColumnInfo": []}}, "UpdateCount": 42},
        )
        result = engine.execute(sql)

    assert result.rows == [(42,)] and result.columns == ["rows"]
    assert result.query_id == QUERY_ID


def test_list_tables_reads_show_tables(connection):
    engine = AthenaEngine("stock_aggregates", "stockpipe", connection=connection)
    tab = {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": "tab_name",
        "Label": "tab_name",
        "Type": "string",
        "Precision": 0,
        "Scale": 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": False,
    }
    rows = [
        {"Data": [{"VarCharValue": n}]} for n in ("stock_aggregate_sans_dup", "stock_aggregate_raw")
    ]
    with Stubber(connection.client) as stub:
        _succeeded(
            stub,
            "SHOW TABLES IN stock_aggregates",
            "UTILITY",
            "SHOW_TABLES",
            {"ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": [tab]}}},
        )
        names = engine.list_tables()

    assert names == ["stock_aggregate_raw", "stock_aggregate_sans_dup"]

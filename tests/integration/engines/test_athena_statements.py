"""What Athena actually receives from the steps' SQL files (pyathena under a botocore Stubber).

Athena runs DDL with its Hive parser, which fails on the explanatory comments the SQL files start
with; the engine must send the statement without them, string literals untouched.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.stub import ANY, Stubber

from runtime.engines.athena import AthenaEngine, strip_sql_comments
from runtime.sql_files import render

QUERY_ID = "a1b2c3d4-0000-4000-8000-000000000002"
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _fake_aws(aws_env):
    """Fake credentials for every test here (tests/conftest.py)."""


@pytest.fixture
def connection(athena_connection):
    return athena_connection("stockpipe-dev-etl", "s3://results/etl/")


def _succeeded_ddl() -> dict:
    return {
        "QueryExecution": {
            "QueryExecutionId": QUERY_ID,
            "Query": "DROP TABLE IF EXISTS t",
            "StatementType": "DDL",
            "ResultConfiguration": {"OutputLocation": f"s3://results/etl/{QUERY_ID}.txt"},
            "QueryExecutionContext": {"Database": "stock_aggregates"},
            "Status": {"State": "SUCCEEDED", "SubmissionDateTime": NOW,
                       "CompletionDateTime": NOW},
            "Statistics": {"EngineExecutionTimeInMillis": 1, "DataScannedInBytes": 0},
            "WorkGroup": "stockpipe-dev-etl",
        }
    }


def test_drop_table_file_reaches_athena_without_its_leading_comment(connection):
    sql = render("drop_table.sql", table="stock_aggregate_parquet")
    assert sql.startswith("--")  # the file explains itself first; Athena must not see that
    engine = AthenaEngine("stock_aggregates", "stockpipe-dev-etl", connection=connection)
    with Stubber(connection.client) as stub:
        stub.add_response(
            "start_query_execution",
            {"QueryExecutionId": QUERY_ID},
            {
                "QueryString": "DROP TABLE IF EXISTS stock_aggregate_parquet",
                "QueryExecutionContext": {"Database": "stock_aggregates",
                                          "Catalog": "awsdatacatalog"},
                "ResultConfiguration": {"OutputLocation": "s3://results/etl/"},
                "WorkGroup": "stockpipe-dev-etl",
            },
        )
        stub.add_response("get_query_execution", _succeeded_ddl(), {"QueryExecutionId": QUERY_ID})
        stub.add_response(
            "get_query_results",
            {"ResultSet": {"Rows": [], "ResultSetMetadata": {"ColumnInfo": []}}},
            {"QueryExecutionId": QUERY_ID, "MaxResults": ANY},
        )
        engine.execute(sql)
        stub.assert_no_pending_responses()


def test_comment_stripping_keeps_quoted_dashes_and_escaped_quotes():
    sql = (
        "-- header\n"
        "SELECT 'a--b' AS s, \"c--d\" AS q /* note */ FROM t -- trailing\n"
        "WHERE x = 'it''s -- kept' AND y = '%Y-%m-%d-%H';"
    )
    assert strip_sql_comments(sql) == (
        "SELECT 'a--b' AS s, \"c--d\" AS q   FROM t \n"
        "WHERE x = 'it''s -- kept' AND y = '%Y-%m-%d-%H';"
    )


def test_comment_stripping_removes_a_comment_that_ends_the_text():
    assert strip_sql_comments("SELECT 1 -- no newline after me") == "SELECT 1"
    assert strip_sql_comments("/* only a comment */") == ""

"""Run by `make glue-test` with Python 3.9 in a venv holding Glue's analytics library set
(components/glue-constraints.txt) plus the pinned extra modules (glue-resolved.txt): the code
the Glue jobs run, on the versions the jobs get. Not collected by pytest (no test_ prefix):
it needs that environment. Prints one line per check and exits 1 on the first failure.
"""

import sys
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def pins(name):
    out = {}
    for line in (ROOT / "components" / name).read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            n, v = line.split("==")
            out[n.strip().lower().replace("_", "-")] = v.strip()
    return out


def check_preinstalled_set_unchanged_and_importable():
    from importlib.metadata import version

    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401 - the import that breaks under numpy 2
    import scipy.stats  # noqa: F401

    wanted = pins("glue-constraints.txt")
    got = {name: version(name) for name in wanted}
    assert got == wanted, got
    return f"{', '.join(f'{n} {v}' for n, v in sorted(got.items()))}"


def check_exchange_calendar_paths():
    from importlib.metadata import version

    import exchange_calendars as xcals

    from runtime import checks, xnys

    assert version("exchange-calendars") == pins("glue-resolved.txt")["exchange-calendars"]
    cal = xcals.get_calendar("XNYS", start="2024-01-01", end="2027-12-31")
    sessions = [s.date() for s in cal.sessions_in_range("2024-01-02", "2027-12-31")]
    # 4.2.8 predates the 2025-01-09 closure (national day of mourning), so it still lists that
    # day as a session; the freshness/missing-hours warnings may flag it. Nothing else differs.
    differ = set(sessions) ^ set(xnys.sessions(date(2024, 1, 1), date(2027, 12, 31)))
    assert differ <= {date(2025, 1, 9)}, sorted(differ)
    # The checks' calendar code on pandas 1.4: the day after Thanksgiving closes at 13:00.
    assert checks.last_completed_session(datetime(2026, 11, 27, 20, 0)) == date(2026, 11, 27)
    hours = checks.expected_session_hours(date(2026, 11, 25), date(2026, 11, 27),
                                          datetime(2026, 11, 28))
    assert len(hours) == 7 + 4 and hours[-1] == datetime(2026, 11, 27, 17, 0), hours
    note = " (except 2025-01-09, unknown to it)" if differ else ""
    return f"exchange_calendars {version('exchange-calendars')}: sessions and checks agree{note}"


def check_athena_engine_on_pinned_pyathena():
    from importlib.metadata import version

    from botocore.stub import ANY, Stubber
    from pyathena import connect

    from runtime.engines.athena import AthenaEngine

    qid = "a1b2c3d4-0000-4000-8000-000000000001"
    now = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)
    conn = connect(region_name="us-east-1", schema_name="stock_aggregates",
                   work_group="stockpipe-dev-etl", s3_staging_dir="s3://results/etl/",
                   poll_interval=0.001)
    engine = AthenaEngine("stock_aggregates", "stockpipe-dev-etl", connection=conn)
    done = {"QueryExecution": {
        "QueryExecutionId": qid, "Query": "SELECT 1", "StatementType": "DML",
        "ResultConfiguration": {"OutputLocation": f"s3://results/etl/{qid}.csv"},
        "Status": {"State": "SUCCEEDED", "SubmissionDateTime": now, "CompletionDateTime": now},
        "Statistics": {"EngineExecutionTimeInMillis": 1, "DataScannedInBytes": 0}}}
    rows = {"ResultSet": {
        "Rows": [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "3"}]}],
        "ResultSetMetadata": {"ColumnInfo": [
            {"Name": "n", "Type": "bigint", "CatalogName": "hive", "SchemaName": "",
             "TableName": "", "Label": "n", "Precision": 19, "Scale": 0,
             "Nullable": "UNKNOWN", "CaseSensitive": False}]}}}
    with Stubber(conn.client) as stub:
        sql = "SELECT count(*) AS n FROM stock_aggregate_sans_dup"
        stub.add_response("start_query_execution", {"QueryExecutionId": qid}, {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": "stock_aggregates", "Catalog": "awsdatacatalog"},
            "ResultConfiguration": {"OutputLocation": "s3://results/etl/"},
            "WorkGroup": "stockpipe-dev-etl"})
        stub.add_response("get_query_execution", done, {"QueryExecutionId": qid})
        stub.add_response("get_query_results", rows, {"QueryExecutionId": qid, "MaxResults": ANY})
        result = engine.execute(sql)
    assert list(result.rows) == [(3,)], result.rows
    return f"pyathena {version('pyathena')} on botocore {version('botocore')}: query ok"


def main():
    assert sys.version_info[:2] == (3, 9), sys.version
    for check in (check_preinstalled_set_unchanged_and_importable,
                  check_exchange_calendar_paths, check_athena_engine_on_pinned_pyathena):
        try:
            print(f"ok   {check.__name__}: {check()}")
        except Exception as exc:  # noqa: BLE001 - report which check failed, then stop
            print(f"FAIL {check.__name__}: {type(exc).__name__}: {exc}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

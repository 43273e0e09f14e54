"""The cloud smoke test's logic: botocore Stubber for Lambda, Glue and Athena (moto's Lambda
needs Docker and its Athena runs nothing), moto's Glue for a workflow that never finishes."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber

from runtime.smoke import Smoke, SmokeFailed, StackNames, console_links, stack_outputs

OUTPUTS = {
    "lambda_function": "stockpipe-dev-ingest", "glue_workflow": "stockpipe-dev-daily",
    "glue_database": "stock_aggregates_dev", "athena_workgroup": "stockpipe-dev",
    "table_prefix": "stock_aggregate", "ingest_batches": ["AAPL,MSFT", "BRK.B"],
    "region": "us-east-1",
}
NOW = datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clients(aws_env):
    made = {s: boto3.client(s, region_name="us-east-1") for s in ("lambda", "glue", "athena")}
    stubs = {s: Stubber(c) for s, c in made.items()}
    for stub in stubs.values():
        stub.activate()
    yield made, stubs
    for stub in stubs.values():
        stub.deactivate()


def smoke(clients, lines, **kw):
    clock = Clock()
    return Smoke(StackNames.from_outputs(OUTPUTS), clients, say=lines.append,
                 sleep=clock.sleep, clock=clock, **kw)


def invoked(stub, tickers, body, error=None):
    resp = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(body).encode())}
    if error:
        resp["FunctionError"] = error
    stub.add_response("invoke", resp, {
        "FunctionName": "stockpipe-dev-ingest", "InvocationType": "RequestResponse",
        "Payload": json.dumps({"tickers": tickers, "days": 5}).encode()})


def run_status(status, succeeded, total=6, failed=0, running=0):
    return {"Run": {"Name": "stockpipe-dev-daily", "WorkflowRunId": "wr_1", "Status": status,
                    "Statistics": {"TotalActions": total, "SucceededActions": succeeded,
                                   "FailedActions": failed, "RunningActions": running}}}


def query(stub, sql, rows, state="SUCCEEDED", reason=None):
    qid = f"q-{abs(hash(sql)) % 10**8}"
    stub.add_response("start_query_execution", {"QueryExecutionId": qid}, {
        "QueryString": sql, "QueryExecutionContext": {"Database": "stock_aggregates_dev"},
        "WorkGroup": "stockpipe-dev"})
    status = {"State": state, "SubmissionDateTime": NOW}
    if reason:
        status["StateChangeReason"] = reason
    stub.add_response("get_query_execution", {"QueryExecution": {
        "QueryExecutionId": qid, "Status": status}}, {"QueryExecutionId": qid})
    if state == "SUCCEEDED":
        header = {"Data": [{"VarCharValue": f"c{i}"} for i in range(len(rows[0]) if rows else 1)]}
        data = [{"Data": [{"VarCharValue": v} for v in row]} for row in rows]
        stub.add_response("get_query_results", {"ResultSet": {"Rows": [header] + data}},
                          {"QueryExecutionId": qid})


PROD = "SELECT DISTINCT ticker FROM stock_aggregates_dev.stock_aggregate_prod_latest"
DQ = ("SELECT check_name, severity, passed FROM stock_aggregates_dev.stock_aggregate_dq_results "
      "WHERE run_id = (SELECT max(run_id) FROM stock_aggregates_dev.stock_aggregate_dq_results) "
      "ORDER BY check_name")


def test_every_stage_passes_on_a_healthy_stack(clients):
    made, stubs = clients
    invoked(stubs["lambda"], "AAPL,MSFT", {"bars": 180, "rejects": 0})
    invoked(stubs["lambda"], "BRK.B", {"bars": 90, "rejects": 1})
    stubs["glue"].add_response("start_workflow_run", {"RunId": "wr_1"},
                               {"Name": "stockpipe-dev-daily"})
    for status in (run_status("RUNNING", 0, running=1), run_status("RUNNING", 3, running=1),
                   run_status("COMPLETED", 6)):
        stubs["glue"].add_response("get_workflow_run", status, {
            "Name": "stockpipe-dev-daily", "RunId": "wr_1", "IncludeGraph": False})
    query(stubs["athena"], PROD, [("AAPL",), ("BRK.B",), ("MSFT",)])
    query(stubs["athena"], DQ, [("duplicate_keys", "error", "true"),
                                ("freshness", "warning", "true")])
    lines = []
    assert smoke(made, lines).run() == 0
    passes = [line for line in lines if line.startswith("PASS")]
    assert passes == [
        "PASS ingest: 2 invocation(s), 270 bars, 1 rejects (0 s)",
        "PASS land: buffer flushed (90 s)",
        "PASS workflow: run wr_1: all 6 steps succeeded (30 s)",
        "PASS athena: stock_aggregates_dev.stock_aggregate_prod_latest has 3 ticker(s); "
        "all 2 checks passed (0 s)",
    ]
    assert "  workflow wr_1: RUNNING: 3/6 steps succeeded, 1 running" in lines
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_a_run_already_in_progress_is_reported_with_glues_reason(clients):
    made, stubs = clients
    stubs["glue"].add_client_error(
        "start_workflow_run", service_error_code="ConcurrentRunsExceededException",
        service_message="Concurrent runs exceeded for workflow: stockpipe-dev-daily")
    lines = []
    assert smoke(made, lines).run(("workflow",)) == 1
    assert lines[-1] == ("FAIL workflow: ConcurrentRunsExceededException: Concurrent runs "
                         "exceeded for workflow: stockpipe-dev-daily")


def test_a_failing_lambda_stops_at_ingest_with_its_message(clients):
    made, stubs = clients
    invoked(stubs["lambda"], "AAPL,MSFT",
            {"errorMessage": "cannot read the Polygon key from secret ...", "errorType": "E"},
            error="Unhandled")
    lines = []
    assert smoke(made, lines).run() == 1
    assert lines[-1] == ("FAIL ingest: the Lambda failed for AAPL,MSFT: cannot read the Polygon "
                         "key from secret ...")
    assert not any(line.startswith("PASS") for line in lines)


def test_a_failed_step_names_the_job_and_its_error(clients):
    made, stubs = clients
    stubs["glue"].add_response("start_workflow_run", {"RunId": "wr_1"},
                               {"Name": "stockpipe-dev-daily"})
    stubs["glue"].add_response("get_workflow_run", run_status("COMPLETED", 4, failed=1), {
        "Name": "stockpipe-dev-daily", "RunId": "wr_1", "IncludeGraph": False})
    graph = run_status("COMPLETED", 4, failed=1)
    graph["Run"]["Graph"] = {"Nodes": [{"Type": "JOB", "Name": "stockpipe-dev-quality",
                                        "JobDetails": {"JobRuns": [{
                                            "JobRunState": "FAILED",
                                            "ErrorMessage": "blocking quality checks failed"}]}}]}
    stubs["glue"].add_response("get_workflow_run", graph, {
        "Name": "stockpipe-dev-daily", "RunId": "wr_1", "IncludeGraph": True})
    lines = []
    assert smoke(made, lines).run(("workflow", "athena")) == 1
    assert lines[-1] == ("FAIL workflow: workflow run wr_1 ended COMPLETED: FailedActions 1; "
                         "stockpipe-dev-quality FAILED: blocking quality checks failed")


def test_missing_tickers_and_failed_checks_fail_the_athena_stage(clients):
    made, stubs = clients
    query(stubs["athena"], PROD, [("AAPL",)])
    lines = []
    assert smoke(made, lines).run(("athena",)) == 1
    assert lines[-1] == ("FAIL athena: stock_aggregates_dev.stock_aggregate_prod_latest lacks "
                         "BRK.B, MSFT (has ['AAPL'])")
    query(stubs["athena"], PROD, [("AAPL",), ("MSFT",), ("BRK.B",)])
    query(stubs["athena"], DQ, [("duplicate_keys", "error", "false"),
                                ("freshness", "warning", "true")])
    assert smoke(made, lines).run(("athena",)) == 1
    assert lines[-1].startswith("FAIL athena: quality checks not all passed")
    assert lines[-1].endswith("duplicate_keys (error)")


def test_a_failed_query_reports_athenas_reason(clients):
    made, stubs = clients
    query(stubs["athena"], PROD, [], state="FAILED",
          reason="TABLE_NOT_FOUND: Table stock_aggregate_prod_latest does not exist")
    lines = []
    assert smoke(made, lines).run(("athena",)) == 1
    assert "FAILED: TABLE_NOT_FOUND: Table stock_aggregate_prod_latest does not exist" in lines[-1]


def test_a_workflow_that_never_finishes_times_out_against_moto(aws_env):
    from moto import mock_aws

    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        glue.create_workflow(Name="stockpipe-dev-daily")
        lines = []
        runner = smoke({"glue": glue}, lines, workflow_minutes=1, poll_seconds=15)
        assert runner.run(("workflow",)) == 1
    assert lines[-1].startswith("FAIL workflow: workflow run ")
    assert lines[-1].endswith("still RUNNING after 1 minutes")
    assert sum("RUNNING" in line for line in lines) == 2  # progress printed once, then FAIL


def test_outputs_come_from_pulumi_and_missing_ones_are_named():
    calls = []

    class Done:
        returncode, stdout, stderr = 0, json.dumps(OUTPUTS), ""

    def fake_run(cmd, **kw):
        calls.append(cmd)
        return Done()

    assert stack_outputs("prod", run=fake_run) == OUTPUTS
    assert calls == [["pulumi", "stack", "output", "--json", "--stack", "prod"]]
    with pytest.raises(SmokeFailed, match="stack outputs lack table_prefix, ingest_batches"):
        StackNames.from_outputs({k: v for k, v in OUTPUTS.items()
                                 if k not in ("table_prefix", "ingest_batches")})


def test_console_links_name_the_stack_resources_in_the_partitions_console():
    names = StackNames.from_outputs(OUTPUTS)
    links = console_links(names, "us-east-1")
    assert links["Glue workflow"] == (
        "https://us-east-1.console.aws.amazon.com/glue/home?region=us-east-1#/v2/"
        "etl-configuration/workflows/view/stockpipe-dev-daily")
    assert links["ingest logs"].endswith("log-group/$252Faws$252Flambda$252Fstockpipe-dev-ingest")
    assert console_links(names, "us-gov-west-1")["Athena"].startswith(
        "https://us-gov-west-1.console.amazonaws-us-gov.com/athena/")

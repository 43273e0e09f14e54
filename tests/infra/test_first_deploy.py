"""What a first real `pulumi up` and a first day in AWS would hit (issue: first deploy), each
checked on the program's resources under mocks."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from components.ingest_plan import plan_ingest, required_seconds

PREFIX = "stockpipe-dev"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCHEDULE = "aws:scheduler/schedule:Schedule"
GLUE_GROUPS = {"/aws-glue/python-jobs/output", "/aws-glue/python-jobs/error", "/aws-glue/crawlers"}


# ---- 1. Glue log groups --------------------------------------------------------------------
def test_glue_log_groups_are_left_alone_by_default(program):
    names = {g.inputs["name"] for g in program.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert not names & GLUE_GROUPS


def test_opting_in_adopts_the_existing_glue_groups_and_destroy_keeps_them(run):
    import components.monitoring as monitoring

    real = monitoring.aws.cloudwatch.LogGroup
    opts_by_name = {}

    def recording(resource_name, **kwargs):
        opts_by_name[kwargs.get("name")] = kwargs.get("opts")
        return real(resource_name, **kwargs)

    with mock.patch.object(monitoring.aws.cloudwatch, "LogGroup", side_effect=recording):
        prog = run({"manageGlueLogGroups": True, "logRetentionDays": 14})
    adopted = {g.inputs["name"]: g for g in prog.of_type("aws:cloudwatch/logGroup:LogGroup")
               if g.inputs["name"] in GLUE_GROUPS}
    assert set(adopted) == GLUE_GROUPS
    for name, group in adopted.items():
        assert group.resource_id == name  # imported by name, not created
        assert group.inputs["retentionInDays"] == 14
        assert opts_by_name[name].retain_on_delete is True  # shared: destroy leaves them


# ---- 2. Lambda timeout, retries and batches ------------------------------------------------
def test_required_time_at_the_free_tier_by_hand():
    # 50 tickers + 1 splits request + 2 retried requests = 53 requests, 5 per minute: 11
    # windows, so 10 full minutes of waiting, then 5 responses x 5 s, backoff 1 + 2 s, 30 s
    # fixed = 658 s.
    assert required_seconds(50, 5, 7) == 600 + 25 + 3 + 30 == 658
    # 1 ticker: bars, splits and 2 retries, 4 requests in the first window: 20 + 3 + 30.
    assert required_seconds(1, 5, 7) == 53
    # 52 tickers need a second splits request (50 tickers per request): 56 requests, 12
    # windows (one splits request would make 55, 11 windows).
    assert required_seconds(52, 5, 7) == 660 + 25 + 3 + 30
    # A 60-day window needs 2 pages per ticker (60 x 960 minute bars > 50,000).
    assert required_seconds(1, 5, 60) == required_seconds(2, 5, 7)


def test_fifty_tickers_fit_one_invocation_and_seventy_four_are_split_evenly():
    fifty = plan_ingest([f"T{i}" for i in range(50)], 5, 7)
    assert (len(fifty.batches), fifty.timeout) == (1, 658)
    # 74 tickers: 78 requests, 16 windows: 900 + 25 + 33 = 958 s > Lambda's 900 s.
    assert required_seconds(74, 5, 7) == 958
    split = plan_ingest([f"T{i}" for i in range(74)], 5, 7)
    assert [len(b) for b in split.batches] == [37, 37]
    assert split.timeout == required_seconds(37, 5, 7) == 7 * 60 + 25 + 33
    assert split.slot_minutes == 9  # (478 s + 60 s rate window) rounded up to minutes


def test_failed_ingest_is_not_retried_by_lambda_and_lands_in_a_failure_queue(program):
    configs = {c.inputs["functionName"]: c for c in program.of_type(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")}
    config = configs[f"{PREFIX}-ingest"]
    assert configs[f"{PREFIX}-publication-check"].inputs["maximumRetryAttempts"] == 0
    assert config.inputs["maximumRetryAttempts"] == 0
    queue = program.named("ingest-failed-invocations")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert config.inputs["destinationConfig"] == {"onFailure": {
        "destination": f"arn:aws:sqs:{program.region}:{program.account}:"
                       "ingest-failed-invocations-physical"}}


def test_a_split_ingest_gets_one_schedule_per_batch_minutes_apart(run):
    tickers = [f"T{i}" for i in range(74)]
    prog = run({"tickers": ",".join(tickers)})
    schedules = {s.name: s.inputs for s in prog.of_type(SCHEDULE)}
    assert schedules["ingest-schedule-1"]["scheduleExpression"] == "cron(0 11 * * ? *)"
    assert schedules["ingest-schedule-2"]["scheduleExpression"] == "cron(9 11 * * ? *)"
    sent = [json.loads(schedules[f"ingest-schedule-{i}"]["target"]["input"])["tickers"]
            for i in (1, 2)]
    assert sent[0].split(",") + sent[1].split(",") == tickers
    # Both share one role and one dead-letter queue.
    dlqs = {schedules[f"ingest-schedule-{i}"]["target"]["deadLetterConfig"]["arn"]
            for i in (1, 2)}
    assert len(dlqs) == 1
    (fn,) = [f for f in prog.of_type("aws:lambda/function:Function")
             if f.inputs["name"] == f"{PREFIX}-ingest"]
    assert fn.inputs["timeout"] == 478
    assert prog.exports["ingest_batches"] == sent


# ---- 3. crawler role -----------------------------------------------------------------------
def test_crawler_may_locate_and_list_the_raw_bucket(program):
    doc = program.policies()["workflow-crawler-role-policy:policy"]
    (stmt,) = [s for s in doc["Statement"] if s["Sid"] == "ListRaw"]
    assert stmt["Action"] == ["s3:GetBucketLocation", "s3:ListBucket"]
    assert stmt["Resource"] == [f"arn:aws:s3:::{program.exports['raw_bucket']}"]
    assert "Condition" not in stmt


# ---- 5. two stacks side by side ------------------------------------------------------------
def _physical_names(prog):
    """Names unique per account and region (a log stream's name is scoped by its group)."""
    return {r.inputs["name"] for r in prog.resources if isinstance(r.inputs.get("name"), str)
            and r.typ != "aws:cloudwatch/logStream:LogStream"}


def test_two_stacks_in_one_account_name_nothing_alike(run):
    dev, prod = run(stack="dev"), run(stack="prod")
    assert _physical_names(dev) and not _physical_names(dev) & _physical_names(prod)
    assert (dev.exports["glue_database"], prod.exports["glue_database"]) == (
        "stock_aggregates_dev", "stock_aggregates_prod")


def test_secret_recovery_window_follows_config(program, run):
    (secret,) = program.of_type("aws:secretsmanager/secret:Secret")
    assert secret.inputs["recoveryWindowInDays"] == 7
    prog = run({"secretRecoveryWindowDays": 0})
    (secret,) = prog.of_type("aws:secretsmanager/secret:Secret")
    assert secret.inputs["recoveryWindowInDays"] == 0


# ---- 6. partitions -------------------------------------------------------------------------
def test_no_arn_in_any_resource_assumes_the_aws_partition(run):
    prog = run(partition="aws-us-gov")
    text = json.dumps([r.inputs for r in prog.resources], default=str)
    assert "arn:aws:" not in text
    (wf,) = [s for s in prog.of_type(SCHEDULE) if s.name == "workflow-schedule"]
    assert wf.inputs["target"]["arn"] == (
        "arn:aws-us-gov:scheduler:::aws-sdk:glue:startWorkflowRun")


# ---- 7. monitoring that notices silence ----------------------------------------------------
def test_every_dead_letter_queue_has_an_alarm(program):
    queues = {q.name: f"{q.name}-physical" for q in program.of_type("aws:sqs/queue:Queue")}
    assert set(queues) == {"ingest-schedule-dlq", "ingest-failed-invocations",
                           "workflow-schedule-dlq", "publication-schedule-dlq"}
    watched = {a.inputs["dimensions"]["QueueName"] for a in program.of_type(ALARM)
               if a.inputs["namespace"] == "AWS/SQS"}
    assert watched == set(queues.values())
    for a in program.of_type(ALARM):
        if a.inputs["namespace"] == "AWS/SQS":
            assert (a.inputs["comparisonOperator"], a.inputs["threshold"]) == (
                "GreaterThanThreshold", 0)


def _alarm_fires(alarm: dict, datapoints: list) -> bool:
    """CloudWatch's M-out-of-N evaluation over the last N periods (None = no data)."""
    n = int(alarm["evaluationPeriods"])
    m = int(alarm.get("datapointsToAlarm", n))
    assert alarm["treatMissingData"] == "notBreaching"
    window = datapoints[-n:]
    op = {"LessThanThreshold": float.__lt__, "GreaterThanThreshold": float.__gt__}[
        alarm["comparisonOperator"]]
    return sum(1 for v in window if v is not None and op(float(v), alarm["threshold"])) >= m


def test_firehose_alarm_ignores_a_failed_put_that_a_retry_fixed(program):
    (alarm,) = [a.inputs for a in program.of_type(ALARM)
                if a.inputs["metricName"] == "DeliveryToS3.Success"]
    assert alarm["statistic"] == "Average" and alarm["period"] == 300
    # Daily delivery: one 5-minute period where 1 of 2 puts failed and the retry succeeded,
    # then nothing to deliver.
    for t in range(1, 4):
        assert not _alarm_fires(alarm, [None, 0.5, None][:t])
    assert not _alarm_fires(alarm, [1.0, 0.5, 1.0])
    # Every put failing for 15 minutes (Firehose keeps retrying) is a real failure.
    assert _alarm_fires(alarm, [0.0, 0.0, 0.0])


def test_publication_is_checked_at_the_deadline_on_weekdays_and_alarms_on_failure(run):
    prog = run({"publishDeadline": "15:30"})
    (check,) = [s for s in prog.of_type(SCHEDULE) if s.name == "publication-schedule"]
    assert check.inputs["scheduleExpression"] == "cron(30 15 ? * MON-FRI *)"
    assert check.inputs["scheduleExpressionTimezone"] == "America/New_York"
    fn_name = f"{PREFIX}-publication-check"
    assert check.inputs["target"]["arn"].endswith(f":function:{fn_name}")
    (fn,) = [f for f in prog.of_type("aws:lambda/function:Function")
             if f.inputs["name"] == fn_name]
    assert fn.inputs["handler"] == "runtime.handler.publication_check_handler"
    assert fn.inputs["environment"]["variables"] == {
        "STOCKPIPE_DATABASE": "stock_aggregates_dev", "STOCKPIPE_TABLE_PREFIX": "stock_aggregate"}
    (alarm,) = [a.inputs for a in prog.of_type(ALARM)
                if a.inputs.get("dimensions") == {"FunctionName": fn_name}]
    assert alarm["metricName"] == "Errors"
    assert "15:30 America/New_York" in alarm["alarmDescription"]
    grants = prog.policies()["publication-role-policy:policy"]["Statement"]
    assert {a for s in grants for a in s["Action"]} == {
        "logs:CreateLogStream", "logs:PutLogEvents", "glue:GetTables"}


# ---- 8. Grafana's database picker ----------------------------------------------------------
def test_grafana_can_list_databases_for_the_picker_and_write_nothing(program):
    doc = program.policies()["analytics-grafana-role-policy:policy"]
    (stmt,) = [s for s in doc["Statement"] if "glue:GetDatabases" in s["Action"]]
    assert stmt["Action"] == ["glue:GetDatabases"]
    assert stmt["Resource"] == [
        f"arn:aws:glue:{program.region}:{program.account}:catalog",
        f"arn:aws:glue:{program.region}:{program.account}:database/*"]
    writes = ("Create", "Update", "Delete", "Put", "BatchCreate", "BatchDelete", "Tag")
    glue_actions = {a for s in doc["Statement"] for a in s["Action"] if a.startswith("glue:")}
    assert not {a for a in glue_actions if a.split(":")[1].startswith(writes)}


@pytest.mark.parametrize("deadline", ["7:00", "13:60"])
def test_a_bad_deadline_is_refused_naming_the_key(run, deadline):
    from runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="stockpipe:publishDeadline"):
        run({"publishDeadline": deadline})


# ---- 11. demo mode inside the Lambda package ----------------------------------------------
def test_the_lambda_zip_alone_runs_the_demo_source(tmp_path):
    import subprocess
    import sys

    from components.packaging import build_lambda_zip

    zip_path, _ = build_lambda_zip(tmp_path)
    # -S: no site-packages, so only the standard library and the zip are importable (no numpy,
    # pandas or exchange_calendars), as in Lambda where boto3 is the only extra.
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from datetime import date; from runtime.demo import demo_fetch;"
        "print(len(demo_fetch('AAPL', date(2026, 11, 23), date(2026, 11, 27)).bars))"
    )
    out = subprocess.run([sys.executable, "-S", "-c", script, str(zip_path)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(3 * 16 + 13)

"""The whole program under mocks: ingestion, schedules, Glue workflow and exports."""

from __future__ import annotations

import json
import re
from unittest import mock

import pytest

from runtime import settings as rs
from runtime.dag import DAG, STEP_NAMES, Node

FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TRIGGER = "aws:glue/trigger:Trigger"
JOB = "aws:glue/job:Job"
PREFIX = "stockpipe-dev"
ACCOUNT = "123456789012"  # conftest's fixed mock account and region
REGION = "us-east-1"


def test_firehose_buffers_5_mb_or_60_seconds_into_raw_prefix(program):
    (stream,) = program.of_type(FIREHOSE)
    s3 = stream.inputs["extendedS3Configuration"]
    assert stream.inputs["destination"] == "extended_s3"
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (5, 60)
    assert s3["prefix"] == "raw/!{timestamp:yyyy/MM/dd/HH}/"
    assert s3["errorOutputPrefix"] == (
        "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/")
    assert s3["bucketArn"] == f"arn:aws:s3:::{program.exports['raw_bucket']}"
    logging = s3["cloudwatchLoggingOptions"]
    assert logging["enabled"] is True
    assert logging["logGroupName"] == f"/aws/kinesisfirehose/{PREFIX}-raw"


def _evaluate_firehose_prefix(prefix: str, at) -> str:
    """What Firehose makes of the prefix at UTC time `at` (the Java pattern yyyy/MM/dd/HH)."""
    return prefix.replace("!{timestamp:yyyy/MM/dd/HH}", at.strftime("%Y/%m/%d/%H"))


def test_firehose_keys_match_the_raw_layout_the_local_sink_and_crawler_use(program):
    from datetime import datetime, timezone

    from runtime.records import arrival_key

    (stream,) = program.of_type(FIREHOSE)
    prefix = stream.inputs["extendedS3Configuration"]["prefix"]
    at = datetime(2026, 11, 21, 16, 5, 9, tzinfo=timezone.utc)
    local = arrival_key("raw/", "stockpipe-local", at)
    assert _evaluate_firehose_prefix(prefix, at) == "raw/2026/11/21/16/"
    assert local.startswith(_evaluate_firehose_prefix(prefix, at))
    # The crawler's include path is the part before the expressions.
    (crawler,) = program.of_type("aws:glue/crawler:Crawler")
    assert crawler.inputs["s3Targets"][0]["path"].endswith("/" + prefix.split("!{")[0])


def test_the_crawler_never_reaches_the_raw_quarantine(program):
    from components.ingestion import QUARANTINE_PREFIX

    (crawler,) = program.of_type("aws:glue/crawler:Crawler")
    paths = [t["path"] for t in crawler.inputs["s3Targets"]]
    bucket = program.exports["raw_bucket"]
    # An include path is a key prefix: "s3://b/raw/" never lists "raw-quarantine/..." (where
    # "s3://b/raw" would), so quarantined objects cannot become a table or partitions.
    assert paths == [f"s3://{bucket}/raw/", f"s3://{bucket}/splits/"]
    assert not any(f"s3://{bucket}/{QUARANTINE_PREFIX}x".startswith(p) for p in paths)
    role = program.policies()["workflow-crawler-role-policy:policy"]
    reads = [r for s in role["Statement"] if "s3:GetObject" in s["Action"] for r in s["Resource"]]
    assert not any(r.startswith(f"arn:aws:s3:::{bucket}/raw-") for r in reads)


def test_the_crawler_catalogs_the_split_events_the_settings_look_for(program):
    from runtime.settings import Settings

    (crawler,) = program.of_type("aws:glue/crawler:Crawler")
    raw = f"s3://{program.exports['raw_bucket']}/"
    assert [t["path"] for t in crawler.inputs["s3Targets"]] == [raw + "raw/", raw + "splits/"]
    # The crawler names a target's table <table prefix>_<folder>: what the workflow queries.
    settings = Settings(raw_uri_override=raw + "raw/")
    assert settings.splits_uri == raw + "splits/"
    assert settings.splits_table == crawler.inputs["tablePrefix"] + "splits"
    read = {s["Sid"]: s["Resource"] for s in
            program.policies()["workflow-crawler-role-policy:policy"]["Statement"]}["ReadRaw"]
    bucket = f"arn:aws:s3:::{program.exports['raw_bucket']}"
    assert read == [bucket + "/raw/*", bucket + "/splits/*"]


@pytest.mark.parametrize("prefix, error_prefix, rule", [
    ("raw/!{timestamp:yyyy}/", "", "needs an ErrorOutputPrefix"),
    ("raw/", "errors/!{timestamp:yyyy}/", "no !{firehose:error-output-type}"),
    ("raw/!{firehose:error-output-type}/", "e/!{firehose:error-output-type}/", "cannot contain"),
    ("raw/!{oops/", "e/!{firehose:error-output-type}/", "may only start an expression"),
])
def test_firehose_prefix_rules_refuse_what_firehose_refuses(prefix, error_prefix, rule):
    from components.ingestion import validate_firehose_prefixes

    with pytest.raises(ValueError, match=re.escape(rule)):
        validate_firehose_prefixes(prefix, error_prefix)


def test_both_schedules_are_cron_in_new_york_time_without_flexible_window(program):
    by_name = {s.name: s.inputs for s in program.of_type(SCHEDULE)}
    assert by_name["ingest-schedule"]["scheduleExpression"] == "cron(0 11 * * ? *)"
    assert by_name["workflow-schedule"]["scheduleExpression"] == "cron(0 12 * * ? *)"
    for inputs in by_name.values():
        assert inputs["scheduleExpressionTimezone"] == "America/New_York"
        assert inputs["flexibleTimeWindow"] == {"mode": "OFF"}
        target = inputs["target"]
        assert target["retryPolicy"]["maximumRetryAttempts"] >= 1
        assert 60 <= target["retryPolicy"]["maximumEventAgeInSeconds"] <= 86400
        assert target["deadLetterConfig"]["arn"].startswith(f"arn:aws:sqs:{REGION}:{ACCOUNT}:")


def test_ingest_schedule_invokes_the_lambda_and_workflow_schedule_starts_the_workflow(program):
    by_name = {s.name: s.inputs for s in program.of_type(SCHEDULE)}
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PREFIX}-ingest"
    assert by_name["ingest-schedule"]["target"]["arn"] == fn_arn
    wf = by_name["workflow-schedule"]["target"]
    assert wf["arn"] == "arn:aws:scheduler:::aws-sdk:glue:startWorkflowRun"
    assert json.loads(wf["input"]) == {"Name": f"{PREFIX}-daily"}
    # Each schedule role may do exactly its one call plus write its own DLQ.
    policies = program.policies()
    ingest = policies["ingest-schedule-role-policy:policy"]["Statement"]
    assert {(tuple(s["Action"]), tuple(s["Resource"])) for s in ingest} == {
        (("lambda:InvokeFunction",), (fn_arn,)),
        (("sqs:SendMessage",), (f"arn:aws:sqs:{REGION}:{ACCOUNT}:ingest-schedule-dlq-physical",)),
    }
    start = policies["workflow-schedule-role-policy:policy"]["Statement"][0]
    assert start["Action"] == ["glue:StartWorkflowRun"]
    assert start["Resource"] == [f"arn:aws:glue:{REGION}:{ACCOUNT}:workflow/{PREFIX}-daily"]


def test_lambda_runs_the_runtime_handler_on_python312_with_configured_timeout(run):
    prog = run({"lambdaTimeout": 120, "tickers": "aapl, msft", "windowDays": 3})
    (fn,) = [f for f in prog.of_type("aws:lambda/function:Function")
             if f.inputs["name"] == f"{PREFIX}-ingest"]
    assert fn.inputs["handler"] == "runtime.handler.lambda_handler"
    assert fn.inputs["runtime"] == "python3.12"
    assert fn.inputs["timeout"] == 120
    env = fn.inputs["environment"]["variables"]
    assert env[rs.ENV_TICKERS] == "AAPL,MSFT"
    assert env[rs.ENV_WINDOW_DAYS] == "3"
    assert env[rs.ENV_RATE_LIMIT] == "5"
    assert env[rs.ENV_FIREHOSE_STREAM] == f"{PREFIX}-raw"
    assert env[rs.ENV_RAW_URI] == f"s3://{prog.exports['raw_bucket']}/raw/"
    assert env[rs.ENV_API_KEY_SECRET_ARN] == prog.exports["api_key_secret_arn"]
    assert not any("KEY" in k and "ARN" not in k for k in env), "no API key in the environment"


def test_default_lambda_timeout_is_the_minimum_the_ingest_needs(program):
    (fn,) = [f for f in program.of_type("aws:lambda/function:Function")
             if f.inputs["name"] == f"{PREFIX}-ingest"]
    # 1 ticker, its splits + 2 retries at 5/min: no wait, 4 responses x 5 s, 1+2 s backoff, 30 s
    # fixed.
    assert fn.inputs["timeout"] == 53 == program.exports["lambda_timeout"]
    assert program.exports["ingest_batches"] == ["AAPL"]


def test_api_key_secret_is_created_without_a_value(program):
    assert len(program.of_type("aws:secretsmanager/secret:Secret")) == 1
    assert program.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []
    assert "put-secret-value" in program.exports["set_api_key"]
    assert program.exports["api_key_secret_arn"] in program.exports["set_api_key"]


def _chain(prog) -> list:
    """Follow the workflow's triggers from its start trigger: the order the steps really run."""
    jobs = {j.inputs["name"]: j.inputs["defaultArguments"]["--step"] for j in prog.of_type(JOB)}
    crawler = prog.of_type("aws:glue/crawler:Crawler")[0].inputs["name"]

    def step(ref: dict) -> str:
        return "crawl" if ref.get("crawlerName") == crawler else jobs[ref["jobName"]]

    triggers = prog.of_type(TRIGGER)
    (start,) = [t for t in triggers if t.inputs["type"] == "ON_DEMAND"]
    after = {}
    for t in triggers:
        if t.inputs["type"] != "CONDITIONAL":
            continue
        pred = t.inputs["predicate"]
        assert pred["logical"] == "AND"
        (cond,) = pred["conditions"]
        assert cond["logicalOperator"] == "EQUALS"
        assert cond.get("state", cond.get("crawlState")) == "SUCCEEDED"
        assert t.inputs["startOnCreation"] is True
        assert t.inputs["workflowName"] == f"{PREFIX}-daily"
        (action,) = t.inputs["actions"]
        after[step(cond)] = step(action)
    (first,) = start.inputs["actions"]
    order = [step(first)]
    while order[-1] in after:
        order.append(after.pop(order[-1]))
    assert after == {}, f"triggers outside the chain: {after}"
    return order


def test_triggers_chain_the_steps_in_dag_order(program):
    assert _chain(program) == list(STEP_NAMES)
    # The order docs/architecture.md "The DAG" documents, written out: reordering the DAG must
    # fail here too.
    assert _chain(program) == ["crawl", "transform", "dedup", "quality", "publish"]


def test_trigger_chain_follows_a_reordered_dag(run):
    swapped = (DAG[0], DAG[2], DAG[1], *DAG[3:])
    with mock.patch("components.workflow.DAG", swapped):
        prog = run()
    assert _chain(prog) == ["crawl", "dedup", "transform", "quality", "publish"]


def test_trigger_chain_can_start_with_a_job(run):
    jobs_only = tuple(n for n in DAG if n.kind == "job")
    with mock.patch("components.workflow.DAG", jobs_only):
        prog = run()
    assert _chain(prog) == ["transform", "dedup", "quality", "publish"]
    assert all(isinstance(n, Node) for n in jobs_only)


def test_one_python_shell_job_per_job_step_with_the_contracted_arguments(program):
    jobs = {j.inputs["defaultArguments"]["--step"]: j.inputs for j in program.of_type(JOB)}
    assert sorted(jobs) == sorted(n.name for n in DAG if n.kind == "job")
    wheel = next(o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
                 if o.inputs["key"].endswith(".whl")).inputs
    script = next(o for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
                  if o.inputs["key"].endswith("glue_entry.py")).inputs
    for step, job in jobs.items():
        assert job["name"] == f"{PREFIX}-{step}"
        assert job["glueVersion"] == "3.0"
        assert job["maxCapacity"] == 0.0625
        assert job["command"] == {
            "name": "pythonshell", "pythonVersion": "3.9",
            "scriptLocation": f"s3://{program.exports['artifacts_bucket']}/{script['key']}",
        }
        args = job["defaultArguments"]
        assert args["--database"] == "stock_aggregates_dev"
        assert args["--table_prefix"] == "stock_aggregate"
        assert args["--workgroup"] == program.exports["athena_etl_workgroup"] == f"{PREFIX}-etl"
        assert args["--raw_uri"] == f"s3://{program.exports['raw_bucket']}/raw/"
        assert args["--curated_uri"] == f"s3://{program.exports['curated_bucket']}/"
        assert args["--archive_uri"] == f"s3://{program.exports['archive_bucket']}/"
        assert args["--region"] == REGION
        assert args["--partition_granularity"] == "day"
        assert args["--archive_keep"] == "7"
        assert args["--tickers"] == "AAPL"
        assert args["--extra-py-files"] == (
            f"s3://{program.exports['artifacts_bucket']}/{wheel['key']}")
        assert args["--additional-python-modules"] == "pyathena==2.17.0,exchange_calendars==4.2.8"


def test_crawler_adds_new_folders_to_one_prefixed_raw_table_with_partition_index(program):
    (crawler,) = program.of_type("aws:glue/crawler:Crawler")
    c = crawler.inputs
    assert c["tablePrefix"] == "stock_aggregate_"
    assert c["databaseName"] == "stock_aggregates_dev"
    # the raw bars, and the split events as their own table (one schema per include path)
    assert c["s3Targets"] == [{"path": f"s3://{program.exports['raw_bucket']}/raw/"},
                              {"path": f"s3://{program.exports['raw_bucket']}/splits/"}]
    assert c["recrawlPolicy"] == {"recrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert c["schemaChangePolicy"] == {"deleteBehavior": "LOG", "updateBehavior": "LOG"}
    assert json.loads(c["configuration"]) == {
        "Version": 1.0,
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
        # New hour folders inherit the table's column types (no partition schema mismatch).
        "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
        "CreatePartitionIndex": True,
    }


def test_config_reaches_database_prefix_granularity_and_archive_keep(run):
    prog = run({"database": "markets", "tablePrefix": "bars",
                        "partitionGranularity": "hour", "archiveKeep": "3"})
    (crawler,) = prog.of_type("aws:glue/crawler:Crawler")
    assert crawler.inputs["tablePrefix"] == "bars_"
    assert prog.exports["glue_database"] == "markets"
    for job in prog.of_type(JOB):
        assert job.inputs["defaultArguments"]["--partition_granularity"] == "hour"
        assert job.inputs["defaultArguments"]["--archive_keep"] == "3"
        assert job.inputs["defaultArguments"]["--table_prefix"] == "bars"


def test_workflow_runs_incremental_unless_the_full_refresh_property_is_set(program):
    (workflow,) = program.of_type("aws:glue/workflow:Workflow")
    assert workflow.inputs["defaultRunProperties"] == {"full_refresh": "false"}
    assert workflow.inputs["description"] == "crawl -> transform -> dedup -> quality -> publish"


def test_workgroup_enforces_encrypted_results_engine_3_and_cutoff(run):
    prog = run({"athenaBytesScannedCutoff": 50_000_000})
    (wg,) = [w for w in prog.of_type("aws:athena/workgroup:Workgroup")
             if w.inputs["name"] == prog.exports["athena_workgroup"]]
    conf = wg.inputs["configuration"]
    assert conf["enforceWorkgroupConfiguration"] is True
    assert conf["bytesScannedCutoffPerQuery"] == 50_000_000
    assert conf["engineVersion"]["selectedEngineVersion"] == "Athena engine version 3"
    results = conf["resultConfiguration"]
    assert results["outputLocation"] == f"s3://{prog.exports['results_bucket']}/athena/"
    assert results["encryptionConfiguration"] == {"encryptionOption": "SSE_S3"}


def test_glue_jobs_run_in_a_workgroup_that_lets_ctas_name_its_location(run):
    # Athena fails a CTAS with external_location in a workgroup that enforces its result
    # location; every table the jobs write names one, so their workgroup must not enforce.
    prog = run({"athenaBytesScannedCutoff": 50_000_000})
    workgroups = {w.inputs["name"]: w.inputs for w in prog.of_type(
        "aws:athena/workgroup:Workgroup")}
    used = {j.inputs["defaultArguments"]["--workgroup"] for j in prog.of_type(JOB)}
    assert used == {f"{PREFIX}-etl"}
    conf = workgroups[f"{PREFIX}-etl"]["configuration"]
    assert conf["enforceWorkgroupConfiguration"] is False
    # Still a default result location (Athena errors without one), encrypted, apart from the
    # readers' prefix that Grafana may read; same engine and cutoff as the readers' workgroup.
    assert conf["resultConfiguration"] == {
        "outputLocation": f"s3://{prog.exports['results_bucket']}/etl/",
        "encryptionConfiguration": {"encryptionOption": "SSE_S3"},
    }
    assert conf["engineVersion"]["selectedEngineVersion"] == "Athena engine version 3"
    assert conf["bytesScannedCutoffPerQuery"] == 50_000_000
    # The readers' workgroup (Grafana) stays enforced.
    readers = workgroups[prog.exports["athena_workgroup"]]["configuration"]
    assert readers["enforceWorkgroupConfiguration"] is True


def test_monitoring_alarms_and_failure_rules_publish_to_the_alerts_topic(program):
    topic = program.exports["alerts_topic_arn"]
    alarms = {a.inputs["metricName"]: a.inputs
              for a in program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(alarms) == {"Errors", "DeliveryToS3.DataFreshness", "DeliveryToS3.Success",
                           "ApproximateNumberOfMessagesVisible"}
    errors = sorted(a.inputs["dimensions"]["FunctionName"]
                    for a in program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                    if a.inputs["metricName"] == "Errors")
    assert errors == [f"{PREFIX}-ingest", f"{PREFIX}-publication-check"]
    assert alarms["DeliveryToS3.Success"]["dimensions"] == {"DeliveryStreamName": f"{PREFIX}-raw"}
    assert all(a.inputs["alarmActions"] == [topic]
               for a in program.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))
    patterns = [json.loads(r.inputs["eventPattern"])
                for r in program.of_type("aws:cloudwatch/eventRule:EventRule")]
    job_rule = next(p for p in patterns if p["detail-type"] == ["Glue Job State Change"])
    assert sorted(job_rule["detail"]["jobName"]) == sorted(
        f"{PREFIX}-{n.name}" for n in DAG if n.kind == "job")
    assert set(job_rule["detail"]["state"]) == {"FAILED", "TIMEOUT", "ERROR"}
    crawler_rule = next(p for p in patterns if p["detail-type"] == ["Glue Crawler State Change"])
    assert crawler_rule["detail"] == {"crawlerName": [f"{PREFIX}-raw"], "state": ["Failed"]}
    targets = program.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 2 and all(t.inputs["arn"] == topic for t in targets)
    (policy,) = program.of_type("aws:sns/topicPolicy:TopicPolicy")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    principals = {s["Principal"]["Service"] for s in statements}
    assert principals == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}


def test_alarm_email_is_subscribed_only_when_configured(program, run):
    assert program.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    prog = run({"alarmEmail": "ops@example.com"})
    (sub,) = prog.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert (sub.inputs["protocol"], sub.inputs["endpoint"]) == ("email", "ops@example.com")


def test_log_groups_have_retention(program, run):
    groups = {g.inputs["name"]: g.inputs["retentionInDays"]
              for g in program.of_type("aws:cloudwatch/logGroup:LogGroup")}
    # The shared Glue groups are not created by default (Glue makes them on its first run).
    assert groups == {
        f"/aws/lambda/{PREFIX}-ingest": 30,
        f"/aws/lambda/{PREFIX}-publication-check": 30,
        f"/aws/kinesisfirehose/{PREFIX}-raw": 30,
    }
    prog = run({"logRetentionDays": 14})
    groups = {g.inputs["name"]: g.inputs["retentionInDays"]
              for g in prog.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert set(groups.values()) == {14}


def test_exports_name_everything_a_user_needs(program):
    assert set(program.exports) == {
        "raw_bucket", "curated_bucket", "archive_bucket", "results_bucket", "artifacts_bucket",
        "firehose_stream", "lambda_function", "glue_workflow", "glue_database",
        "athena_workgroup", "athena_etl_workgroup", "grafana_role_arn", "alerts_topic_arn",
        "api_key_secret_arn", "set_api_key", "ingest_batches", "lambda_timeout", "table_prefix",
        "region",
    }
    assert program.exports["firehose_stream"] == f"{PREFIX}-raw"
    assert program.exports["lambda_function"] == f"{PREFIX}-ingest"
    assert program.exports["glue_workflow"] == f"{PREFIX}-daily"
    assert program.exports["athena_workgroup"] == PREFIX

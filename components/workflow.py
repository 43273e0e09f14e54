"""The Glue side: catalog database, raw crawler, one Python-shell job per DAG step, the workflow
whose conditional triggers follow runtime.dag.DAG, and the 12:00 America/New_York start."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Union

import pulumi
import pulumi_aws as aws

from runtime import settings as rs
from runtime.dag import DAG, Node
from runtime.jobs.glue_entry import FULL_REFRESH_PROPERTY

from . import iam
from .analytics import ETL_RESULTS_PREFIX
from .ingestion import QUARANTINE_PREFIX, RAW_PREFIX, SPLITS_PREFIX, validate_name_prefix
from .schedule import (
    json_input,
    scheduled_target,
    sdk_target,
    validate_schedule_expression,
    validate_timezone,
)

GLUE_VERSION = "3.0"  # the Glue version of Python-shell 3.9 jobs
PYTHON_VERSION = "3.9"
MAX_CAPACITY = 0.0625  # 1/16 DPU: the SQL runs in Athena, the job only orchestrates it
START_WORKFLOW_ACTION = "glue:startWorkflowRun"  # a Scheduler universal target
CRAWLER_CONFIGURATION = {
    "Version": 1.0,
    # Firehose files from different days must land in one table, not one table per folder.
    "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
    # Each new hour folder is inferred on its own: one holding a single bar with a whole-dollar
    # price types `o` as int where the table says double, and Athena then fails every query on
    # the table with HIVE_PARTITION_SCHEMA_MISMATCH (it checks each partition's column types
    # against the table's). New partitions take the table's schema instead ("Update all new and
    # existing partitions with metadata from the table"; AWS knowledge center
    # athena-hive-partition-schema-mismatch; Glue guide: SchemaChangePolicy LOG +
    # InheritFromTable).
    "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
    "CreatePartitionIndex": True,
}


@dataclass
class GlueWorkflowArgs:
    name_prefix: str
    buckets: Dict[str, pulumi.Input[str]]
    """Bucket names by role: raw, curated, archive, results, artifacts (DataLake.names)."""
    bucket_arns: Dict[str, pulumi.Input[str]]
    workgroup_name: pulumi.Input[str]
    """The pipeline's Athena workgroup; it must not enforce its result location (CTAS)."""
    workgroup_arn: pulumi.Input[str]
    glue_script_uri: pulumi.Input[str]
    glue_wheel_uri: pulumi.Input[str]
    additional_python_modules: str
    settings: rs.Settings = field(default_factory=rs.Settings)
    """The jobs' settings (validated when built); each one with a Glue column becomes a job
    argument, the cloud locations coming from the buckets and workgroup above."""
    schedule: str = "cron(0 12 * * ? *)"
    timezone: str = rs.EXCHANGE_TZ
    job_timeout_minutes: int = 30


def _validate(args: GlueWorkflowArgs) -> None:
    validate_name_prefix(args.name_prefix)
    missing = {"raw", "curated", "archive", "results", "artifacts"} - set(args.buckets)
    if missing or set(args.buckets) != set(args.bucket_arns):
        raise ValueError(
            f"GlueWorkflowArgs.buckets/bucket_arns need raw, curated, archive, results and "
            f"artifacts; missing {sorted(missing) or 'matching keys'}"
        )
    if not 1 <= args.job_timeout_minutes <= 2880:
        raise ValueError(
            f"GlueWorkflowArgs.job_timeout_minutes must be 1..2880, got {args.job_timeout_minutes}"
        )
    try:
        validate_schedule_expression(args.schedule)
        validate_timezone(args.timezone)
    except ValueError as exc:
        raise ValueError(f"GlueWorkflowArgs schedule: {exc}") from None


class GlueWorkflow(pulumi.ComponentResource):
    """Database, crawler, jobs, trigger chain and schedule."""

    workflow_name: pulumi.Output[str]
    database_name: pulumi.Output[str]
    crawler_name: pulumi.Output[str]
    job_names: Dict[str, pulumi.Output[str]]
    schedule_dlq_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: GlueWorkflowArgs, opts: Optional[pulumi.ResourceOptions] = None
    ):
        super().__init__("stockpipe:workflow:GlueWorkflow", name, None, opts)
        _validate(args)
        self._name, self._args = name, args
        ctx = iam.aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        b = args.buckets
        raw_uri = pulumi.Output.concat("s3://", b["raw"], "/", RAW_PREFIX)
        # The crawler names each target's table after its folder: <prefix>_splits.
        splits_uri = pulumi.Output.concat("s3://", b["raw"], "/", SPLITS_PREFIX)

        database = aws.glue.CatalogDatabase(
            f"{name}-database", name=args.settings.database,
            description="stockpipe hourly stock aggregates", opts=child,
        )
        catalog = self._catalog_arns(ctx)

        crawler_role = iam.service_role(
            f"{name}-crawler-role", "glue.amazonaws.com",
            iam.policy_json(
                iam.statement(
                    ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable",
                     "glue:UpdateTable", "glue:GetPartition", "glue:GetPartitions",
                     "glue:BatchGetPartition", "glue:CreatePartition", "glue:BatchCreatePartition",
                     "glue:UpdatePartition", "glue:BatchUpdatePartition",
                     "glue:CreatePartitionIndex", "glue:GetPartitionIndexes"],
                    catalog, sid="Catalog",
                ),
                # What AWS documents for a crawler's S3 data store beyond object reads (the
                # AWSGlueServiceRole grants): locate the bucket and list it. A crawler lists
                # from the bucket root while resolving the include path, so no prefix condition.
                iam.statement(["s3:GetBucketLocation", "s3:ListBucket"], args.bucket_arns["raw"],
                              sid="ListRaw"),
                iam.statement(["s3:GetObject"], [
                    pulumi.Output.concat(args.bucket_arns["raw"], "/", RAW_PREFIX, "*"),
                    pulumi.Output.concat(args.bucket_arns["raw"], "/", SPLITS_PREFIX, "*"),
                ], sid="ReadRaw"),
                self._glue_logs(ctx, "/aws-glue/crawlers"),
            ),
            ctx, self, description="Glue crawler over the raw prefix",
        )
        crawler = aws.glue.Crawler(
            f"{name}-crawler",
            name=f"{args.name_prefix}-raw",
            database_name=database.name,
            role=crawler_role.arn,
            table_prefix=f"{args.settings.table_prefix}_",
            s3_targets=[{"path": raw_uri}, {"path": splits_uri}],
            recrawl_policy={"recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY"},
            # Glue requires LOG/LOG when crawling new folders only.
            schema_change_policy={"delete_behavior": "LOG", "update_behavior": "LOG"},
            configuration=json.dumps(CRAWLER_CONFIGURATION, sort_keys=True),
            opts=child,
        )

        job_role = iam.service_role(
            f"{name}-job-role", "glue.amazonaws.com", self._job_policy(ctx, catalog), ctx, self,
            description="Glue Python-shell jobs: run Athena SQL over the lake",
        )
        default_args: Dict[str, pulumi.Input[str]] = {
            **rs.glue_arguments(args.settings, {
                "workgroup": args.workgroup_name,
                "raw_uri": raw_uri,
                # Each table gets its own prefix under these (Settings.table_location).
                "curated_uri": pulumi.Output.concat("s3://", b["curated"], "/"),
                "archive_uri": pulumi.Output.concat("s3://", b["archive"], "/"),
                "region": ctx.region,
            }),
            "--extra-py-files": args.glue_wheel_uri,
            "--additional-python-modules": args.additional_python_modules,
            "library-set": "analytics",  # preinstalled pandas/numpy that exchange_calendars needs
            "--job-language": "python",
        }
        self._jobs: Dict[str, aws.glue.Job] = {}
        for node in DAG:
            if node.kind != "job":
                continue
            self._jobs[node.name] = aws.glue.Job(
                f"{name}-job-{node.name}",
                name=f"{args.name_prefix}-{node.name}",
                description=node.description,
                role_arn=job_role.arn,
                glue_version=GLUE_VERSION,
                max_capacity=MAX_CAPACITY,
                command={
                    "name": "pythonshell",
                    "python_version": PYTHON_VERSION,
                    "script_location": args.glue_script_uri,
                },
                default_arguments={"--step": node.name, **default_args},
                execution_property={"max_concurrent_runs": 1},
                max_retries=0,  # a failed step stops the workflow; the alarm tells a human
                timeout=args.job_timeout_minutes,
                opts=child,
            )
        self._crawler = crawler

        workflow = aws.glue.Workflow(
            f"{name}-workflow", name=f"{args.name_prefix}-daily", max_concurrent_runs=1,
            description="crawl -> " + " -> ".join(n.name for n in DAG[1:]),
            # Every run is incremental unless started with the run property full_refresh=true
            # (`aws glue start-workflow-run --name <workflow> --run-properties
            # full_refresh=true`); the jobs that need it read it (runtime/jobs/glue_entry.py).
            default_run_properties={FULL_REFRESH_PROPERTY: "false"},
            opts=child,
        )
        self._triggers(workflow)

        schedule = scheduled_target(
            self, f"{name}-schedule", ctx=ctx,
            expression=args.schedule, timezone=args.timezone,
            target_arn=sdk_target(ctx, START_WORKFLOW_ACTION),
            target_input=json_input({"Name": workflow.name}),
            invoke=iam.statement(
                ["glue:StartWorkflowRun"],
                ctx.arn("glue", pulumi.Output.concat("workflow/", workflow.name)),
                sid="StartWorkflow",
            ),
            max_event_age_seconds=3600, max_retry_attempts=3,
            description="Daily Glue workflow run",
        )

        self.workflow_name = workflow.name
        self.database_name = database.name
        self.crawler_name = crawler.name
        self.job_names = {step: job.name for step, job in self._jobs.items()}
        self.schedule_dlq_name = schedule.dlq.name
        self.register_outputs({
            "workflow_name": self.workflow_name,
            "database_name": self.database_name,
            "crawler_name": self.crawler_name,
        })

    # ---- trigger chain ---------------------------------------------------------------------
    def _action(self, node: Node) -> Dict[str, Any]:
        if node.kind == "crawler":
            return {"crawler_name": self._crawler.name}
        return {"job_name": self._jobs[node.name].name}

    def _condition(self, node: Node) -> Dict[str, Any]:
        if node.kind == "crawler":
            return {"crawler_name": self._crawler.name, "crawl_state": "SUCCEEDED",
                    "logical_operator": "EQUALS"}
        return {"job_name": self._jobs[node.name].name, "state": "SUCCEEDED",
                "logical_operator": "EQUALS"}

    def _triggers(self, workflow: aws.glue.Workflow) -> None:
        child = pulumi.ResourceOptions(parent=self)
        prefix = self._args.name_prefix
        aws.glue.Trigger(
            f"{self._name}-start", name=f"{prefix}-start", type="ON_DEMAND",
            workflow_name=workflow.name, actions=[self._action(DAG[0])], opts=child,
        )
        # Each step starts only when the one before it succeeded, in runtime.dag order.
        for before, after in zip(DAG, DAG[1:]):
            aws.glue.Trigger(
                f"{self._name}-after-{before.name}",
                name=f"{prefix}-after-{before.name}",
                type="CONDITIONAL",
                workflow_name=workflow.name,
                start_on_creation=True,  # otherwise the trigger is created deactivated
                predicate={"logical": "AND", "conditions": [self._condition(before)]},
                actions=[self._action(after)],
                opts=child,
            )

    # ---- IAM -------------------------------------------------------------------------------
    def _catalog_arns(self, ctx: iam.AwsContext):
        db = self._args.settings.database
        return [
            ctx.arn("glue", "catalog"),
            ctx.arn("glue", f"database/{db}"),
            ctx.arn("glue", f"table/{db}/*"),
        ]

    @staticmethod
    def _glue_logs(ctx: iam.AwsContext, group: str) -> Dict[str, Any]:
        return iam.statement(
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [ctx.arn("logs", f"log-group:{group}*"),
             ctx.arn("logs", f"log-group:{group}*:log-stream:*")],
            sid="GlueLogs",
        )

    def _job_policy(self, ctx: iam.AwsContext, catalog: list) -> pulumi.Output[str]:
        a = self._args.bucket_arns

        def objects(role: str, prefix: str = "") -> pulumi.Output[str]:
            return pulumi.Output.concat(a[role], "/", prefix, "*")

        rw_buckets: Sequence[Union[str, pulumi.Output[str]]] = [
            a["curated"], a["archive"], a["results"]]
        return iam.policy_json(
            iam.statement(
                ["athena:StartQueryExecution", "athena:GetQueryExecution",
                 "athena:GetQueryResults", "athena:StopQueryExecution"],
                self._args.workgroup_arn, sid="Athena",
            ),
            iam.statement(
                ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable",
                 "glue:UpdateTable", "glue:DeleteTable", "glue:GetPartition",
                 "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition",
                 "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:DeletePartition",
                 "glue:BatchDeletePartition"],
                catalog, sid="Catalog",
            ),
            # Athena looks up the session's database, which is `default` when a client sets
            # none (pyathena's default schema): allow reading that one entry, nothing in it.
            iam.statement(["glue:GetDatabase"],
                          [ctx.arn("glue", "catalog"), ctx.arn("glue", "database/default")],
                          sid="DefaultDatabase"),
            # The full_refresh run property of the workflow run that started the job.
            iam.statement(["glue:GetWorkflowRunProperties"],
                          ctx.arn("glue", f"workflow/{self._args.name_prefix}-daily"),
                          sid="RunProperties"),
            iam.statement(["s3:GetBucketLocation", "s3:ListBucket"], a["raw"], sid="ListRaw"),
            iam.statement(["s3:GetObject"], [objects("raw", RAW_PREFIX),
                                             objects("raw", SPLITS_PREFIX)], sid="ReadRaw"),
            # Transform moves a raw object it cannot read to the quarantine: CopyObject
            # (GetObject on the source, PutObject on the copy), then DeleteObject.
            iam.statement(["s3:DeleteObject"], objects("raw", RAW_PREFIX), sid="TakeRaw"),
            iam.statement(["s3:PutObject"], objects("raw", QUARANTINE_PREFIX),
                          sid="QuarantineRaw"),
            iam.statement(
                ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                rw_buckets, sid="ListLake",
            ),
            iam.statement(
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                 "s3:ListMultipartUploadParts"],
                # Query results only under the pipeline workgroup's prefix, not the readers'.
                [objects("curated"), objects("archive"), objects("results", ETL_RESULTS_PREFIX)],
                sid="WriteLake",
            ),
            iam.statement(["s3:GetObject"], objects("artifacts", "glue/"), sid="ReadCode"),
            self._glue_logs(ctx, "/aws-glue/"),
        )

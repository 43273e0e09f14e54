"""Ingestion: the Polygon API key secret, the Lambda that pulls bars, the Firehose stream that
lands them in the raw bucket, and the 11:00 America/New_York schedule that starts it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from runtime import settings as rs

from . import iam
from .ingest_plan import LAMBDA_MAX_TIMEOUT, IngestPlan, batch_schedules, plan_ingest
from .schedule import json_input, scheduled_targets, validate_schedule_expression, validate_timezone

HANDLER = "runtime.handler.lambda_handler"
LAMBDA_RUNTIME = "python3.12"
RAW_PREFIX = "raw/"
# Where transform moves a raw object it cannot read (runtime/quarantine.py): a sibling of raw/,
# so neither the crawler nor the raw table sees it.
QUARANTINE_PREFIX = "raw-quarantine/"
REJECTS_PREFIX = "rejects/"
# Split events: a few lines per run, which the Lambda writes straight to S3 in the raw layout
# (a second Firehose stream would cost more than it buffers).
SPLITS_PREFIX = "splits/"
# The hour folders written out, in UTC, rather than left to Firehose's implicit default (which
# appends the same `yyyy/MM/dd/HH/`): the raw layout (docs/architecture.md, "Raw record") is
# then visible here, and the
# pair satisfies Firehose's prefix rules under any reading (a Prefix with expressions needs an
# ErrorOutputPrefix; an ErrorOutputPrefix with expressions must hold error-output-type).
TIMESTAMP_FOLDERS = "!{timestamp:yyyy/MM/dd/HH}/"
FIREHOSE_PREFIX = RAW_PREFIX + TIMESTAMP_FOLDERS
ERROR_PREFIX = "errors/!{firehose:error-output-type}/" + TIMESTAMP_FOLDERS
_EXPRESSION = re.compile(r"!\{(firehose|timestamp|partitionKeyFromQuery|partitionKeyFromLambda):"
                         r"[^{}]+\}")
FIREHOSE_LOG_STREAM = "DestinationDelivery"
NAME_PREFIX = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,39}$")


@dataclass
class IngestionArgs:
    name_prefix: str
    """Physical-name prefix, e.g. `stockpipe-dev` (function `<prefix>-ingest`)."""
    raw_bucket_name: pulumi.Input[str]
    raw_bucket_arn: pulumi.Input[str]
    lambda_archive: pulumi.Archive
    lambda_code_hash: str
    settings: rs.Settings = field(default_factory=rs.Settings)
    """Tickers, window and rate limit of the ingest (validated when built)."""
    lambda_timeout: int = 0
    """Seconds; 0 = the minimum the largest batch needs (components.ingest_plan)."""
    lambda_memory_mb: int = 256
    schedule: str = "cron(0 11 * * ? *)"
    timezone: str = rs.EXCHANGE_TZ
    log_retention_days: int = 30
    buffer_size_mb: int = 5
    buffer_interval_seconds: int = 60
    secret_recovery_window_days: int = 7
    """0 deletes the secret at once on destroy (a same-name secret can then be recreated)."""


def validate_name_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or not NAME_PREFIX.match(prefix):
        raise ValueError(
            f"name_prefix {prefix!r} must be 1-40 letters, digits or '-', starting with a letter"
        )
    return prefix


def validate_firehose_prefixes(prefix: str, error_prefix: str) -> None:
    """Firehose's semantic rules for Prefix/ErrorOutputPrefix (Firehose developer guide,
    "Custom prefixes for Amazon S3 objects"); raise ValueError naming the broken rule."""
    for label, value in (("prefix", prefix), ("error prefix", error_prefix)):
        if "!{" in _EXPRESSION.sub("", value):
            raise ValueError(f"Firehose {label} {value!r}: '!{{' may only start an expression")
        if len(value) > 512:
            raise ValueError(f"Firehose {label} is longer than 512 characters")
    if "!{" in prefix and not error_prefix:
        raise ValueError("Firehose needs an ErrorOutputPrefix when the Prefix has expressions")
    if "!{" in error_prefix and "!{firehose:error-output-type}" not in error_prefix:
        raise ValueError(
            f"Firehose error prefix {error_prefix!r} has expressions but no "
            "!{firehose:error-output-type}"
        )
    if "!{firehose:error-output-type}" in prefix:
        raise ValueError("Firehose Prefix cannot contain !{firehose:error-output-type}")


def _validate(args: IngestionArgs) -> None:
    validate_name_prefix(args.name_prefix)
    checks = (
        ("lambda_timeout", args.lambda_timeout, 0, LAMBDA_MAX_TIMEOUT),
        ("secret_recovery_window_days", args.secret_recovery_window_days, 0, 30),
        ("lambda_memory_mb", args.lambda_memory_mb, 128, 10240),
        ("buffer_size_mb", args.buffer_size_mb, 1, 128),
        ("buffer_interval_seconds", args.buffer_interval_seconds, 0, 900),
        ("log_retention_days", args.log_retention_days, 1, 3653),
    )
    for field_name, value, low, high in checks:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"IngestionArgs.{field_name} must be in {low}..{high}, got {value!r}")
    if 0 < args.secret_recovery_window_days < 7:
        raise ValueError("IngestionArgs.secret_recovery_window_days must be 0 or 7..30, "
                         f"got {args.secret_recovery_window_days}")
    try:
        validate_schedule_expression(args.schedule)
        validate_timezone(args.timezone)
    except ValueError as exc:
        raise ValueError(f"IngestionArgs schedule: {exc}") from None


def ingest_plan(args: IngestionArgs) -> IngestPlan:
    """The batches and timeout of `args`; ValueError naming the minimum timeout."""
    try:
        s = args.settings
        plan = plan_ingest(list(s.tickers), s.rate_limit_per_min, s.window_days,
                           args.lambda_timeout)
        batch_schedules(args.schedule, plan)
    except ValueError as exc:
        raise ValueError(f"IngestionArgs: {exc}") from None
    return plan


class Ingestion(pulumi.ComponentResource):
    """Secret + Lambda + Firehose + schedule; outputs the names other components alarm on."""

    function_name: pulumi.Output[str]
    stream_name: pulumi.Output[str]
    secret_arn: pulumi.Output[str]
    plan: IngestPlan
    schedule_dlq_name: pulumi.Output[str]
    failure_queue_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: IngestionArgs, opts: Optional[pulumi.ResourceOptions] = None
    ):
        super().__init__("stockpipe:ingestion:Ingestion", name, None, opts)
        _validate(args)
        plan = ingest_plan(args)
        validate_firehose_prefixes(FIREHOSE_PREFIX, ERROR_PREFIX)
        ctx = iam.aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        stream_name = f"{args.name_prefix}-raw"
        function_name = f"{args.name_prefix}-ingest"

        # The value is set by the user (`aws secretsmanager put-secret-value`), never by code.
        secret = aws.secretsmanager.Secret(
            f"{name}-api-key",
            name=f"{args.name_prefix}/polygon-api-key",
            description="Polygon (Massive) API key read by the ingest Lambda",
            # 0 lets destroy-then-up reuse the name the same day; 7-30 keeps it recoverable.
            recovery_window_in_days=args.secret_recovery_window_days,
            opts=child,
        )

        # ---- Firehose -> raw bucket ------------------------------------------------------
        fh_logs = aws.cloudwatch.LogGroup(
            f"{name}-firehose-logs", name=fh_logs_name(stream_name),
            retention_in_days=args.log_retention_days, opts=child,
        )
        aws.cloudwatch.LogStream(
            f"{name}-firehose-log-stream", name=FIREHOSE_LOG_STREAM,
            log_group_name=fh_logs.name, opts=child,
        )
        raw_objects = pulumi.Output.concat(args.raw_bucket_arn, "/*")
        fh_role = iam.service_role(
            f"{name}-firehose-role", "firehose.amazonaws.com",
            iam.policy_json(
                iam.statement(
                    ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                    args.raw_bucket_arn, sid="RawBucket",
                ),
                iam.statement(
                    ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                    raw_objects, sid="RawObjects",
                ),
                iam.statement(
                    ["logs:PutLogEvents"],
                    ctx.arn("logs", f"log-group:{fh_logs_name(stream_name)}"
                                    f":log-stream:{FIREHOSE_LOG_STREAM}"),
                    sid="DeliveryLogs",
                ),
            ),
            ctx, self, description="Firehose delivery into the raw bucket",
        )
        stream = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-stream",
            name=stream_name,
            destination="extended_s3",
            server_side_encryption={"enabled": True, "key_type": "AWS_OWNED_CMK"},
            extended_s3_configuration={
                "bucket_arn": args.raw_bucket_arn,
                "role_arn": fh_role.arn,
                # raw/YYYY/MM/dd/HH/ by arrival time in UTC (docs/architecture.md, "Raw record").
                "prefix": FIREHOSE_PREFIX,
                "error_output_prefix": ERROR_PREFIX,
                "buffering_size": args.buffer_size_mb,
                "buffering_interval": args.buffer_interval_seconds,
                "compression_format": "UNCOMPRESSED",
                "cloudwatch_logging_options": {
                    "enabled": True,
                    "log_group_name": fh_logs.name,
                    "log_stream_name": FIREHOSE_LOG_STREAM,
                },
            },
            opts=child,
        )

        # ---- Lambda ----------------------------------------------------------------------
        fn_logs = aws.cloudwatch.LogGroup(
            f"{name}-lambda-logs", name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days, opts=child,
        )
        # A failed daily ingest is not re-run by Lambda (it would re-fetch at the free tier's
        # pace into the workflow's hour): the event goes here and an alarm tells a human.
        failures = aws.sqs.Queue(
            f"{name}-failed-invocations", sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 24 * 3600, opts=child,
        )
        fn_role = iam.service_role(
            f"{name}-lambda-role", "lambda.amazonaws.com",
            iam.policy_json(
                iam.statement(
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    ctx.arn("logs", f"log-group:/aws/lambda/{function_name}:log-stream:*"),
                    sid="OwnLogs",
                ),
                iam.statement(["secretsmanager:GetSecretValue"], secret.arn, sid="ApiKey"),
                iam.statement(["firehose:PutRecordBatch"], stream.arn, sid="Deliver"),
                iam.statement(["sqs:SendMessage"], failures.arn, sid="FailedInvocations"),
                iam.statement(
                    ["s3:PutObject"],
                    pulumi.Output.concat(args.raw_bucket_arn, "/", REJECTS_PREFIX, "*"),
                    sid="Rejects",
                ),
                iam.statement(
                    ["s3:PutObject"],
                    pulumi.Output.concat(args.raw_bucket_arn, "/", SPLITS_PREFIX, "*"),
                    sid="Splits",
                ),
            ),
            ctx, self, description="Ingest Lambda: read the API key, deliver to Firehose",
        )
        fn = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            role=fn_role.arn,
            runtime=LAMBDA_RUNTIME,
            handler=HANDLER,
            code=args.lambda_archive,
            source_code_hash=args.lambda_code_hash,
            timeout=plan.timeout,
            memory_size=args.lambda_memory_mb,
            environment={"variables": {
                rs.ENV_FIREHOSE_STREAM: stream.name,
                rs.ENV_API_KEY_SECRET_ARN: secret.arn,
                **rs.environment(args.settings, ("tickers", "window_days", "rate_limit_per_min")),
                rs.ENV_RAW_URI: pulumi.Output.concat(
                    "s3://", args.raw_bucket_name, "/", RAW_PREFIX),
            }},
            logging_config={"log_format": "Text", "log_group": fn_logs.name},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[fn_logs]),
        )

        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async", function_name=fn.name,
            maximum_retry_attempts=0,  # Lambda's default 2 would re-deliver a failed day twice
            destination_config={"on_failure": {"destination": failures.arn}},
            opts=child,
        )

        # One schedule per batch, minutes apart, each naming its tickers (handler event
        # `tickers`); a single batch uses the function's own ticker list.
        expressions = batch_schedules(args.schedule, plan)
        several = len(plan.batches) > 1
        group = scheduled_targets(
            self, f"{name}-schedule", ctx=ctx, timezone=args.timezone,
            runs=[(expr, json_input({"tickers": ",".join(batch)}) if several else None)
                  for expr, batch in zip(expressions, plan.batches)],
            target_arn=fn.arn,
            invoke=iam.statement(["lambda:InvokeFunction"], fn.arn, sid="InvokeIngest"),
            # One retry window of an hour: a later ingest would overlap the 12:00 workflow.
            max_event_age_seconds=3600, max_retry_attempts=2,
            description="Daily ingest of the last N days of hourly bars",
        )

        self.function_name = fn.name
        self.stream_name = stream.name
        self.secret_arn = secret.arn
        self.plan = plan
        self.schedule_dlq_name = group.dlq.name
        self.failure_queue_name = failures.name
        self.register_outputs({
            "function_name": self.function_name,
            "stream_name": self.stream_name,
            "secret_arn": self.secret_arn,
        })


def fh_logs_name(stream_name: str) -> str:
    """Firehose's conventional log group for a stream."""
    return f"/aws/kinesisfirehose/{stream_name}"

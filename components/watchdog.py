"""The publication watchdog: at the deadline (default 13:00 America/New_York) on weekdays a
small Lambda checks that a production copy was published that day; on a trading day without
one it fails, and Monitoring's alarm on its errors notifies (see runtime/publication.py for why
a scheduled check rather than a metric alarm)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import pulumi
import pulumi_aws as aws

from runtime import settings as rs
from runtime.errors import IdentifierError, validate_identifier

from . import iam
from .ingestion import LAMBDA_RUNTIME, validate_name_prefix
from .schedule import scheduled_target, validate_timezone

HANDLER = "runtime.handler.publication_check_handler"


@dataclass
class PublicationWatchArgs:
    name_prefix: str
    lambda_archive: pulumi.Archive
    lambda_code_hash: str
    database: pulumi.Input[str]
    table_prefix: str
    deadline: Tuple[int, int] = (13, 0)
    """(hour, minute) in `timezone` by which a trading day's copy must be published."""
    timezone: str = rs.EXCHANGE_TZ
    log_retention_days: int = 30


def deadline_schedule(deadline: Tuple[int, int]) -> str:
    """Weekdays at the deadline; the function itself skips exchange holidays."""
    hour, minute = deadline
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"deadline must be (hour 0-23, minute 0-59), got {deadline!r}")
    return f"cron({minute} {hour} ? * MON-FRI *)"


class PublicationWatch(pulumi.ComponentResource):
    """Check function + its weekday schedule; outputs what Monitoring alarms on."""

    function_name: pulumi.Output[str]
    schedule_dlq_name: pulumi.Output[str]

    def __init__(self, name: str, args: PublicationWatchArgs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("stockpipe:watchdog:PublicationWatch", name, None, opts)
        validate_name_prefix(args.name_prefix)
        validate_timezone(args.timezone)
        try:
            validate_identifier(args.table_prefix, "PublicationWatchArgs.table_prefix")
        except IdentifierError as exc:
            raise ValueError(str(exc)) from None
        expression = deadline_schedule(args.deadline)
        ctx = iam.aws_context(self)
        child = pulumi.ResourceOptions(parent=self)
        function_name = f"{args.name_prefix}-publication-check"

        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days, opts=child,
        )
        database = pulumi.Output.from_input(args.database)
        role = iam.service_role(
            f"{name}-role", "lambda.amazonaws.com",
            iam.policy_json(
                iam.statement(
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    ctx.arn("logs", f"log-group:/aws/lambda/{function_name}:log-stream:*"),
                    sid="OwnLogs",
                ),
                iam.statement(
                    ["glue:GetTables"],
                    [ctx.arn("glue", "catalog"),
                     ctx.arn("glue", pulumi.Output.concat("database/", database)),
                     ctx.arn("glue", pulumi.Output.concat("table/", database, "/*"))],
                    sid="ListTables",
                ),
            ),
            ctx, self, description="Publication watchdog: list the production tables",
        )
        fn = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            role=role.arn,
            runtime=LAMBDA_RUNTIME,
            handler=HANDLER,
            code=args.lambda_archive,
            source_code_hash=args.lambda_code_hash,
            timeout=60,
            memory_size=128,
            environment={"variables": {
                rs.ENV_DATABASE: database,
                rs.ENV_TABLE_PREFIX: args.table_prefix,
            }},
            logging_config={"log_format": "Text", "log_group": logs.name},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
        )
        # A retried check would only repeat the same answer (and the same alarm).
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async", function_name=fn.name, maximum_retry_attempts=0, opts=child,
        )
        group = scheduled_target(
            self, f"{name}-schedule", ctx=ctx, expression=expression, timezone=args.timezone,
            target_arn=fn.arn,
            invoke=iam.statement(["lambda:InvokeFunction"], fn.arn, sid="InvokeCheck"),
            max_event_age_seconds=900, max_retry_attempts=2,
            description="Was today's production copy published by the deadline?",
        )
        self.function_name = fn.name
        self.schedule_dlq_name = group.dlq.name
        self.register_outputs({"function_name": self.function_name})

"""Monitoring: one SNS topic that hears about every failure (Lambda errors, Firehose delivery
stalls and failures, Glue job and crawler failures, messages in a dead-letter queue, no
production copy by the deadline), and, when asked for, retention on the Glue log groups.
The Lambda and Firehose log groups live in Ingestion, beside the resources that write them
(their names go into the Lambda's logging config and the Firehose role's policy)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import pulumi
import pulumi_aws as aws

from . import iam

GLUE_LOG_GROUPS = ("/aws-glue/python-jobs/output", "/aws-glue/python-jobs/error",
                   "/aws-glue/crawlers")
GLUE_JOB_FAILED_STATES = ("FAILED", "TIMEOUT", "ERROR")


@dataclass
class MonitoringArgs:
    function_name: pulumi.Input[str]
    stream_name: pulumi.Input[str]
    job_names: Sequence[pulumi.Input[str]]
    crawler_name: pulumi.Input[str]
    dead_letter_queues: Dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Queue name by role (e.g. ingest-schedule): any message in one is an alarm."""
    publication_check_function: Optional[pulumi.Input[str]] = None
    publication_deadline: str = "13:00 America/New_York"
    alarm_email: Optional[str] = None
    log_retention_days: int = 30
    # Glue creates these groups itself the first time any job or crawler runs in the region,
    # and they are shared by every Glue job there: creating them fails in such an account
    # (ResourceAlreadyExists) and destroying them would take other pipelines' logs. So by
    # default they are left alone; True adopts the existing groups (import) to set their
    # retention, and `pulumi destroy` leaves them in place.
    manage_glue_log_groups: bool = False
    freshness_threshold_seconds: int = 900
    tags: Dict[str, str] = field(default_factory=dict)


def _validate(args: MonitoringArgs) -> None:
    if not args.job_names:
        raise ValueError("MonitoringArgs.job_names is empty; pass the Glue jobs to watch")
    if args.alarm_email is not None and (
        not isinstance(args.alarm_email, str) or "@" not in args.alarm_email
        or any(c.isspace() for c in args.alarm_email)
    ):
        raise ValueError(
            f"MonitoringArgs.alarm_email {args.alarm_email!r} is not an e-mail address"
        )
    if not 1 <= args.log_retention_days <= 3653:
        raise ValueError(
            f"MonitoringArgs.log_retention_days must be 1..3653, got {args.log_retention_days}"
        )
    if not 60 <= args.freshness_threshold_seconds <= 86400:
        raise ValueError(
            "MonitoringArgs.freshness_threshold_seconds must be 60..86400, "
            f"got {args.freshness_threshold_seconds}"
        )


class Monitoring(pulumi.ComponentResource):
    """Alerts topic, alarms, EventBridge rules and Glue log retention."""

    topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None
    ):
        super().__init__("stockpipe:monitoring:Monitoring", name, None, opts)
        _validate(args)
        self._name, self._args = name, args
        child = pulumi.ResourceOptions(parent=self)

        # Not KMS-encrypted on purpose: neither CloudWatch alarms nor EventBridge can publish
        # to a topic under the AWS-managed SNS key, and a customer key is a cost to ask for.
        topic = aws.sns.Topic(f"{name}-alerts", opts=child)
        if args.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-email", topic=topic.arn, protocol="email",
                endpoint=args.alarm_email, opts=child,
            )
        self._topic = topic

        alarms = self._alarms()
        rules = [
            self._rule("glue-job-failed", {
                "source": ["aws.glue"],
                "detail-type": ["Glue Job State Change"],
                "detail": {"jobName": list(args.job_names),
                           "state": list(GLUE_JOB_FAILED_STATES)},
            }),
            self._rule("glue-crawler-failed", {
                "source": ["aws.glue"],
                "detail-type": ["Glue Crawler State Change"],
                "detail": {"crawlerName": [args.crawler_name], "state": ["Failed"]},
            }),
        ]
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy", arn=topic.arn,
            policy=iam.policy_json(
                {
                    "Sid": "EventBridgeRules",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic.arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": [r.arn for r in rules]}},
                },
                {
                    "Sid": "CloudWatchAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic.arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": [a.arn for a in alarms]}},
                },
            ),
            opts=child,
        )

        if args.manage_glue_log_groups:
            for group in GLUE_LOG_GROUPS:
                aws.cloudwatch.LogGroup(
                    f"{name}-log{group.replace('/', '-')}", name=group,
                    retention_in_days=args.log_retention_days,
                    opts=pulumi.ResourceOptions(parent=self, import_=group,
                                                retain_on_delete=True),
                )

        self.topic_arn = topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})

    def _alarm(self, role: str, evaluation_periods: int = 1,
               **kwargs: Any) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            f"{self._name}-{role}",
            alarm_actions=[self._topic.arn],
            evaluation_periods=evaluation_periods,
            # A daily pipeline is silent most of the day: silence is not a failure.
            treat_missing_data="notBreaching",
            opts=pulumi.ResourceOptions(parent=self),
            **kwargs,
        )

    def _alarms(self) -> List[aws.cloudwatch.MetricAlarm]:
        a = self._args
        return [
            self._alarm(
                "lambda-errors", namespace="AWS/Lambda", metric_name="Errors",
                dimensions={"FunctionName": a.function_name}, statistic="Sum", period=300,
                comparison_operator="GreaterThanThreshold", threshold=0,
                alarm_description="The ingest Lambda failed (see its log group)",
            ),
            self._alarm(
                "firehose-freshness", namespace="AWS/Firehose",
                metric_name="DeliveryToS3.DataFreshness",
                dimensions={"DeliveryStreamName": a.stream_name}, statistic="Maximum",
                period=300, comparison_operator="GreaterThanThreshold",
                threshold=a.freshness_threshold_seconds,
                alarm_description="Records wait in Firehose too long: S3 delivery is stuck",
            ),
            # Firehose retries a failed S3 put every few seconds for up to a day, so one failed
            # attempt that a retry fixed must not page anyone: alarm only when deliveries keep
            # failing in three consecutive 5-minute periods (a period without deliveries is
            # missing data, not a failure).
            self._alarm(
                "firehose-delivery-failed", namespace="AWS/Firehose",
                metric_name="DeliveryToS3.Success",
                dimensions={"DeliveryStreamName": a.stream_name}, statistic="Average",
                period=300, evaluation_periods=3, datapoints_to_alarm=3,
                comparison_operator="LessThanThreshold", threshold=1,
                alarm_description="Firehose deliveries to S3 have failed for 15 minutes",
            ),
        ] + [
            # Schedules that could not reach their target, and ingests that failed (no async
            # retry), leave a message: it waits there up to 14 days for a replay.
            self._alarm(
                f"{role}-messages", namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": queue}, statistic="Maximum", period=300,
                comparison_operator="GreaterThanThreshold", threshold=0,
                alarm_description=f"Messages in the {role} dead-letter queue: a run was lost",
            )
            for role, queue in sorted(a.dead_letter_queues.items())
        ] + ([] if a.publication_check_function is None else [
            self._alarm(
                "publication-missing", namespace="AWS/Lambda", metric_name="Errors",
                dimensions={"FunctionName": a.publication_check_function}, statistic="Sum",
                period=300, comparison_operator="GreaterThanThreshold", threshold=0,
                alarm_description=(
                    f"No production copy published by {a.publication_deadline} on a trading "
                    "day, or the check could not run (see the publication-check log)"),
            ),
        ])

    def _rule(self, role: str, pattern: Dict[str, Any]) -> aws.cloudwatch.EventRule:
        child = pulumi.ResourceOptions(parent=self)
        rule = aws.cloudwatch.EventRule(
            f"{self._name}-{role}",
            description=f"stockpipe: {role.replace('-', ' ')}",
            event_pattern=pulumi.Output.from_input(pattern).apply(
                lambda p: json.dumps(p, sort_keys=True)),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{self._name}-{role}-target", rule=rule.name, arn=self._topic.arn, opts=child,
        )
        return rule

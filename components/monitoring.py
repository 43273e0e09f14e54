"""Monitoring: one SNS topic that hears about every failure (Lambda errors, Firehose delivery
stalls and failures, Glue job and crawler failures), and retention on the Glue log groups.
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
    alarm_email: Optional[str] = None
    log_retention_days: int = 30
    # The Glue groups are shared by every Glue job in the region; set False if they already
    # exist in the account (or import them) instead of creating them here.
    manage_glue_log_groups: bool = True
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
                    retention_in_days=args.log_retention_days, opts=child,
                )

        self.topic_arn = topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})

    def _alarm(self, role: str, **kwargs: Any) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            f"{self._name}-{role}",
            alarm_actions=[self._topic.arn],
            evaluation_periods=1,
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
            self._alarm(
                "firehose-delivery-failed", namespace="AWS/Firehose",
                metric_name="DeliveryToS3.Success",
                dimensions={"DeliveryStreamName": a.stream_name}, statistic="Minimum",
                period=300, comparison_operator="LessThanThreshold", threshold=1,
                alarm_description="Some Firehose deliveries to S3 failed (see errors/ prefix)",
            ),
        ]

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

"""EventBridge Scheduler helpers: validate AWS cron/rate expressions and time zones, and build a
schedule with its own role, retry policy and SQS dead-letter queue."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pulumi
import pulumi_aws as aws

from . import iam

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_DAYS = "SUN MON TUE WED THU FRI SAT".split()
# (name, low, high, extra characters AWS allows in that field)
_FIELDS: Tuple[Tuple[str, int, int, str], ...] = (
    ("minutes", 0, 59, ""),
    ("hours", 0, 23, ""),
    ("day-of-month", 1, 31, "?LW"),
    ("month", 1, 12, ""),
    ("day-of-week", 1, 7, "?L#"),
    ("year", 1970, 2199, ""),
)


def _names_to_numbers(value: str, names: list, first: int) -> str:
    for i, n in enumerate(names):
        value = value.replace(n, str(i + first))
    return value


def _check_cron_field(field: str, name: str, low: int, high: int, extra: str) -> None:
    if field in ("*", "?") and (field == "*" or "?" in extra):
        return
    if not re.fullmatch(r"[0-9,\-*/" + re.escape(extra) + r"]+", field):
        raise ValueError(f"{name} field {field!r} has characters AWS cron does not allow there")
    for number in re.findall(r"\d+", field.split("#")[0]):
        # After '/', a number is a step, not a value in the field's range.
        if not low <= int(number) <= high and f"/{number}" not in field:
            raise ValueError(f"{name} value {number} is outside {low}-{high}")


def validate_schedule_expression(expr: object) -> str:
    """Return `expr` if it is an AWS `cron(...)` (6 fields) or `rate(...)` expression."""
    if not isinstance(expr, str):
        raise ValueError(f"schedule must be a string like 'cron(0 11 * * ? *)', got {expr!r}")
    expr = expr.strip()
    m = _RATE.match(expr)
    if m:
        value, unit = int(m.group(1)), m.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ValueError(
                f"{expr!r}: use a positive number, singular unit for 1 ('rate(1 hour)') "
                "and plural otherwise ('rate(2 hours)')"
            )
        return expr
    m = _CRON.match(expr)
    if not m:
        raise ValueError(
            f"{expr!r} is neither 'cron(min hour day-of-month month day-of-week year)' nor "
            "'rate(N unit)'"
        )
    fields = m.group(1).split()
    if len(fields) != 6:
        raise ValueError(
            f"{expr!r} has {len(fields)} fields; AWS cron needs 6 "
            "(minutes hours day-of-month month day-of-week year), e.g. cron(0 11 * * ? *)"
        )
    fields[3] = _names_to_numbers(fields[3].upper(), _MONTHS, 1)
    fields[4] = _names_to_numbers(fields[4].upper(), _DAYS, 1)
    for value, spec in zip(fields, _FIELDS):
        try:
            _check_cron_field(value, *spec)
        except ValueError as exc:
            raise ValueError(f"{expr!r}: {exc}") from None
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValueError(
            f"{expr!r}: exactly one of day-of-month and day-of-week must be '?' "
            "(AWS cron cannot combine them)"
        )
    return expr


def validate_timezone(tz: object) -> str:
    """Return `tz` if it is an IANA time zone name known to this machine's tz database."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(tz, str) or not tz.strip() or tz != tz.strip():
        raise ValueError(f"time zone must be an IANA name like America/New_York, got {tz!r}")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {tz!r}; use an IANA name like America/New_York"
        ) from None
    return tz


@dataclass
class ScheduleGroup:
    """Schedules that share one target, role and dead-letter queue."""

    schedules: List[aws.scheduler.Schedule]
    dlq: aws.sqs.Queue


def scheduled_targets(
    parent: pulumi.Resource,
    name: str,
    *,
    ctx: iam.AwsContext,
    runs: Sequence[Tuple[str, Optional[pulumi.Input[str]]]],
    timezone: str,
    target_arn: pulumi.Input[str],
    invoke: Dict[str, Any],
    max_event_age_seconds: int = 3600,
    max_retry_attempts: int = 3,
    description: str = "",
) -> ScheduleGroup:
    """One schedule per (expression, input) in `runs`, all calling `target_arn` through one role
    that may only do `invoke` and write the group's DLQ. One run is named `name`, several
    `name-1`, `name-2`, ..."""
    if not runs:
        raise ValueError(f"{name}: no schedule expressions")
    for expression, _ in runs:
        validate_schedule_expression(expression)
    validate_timezone(timezone)
    if not 60 <= max_event_age_seconds <= 86400:
        raise ValueError(f"max_event_age_seconds must be 60..86400, got {max_event_age_seconds}")
    if not 0 <= max_retry_attempts <= 185:
        raise ValueError(f"max_retry_attempts must be 0..185, got {max_retry_attempts}")
    child = pulumi.ResourceOptions(parent=parent)
    dlq = aws.sqs.Queue(
        f"{name}-dlq",
        sqs_managed_sse_enabled=True,
        message_retention_seconds=14 * 24 * 3600,  # the maximum: time to notice and replay
        opts=child,
    )
    role = iam.service_role(
        f"{name}-role",
        "scheduler.amazonaws.com",
        iam.policy_json(
            invoke,
            iam.statement(["sqs:SendMessage"], dlq.arn, sid="DeadLetters"),
        ),
        ctx,
        parent,
        description=f"EventBridge Scheduler role for {name}",
    )
    schedules = []
    for i, (expression, target_input) in enumerate(runs):
        target: Dict[str, Any] = {
            "arn": target_arn,
            "role_arn": role.arn,
            "retry_policy": {
                "maximum_event_age_in_seconds": max_event_age_seconds,
                "maximum_retry_attempts": max_retry_attempts,
            },
            "dead_letter_config": {"arn": dlq.arn},
        }
        if target_input is not None:
            target["input"] = target_input
        schedules.append(aws.scheduler.Schedule(
            name if len(runs) == 1 else f"{name}-{i + 1}",
            description=description if len(runs) == 1
            else f"{description} (batch {i + 1} of {len(runs)})",
            schedule_expression=expression,
            # EventBridge *rules* are UTC only; Scheduler's time zone keeps the ET time across
            # DST.
            schedule_expression_timezone=timezone,
            flexible_time_window={"mode": "OFF"},
            target=target,
            opts=child,
        ))
    return ScheduleGroup(schedules, dlq)


def scheduled_target(
    parent: pulumi.Resource,
    name: str,
    *,
    expression: str,
    target_input: Optional[pulumi.Input[str]] = None,
    **kwargs: Any,
) -> ScheduleGroup:
    """A single schedule `name` (see scheduled_targets)."""
    return scheduled_targets(parent, name, runs=[(expression, target_input)], **kwargs)


def sdk_target(ctx: iam.AwsContext, action: str) -> pulumi.Output[str]:
    """Scheduler's universal target for one AWS API call, e.g. `glue:startWorkflowRun`, in the
    provider's partition (arn:aws-cn:..., arn:aws-us-gov:...)."""
    return pulumi.Output.concat("arn:", ctx.partition, ":scheduler:::aws-sdk:", action)


def json_input(value: Dict[str, pulumi.Input[Any]]) -> pulumi.Output[str]:
    """A schedule target's Input as a JSON string (resolving Outputs)."""
    return pulumi.Output.from_input(value).apply(json.dumps)

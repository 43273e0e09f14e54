"""The stack's configuration: every key with its default (mirrored, and tested, in Pulumi.yaml),
parsed and validated so a bad value fails `pulumi preview` with the key's name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple, Union

from runtime import settings as rs
from runtime.errors import ConfigError, StockpipeError

from .ingest_plan import (
    LAMBDA_MAX_TIMEOUT,
    IngestPlan,
    batch_schedules,
    check_workflow_after_ingest,
    plan_ingest,
)
from .schedule import validate_schedule_expression, validate_timezone

PROJECT = "stockpipe"
# Firehose's 60 s buffer plus a margin: when the last ingested record is in S3.
FIREHOSE_DELIVERY_SECONDS = 120
# The only retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
Value = Union[str, int, bool]



def _stack_default(source: rs.Source, default: object) -> Value:
    """A runtime setting's default as the stack config writes it."""
    if source.pulumi_default is not None:
        return source.pulumi_default
    if source.kind.pulumi_type == "integer":
        return int(default)  # type: ignore[call-overload]
    return source.kind.encode(default)


# The settings the jobs and the Lambda share with the stack: the Pulumi column of
# runtime/settings.py. Settings attribute -> (key, how it is parsed).
RUNTIME_KEYS: Dict[str, Tuple[str, rs.Source]] = {
    name: (source.pulumi, source) for name, source in rs.sources() if source.pulumi
}
_SETTINGS_DEFAULTS = rs.Settings()
# key -> default; Pulumi.yaml documents the same keys with the same defaults.
DEFAULTS: Dict[str, Value] = {
    **{key: _stack_default(source, getattr(_SETTINGS_DEFAULTS, name))
       for name, (key, source) in RUNTIME_KEYS.items()},
    "lambdaTimeout": 0,
    "ingestSchedule": "cron(0 11 * * ? *)",
    "workflowSchedule": "cron(0 12 * * ? *)",
    "scheduleTimezone": rs.EXCHANGE_TZ,
    "alarmEmail": "",
    "athenaBytesScannedCutoff": 1_000_000_000,
    "queryResultsRetentionDays": 30,
    "archiveRetentionDays": 90,
    "logRetentionDays": 30,
    "manageGlueLogGroups": False,
    "secretRecoveryWindowDays": 7,
    "publishDeadline": "13:00",
    "grafanaPrincipalArn": "",
    "grafanaExternalId": "",
    "grafanaExternalUser": False,
    "forceDestroy": False,
}


@dataclass(frozen=True)
class StackConfig:
    settings: rs.Settings
    """What the Lambda and the Glue jobs run with (tickers, window, database, granularity...);
    the database is the stack-scoped one unless configured (see scoped_database)."""
    lambda_timeout: int
    ingest_schedule: str
    workflow_schedule: str
    schedule_timezone: str
    alarm_email: Optional[str]
    athena_bytes_scanned_cutoff: int
    query_results_retention_days: int
    archive_retention_days: int
    log_retention_days: int
    manage_glue_log_groups: bool
    secret_recovery_window_days: int
    publish_deadline: Tuple[int, int]
    ingest_plan: IngestPlan
    grafana_principal_arn: Optional[str]
    grafana_external_id: Optional[str]
    grafana_external_user: bool
    force_destroy: bool


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(
        f"config {PROJECT}:{key}: {problem} (fix with `pulumi config set {key} <value>`)"
    )


def _int(key: str, raw: Value, low: int, high: int) -> int:
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = int(str(raw).strip())
    except ValueError:
        raise _fail(key, f"must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise _fail(key, f"must be between {low} and {high}, got {value}")
    return value


def _bool(key: str, raw: Value) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text not in ("true", "false"):
        raise _fail(key, f"must be true or false, got {raw!r}")
    return text == "true"


def _checked(key: str, check: Callable[[str], object], raw: Value) -> str:
    try:
        check(str(raw))
    except (ValueError, StockpipeError) as exc:
        raise _fail(key, str(exc)) from None
    return str(raw)


def _retention(raw: Value) -> int:
    days = _int("logRetentionDays", raw, 1, 3653)
    if days not in LOG_RETENTION_DAYS:
        raise _fail("logRetentionDays",
                    f"CloudWatch Logs accepts only {LOG_RETENTION_DAYS}, got {days}")
    return days


def _recovery_window(raw: Value) -> int:
    days = _int("secretRecoveryWindowDays", raw, 0, 30)
    if 0 < days < 7:
        raise _fail("secretRecoveryWindowDays",
                    f"Secrets Manager accepts 0 (delete at once) or 7-30 days, got {days}")
    return days


def _clock_time(key: str, raw: Value) -> Tuple[int, int]:
    text = str(raw).strip()
    parts = text.split(":")
    if (len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts)
            or int(parts[0]) > 23 or int(parts[1]) > 59):
        raise _fail(key, f"must be a time of day HH:MM like 13:00, got {raw!r}")
    return int(parts[0]), int(parts[1])


def _ingest_plan(tickers: Tuple[str, ...], rate: float, window_days: int, timeout: int,
                 ingest: str, workflow: str) -> IngestPlan:
    try:
        plan = plan_ingest(tickers, rate, window_days, timeout)
    except ValueError as exc:
        raise _fail("lambdaTimeout", str(exc)) from None
    try:
        batch_schedules(ingest, plan)
    except ValueError as exc:
        raise _fail("ingestSchedule", str(exc)) from None
    try:
        check_workflow_after_ingest(ingest, workflow, plan, FIREHOSE_DELIVERY_SECONDS)
    except ValueError as exc:
        raise _fail("workflowSchedule", str(exc)) from None
    return plan


def _optional(raw: Value) -> Optional[str]:
    text = str(raw).strip()
    return text or None


def _runtime_settings(get: Callable[[str], Optional[str]], stack: str) -> rs.Settings:
    kw: Dict[str, object] = {}
    for name, (key, source) in RUNTIME_KEYS.items():
        value = get(key)
        # The stack's own default (e.g. database "" = stack-scoped) is not a value to parse.
        if value is None or (source.pulumi_default is not None
                             and str(value).strip() == source.pulumi_default):
            continue
        try:
            kw[name] = source.convert(value)
        except (ValueError, StockpipeError) as exc:
            raise _fail(key, str(exc)) from None
    return rs.Settings(database=scoped_database(kw.pop("database", None), stack), **kw)


def load_stack_config(get: Callable[[str], Optional[str]], stack: str) -> StackConfig:
    """Read every key through `get` (e.g. `pulumi.Config().get`) for the stack named `stack`,
    defaulting and validating."""

    def raw(key: str) -> Value:
        value = get(key)
        return DEFAULTS[key] if value is None else value

    settings = _runtime_settings(get, stack)
    principal = _optional(raw("grafanaPrincipalArn"))
    if principal and not (principal.startswith("arn:") and ":iam::" in principal):
        raise _fail("grafanaPrincipalArn", f"must be an IAM ARN, got {principal!r}")
    email = _optional(raw("alarmEmail"))
    if email and ("@" not in email or any(c.isspace() for c in email)):
        raise _fail("alarmEmail", f"{email!r} is not an e-mail address")
    ingest_schedule = _checked("ingestSchedule", validate_schedule_expression,
                               raw("ingestSchedule"))
    workflow_schedule = _checked("workflowSchedule", validate_schedule_expression,
                                 raw("workflowSchedule"))
    timeout = _int("lambdaTimeout", raw("lambdaTimeout"), 0, LAMBDA_MAX_TIMEOUT)
    return StackConfig(
        settings=settings,
        lambda_timeout=timeout,
        ingest_schedule=ingest_schedule,
        workflow_schedule=workflow_schedule,
        schedule_timezone=_checked("scheduleTimezone", validate_timezone, raw("scheduleTimezone")),
        alarm_email=email,
        athena_bytes_scanned_cutoff=_int("athenaBytesScannedCutoff",
                                         raw("athenaBytesScannedCutoff"), 10_000_000, 2**53),
        query_results_retention_days=_int("queryResultsRetentionDays",
                                          raw("queryResultsRetentionDays"), 1, 36500),
        archive_retention_days=_int("archiveRetentionDays", raw("archiveRetentionDays"),
                                    1, 36500),
        log_retention_days=_retention(raw("logRetentionDays")),
        manage_glue_log_groups=_bool("manageGlueLogGroups", raw("manageGlueLogGroups")),
        secret_recovery_window_days=_recovery_window(raw("secretRecoveryWindowDays")),
        publish_deadline=_clock_time("publishDeadline", raw("publishDeadline")),
        ingest_plan=_ingest_plan(settings.tickers, settings.rate_limit_per_min,
                                 settings.window_days, timeout, ingest_schedule,
                                 workflow_schedule),
        grafana_principal_arn=principal,
        grafana_external_id=_optional(raw("grafanaExternalId")),
        grafana_external_user=_bool("grafanaExternalUser", raw("grafanaExternalUser")),
        force_destroy=_bool("forceDestroy", raw("forceDestroy")),
    )


def _stack_slug(stack: str, keep: str, width: int) -> str:
    """`stack` reduced to letters, digits and `keep`; a long name keeps a hash of the whole so
    two long stack names with the same beginning still differ."""
    import hashlib

    safe = "".join(c if c.isalnum() else keep for c in stack).strip(keep) or "stack"
    if len(safe) > width:
        digest = hashlib.sha256(stack.encode()).hexdigest()[:6]
        safe = f"{safe[:width - 7].rstrip(keep)}{keep}{digest}"
    return safe


def name_prefix(stack: str) -> str:
    """Physical-name prefix for a stack: `stockpipe-<stack>` (letters, digits, '-')."""
    return f"{PROJECT}-{_stack_slug(stack, '-', 28)}"


def scoped_database(database: Optional[str], stack: str) -> str:
    """The Glue database: the configured name, else `stock_aggregates_<stack>` so two stacks
    in one account and region keep apart catalogs (a database is per account and region)."""
    if database:
        return database
    return f"{rs.DEFAULT_DATABASE}_{_stack_slug(stack.lower(), '_', 40)}"

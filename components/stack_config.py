"""The stack's configuration: every key is a row (kind, default, key), in runtime/settings.py
for the settings the jobs and the Lambda share and in StackConfig for the rest; Pulumi.yaml
documents the same keys and defaults (tests/infra check it). A bad value fails `pulumi
preview` naming its key."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, Callable, Dict, Optional, Tuple, Union

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


# ---- kinds of stack value the runtime table does not need ----------------------------------
class Boolean(rs.Kind):
    pulumi_type = "boolean"

    def parse(self, raw: object) -> bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"must be true or false, got {raw!r}")
        return text == "true"

    def encode(self, value: Any) -> str:
        return "true" if value else "false"

    def stack_value(self, value: Any) -> Any:
        return bool(value)


class LogRetention(rs.Integer):
    def __init__(self) -> None:
        super().__init__(LOG_RETENTION_DAYS[0], LOG_RETENTION_DAYS[-1])

    def parse(self, raw: object) -> int:
        days = super().parse(raw)
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts only {LOG_RETENTION_DAYS}, got {days}")
        return days


class RecoveryWindow(rs.Integer):
    def __init__(self) -> None:
        super().__init__(0, 30)

    def parse(self, raw: object) -> int:
        days = super().parse(raw)
        if 0 < days < 7:
            raise ValueError(f"Secrets Manager accepts 0 (delete at once) or 7-30 days, got {days}")
        return days


class ClockTime(rs.Kind):
    """HH:MM -> (hour, minute)."""

    def parse(self, raw: object) -> Tuple[int, int]:
        parts = str(raw).strip().split(":")
        if (len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts)
                or int(parts[0]) > 23 or int(parts[1]) > 59):
            raise ValueError(f"must be a time of day HH:MM like 13:00, got {raw!r}")
        return int(parts[0]), int(parts[1])

    def encode(self, value: Any) -> str:
        hour, minute = value
        return f"{hour:02d}:{minute:02d}"


class Checked(rs.Kind):
    """Text that `check` accepts (it raises ValueError saying why not)."""

    def __init__(self, check: Callable[[str], object]) -> None:
        self.check = check

    def parse(self, raw: object) -> str:
        self.check(str(raw))
        return str(raw)


class Blankable(rs.Kind):
    """Optional text: empty means none; `check` (if any) judges the rest."""

    def __init__(self, check: Optional[Callable[[str], None]] = None) -> None:
        self.check = check

    def parse(self, raw: object) -> Optional[str]:
        text = str(raw).strip()
        if text and self.check:
            self.check(text)
        return text or None


def _email(text: str) -> None:
    if "@" not in text or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not an e-mail address")


def _iam_arn(text: str) -> None:
    if not (text.startswith("arn:") and ":iam::" in text):
        raise ValueError(f"must be an IAM ARN, got {text!r}")


@dataclass(frozen=True)
class StackConfig:
    """The stack's configuration. `settings` holds the keys the Lambda and the Glue jobs share
    (the Pulumi column of runtime/settings.py); the fields below it are the rows only the
    infrastructure reads, declared the same way (kind, default, key)."""

    settings: rs.Settings
    """What the Lambda and the Glue jobs run with (tickers, window, database, granularity...);
    the database is the stack-scoped one unless configured (see scoped_database)."""
    ingest_plan: IngestPlan
    """Derived: the ingest's batches and timeout (from tickers, rate, window, lambdaTimeout)."""
    lambda_timeout: int = rs.setting(
        0, rs.Integer(0, LAMBDA_MAX_TIMEOUT), pulumi="lambdaTimeout",
        doc="ingest Lambda timeout in seconds; 0 = the minimum the ingest needs")
    ingest_schedule: str = rs.setting(
        "cron(0 11 * * ? *)", Checked(validate_schedule_expression), pulumi="ingestSchedule",
        doc="when the ingest runs")
    workflow_schedule: str = rs.setting(
        "cron(0 12 * * ? *)", Checked(validate_schedule_expression), pulumi="workflowSchedule",
        doc="when the Glue workflow starts")
    schedule_timezone: str = rs.setting(
        rs.EXCHANGE_TZ, Checked(validate_timezone), pulumi="scheduleTimezone",
        doc="time zone of both schedules")
    alarm_email: Optional[str] = rs.setting(
        None, Blankable(_email), pulumi="alarmEmail", pulumi_default="",
        doc="e-mail subscribed to the alerts")
    athena_bytes_scanned_cutoff: int = rs.setting(
        1_000_000_000, rs.Integer(10_000_000, 2**53), pulumi="athenaBytesScannedCutoff",
        doc="per-query bytes-scanned limit of the workgroup")
    query_results_retention_days: int = rs.setting(
        30, rs.Integer(1, 36500), pulumi="queryResultsRetentionDays",
        doc="days Athena query results are kept")
    archive_retention_days: int = rs.setting(
        90, rs.Integer(1, 36500), pulumi="archiveRetentionDays",
        doc="days an overwritten archive object version is kept")
    log_retention_days: int = rs.setting(
        30, LogRetention(), pulumi="logRetentionDays", doc="retention of the log groups")
    manage_glue_log_groups: bool = rs.setting(
        False, Boolean(), pulumi="manageGlueLogGroups",
        doc="adopt Glue's shared log groups to set their retention")
    secret_recovery_window_days: int = rs.setting(
        7, RecoveryWindow(), pulumi="secretRecoveryWindowDays",
        doc="days the API key secret survives a destroy (0 = none)")
    publish_deadline: Tuple[int, int] = rs.setting(
        (13, 0), ClockTime(), pulumi="publishDeadline",
        doc="time a trading day's production copy must be published by")
    grafana_principal_arn: Optional[str] = rs.setting(
        None, Blankable(_iam_arn), pulumi="grafanaPrincipalArn", pulumi_default="",
        doc="principal allowed to assume the Grafana role (none: this account)")
    grafana_external_id: Optional[str] = rs.setting(
        None, Blankable(), pulumi="grafanaExternalId", pulumi_default="",
        doc="sts:ExternalId the Grafana principal presents")
    grafana_external_user: bool = rs.setting(
        False, Boolean(), pulumi="grafanaExternalUser",
        doc="also an IAM user with an access key for Grafana")
    force_destroy: bool = rs.setting(
        False, Boolean(), pulumi="forceDestroy",
        doc="`pulumi destroy` may delete non-empty buckets")


def _stack_default(source: rs.Source, default: object) -> Value:
    """A row's default as the stack config (Pulumi.yaml) writes it."""
    if source.pulumi_default is not None:
        return source.pulumi_default
    return source.kind.stack_value(default)  # type: ignore[no-any-return]


def _field_defaults(table: Any) -> Dict[str, object]:
    return {f.name: f.default for f in fields(table) if f.default is not MISSING}


# Stack key -> (the table that declares it, attribute, its row): the runtime settings the jobs
# and the Lambda share, then the rows only the infrastructure reads.
ROWS: Dict[str, Tuple[Any, str, rs.Source]] = {
    source.pulumi: (table, name, source)
    for table in (rs.Settings, StackConfig)
    for name, source in rs.sources(table) if source.pulumi
}
_TABLE_DEFAULTS = {rs.Settings: vars(rs.Settings()), StackConfig: _field_defaults(StackConfig)}
# key -> default; Pulumi.yaml documents the same keys with the same defaults.
DEFAULTS: Dict[str, Value] = {
    key: _stack_default(source, _TABLE_DEFAULTS[table][name])
    for key, (table, name, source) in ROWS.items()
}


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(
        f"config {PROJECT}:{key}: {problem} (fix with `pulumi config set {key} <value>`)"
    )


def _read(table: Any, get: Callable[[str], Optional[str]]) -> Dict[str, object]:
    """attribute -> typed value of every key of `table` the stack sets; each parsed by its row,
    a bad value named by its key."""
    kw: Dict[str, object] = {}
    for key, (owner, name, source) in ROWS.items():
        if owner is not table:
            continue
        value = get(key)
        # The stack's own default (e.g. database "" = stack-scoped) is not a value to parse.
        if value is None or (source.pulumi_default is not None
                             and str(value).strip() == source.pulumi_default):
            continue
        try:
            kw[name] = source.convert(value)
        except (ValueError, StockpipeError) as exc:
            raise _fail(key, str(exc)) from None
    return kw


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


def load_stack_config(get: Callable[[str], Optional[str]], stack: str) -> StackConfig:
    """Read every key through `get` (e.g. `pulumi.Config().get`) for the stack named `stack`,
    defaulting and validating."""
    runtime = _read(rs.Settings, get)
    settings = rs.Settings(database=scoped_database(runtime.pop("database", None), stack),
                           **runtime)
    stack_rows = {**_field_defaults(StackConfig), **_read(StackConfig, get)}
    plan = _ingest_plan(settings.tickers, settings.rate_limit_per_min, settings.window_days,
                        stack_rows["lambda_timeout"], stack_rows["ingest_schedule"],
                        stack_rows["workflow_schedule"])
    return StackConfig(settings=settings, ingest_plan=plan, **stack_rows)  # type: ignore[arg-type]


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

"""Each component refuses bad arguments in its constructor, naming the bad input."""

from __future__ import annotations

import dataclasses
import re

import pulumi
import pytest

from components.analytics import Analytics, AnalyticsArgs
from components.ingestion import Ingestion, IngestionArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.packaging import Artifacts, ArtifactsArgs
from components.workflow import GlueWorkflow, GlueWorkflowArgs
from runtime.errors import ConfigError
from runtime.settings import Settings

ROLES = ("raw", "curated", "archive", "results", "artifacts")


def _ingestion(**changes) -> IngestionArgs:
    base = IngestionArgs(
        name_prefix="stockpipe-test", raw_bucket_name="raw", raw_bucket_arn="arn:aws:s3:::raw",
        lambda_archive=pulumi.AssetArchive({}), lambda_code_hash="abc",
    )
    return dataclasses.replace(base, **changes)


def _workflow(**changes) -> GlueWorkflowArgs:
    base = GlueWorkflowArgs(
        name_prefix="stockpipe-test",
        buckets={r: r for r in ROLES},
        bucket_arns={r: f"arn:aws:s3:::{r}" for r in ROLES},
        workgroup_name="wg", workgroup_arn="arn:aws:athena:us-east-1:1:workgroup/wg",
        glue_script_uri="s3://artifacts/glue/x/glue_entry.py",
        glue_wheel_uri="s3://artifacts/glue/x/w.whl",
        additional_python_modules="pyathena==3.20.0",
    )
    return dataclasses.replace(base, **changes)


def _analytics(**changes) -> AnalyticsArgs:
    base = AnalyticsArgs(
        name_prefix="stockpipe-test", results_bucket_name="results",
        results_bucket_arn="arn:aws:s3:::results", data_bucket_arns=["arn:aws:s3:::curated"],
        database="stock_aggregates",
    )
    return dataclasses.replace(base, **changes)


def _monitoring(**changes) -> MonitoringArgs:
    base = MonitoringArgs(function_name="f", stream_name="s", job_names=["j"],
                          crawler_name="c")
    return dataclasses.replace(base, **changes)


CASES = [
    (Ingestion, _ingestion(lambda_timeout=-1), "lambda_timeout must be in 0..900, got -1"),
    (Ingestion, _ingestion(lambda_timeout=901), "lambda_timeout must be in 0..900, got 901"),
    (Ingestion, _ingestion(lambda_timeout=10),
     "lambdaTimeout 10 s is below the 53 s minimum: 1 ticker(s) per invocation at 5 "
     "requests/minute with 2 retries; set at least 53"),
    (Ingestion, _ingestion(secret_recovery_window_days=3),
     "secret_recovery_window_days must be 0 or 7..30, got 3"),
    (Ingestion, _ingestion(buffer_size_mb=200), "buffer_size_mb"),
    (Ingestion, _ingestion(schedule="cron(0 11 * * *)"), "has 5 fields"),
    (Ingestion, _ingestion(timezone="Europe/Atlantis"), "unknown time zone"),
    (Ingestion, _ingestion(name_prefix="stock pipe"), "name_prefix 'stock pipe'"),
    (GlueWorkflow, _workflow(buckets={"raw": "raw"}), "missing"),
    (GlueWorkflow, _workflow(schedule="rate(1 hours)"), "singular unit"),
    (GlueWorkflow, _workflow(job_timeout_minutes=0), "job_timeout_minutes"),
    (Analytics, _analytics(bytes_scanned_cutoff=9_999_999), "bytes_scanned_cutoff must be"),
    (Analytics, _analytics(data_bucket_arns=[]), "data_bucket_arns is empty"),
    (Analytics, _analytics(grafana_principal_arn="root"), "grafana_principal_arn"),
    (Monitoring, _monitoring(job_names=[]), "job_names is empty"),
    (Monitoring, _monitoring(alarm_email="not-an-address"), "alarm_email"),
    (Monitoring, _monitoring(log_retention_days=0), "log_retention_days"),
    (Artifacts, ArtifactsArgs(bucket=""), "bucket must name"),
]


@pytest.mark.parametrize(("component", "args", "message"), CASES,
                         ids=[f"{c.__name__}-{m[:24]}" for c, _, m in CASES])
def test_component_refuses_bad_args_naming_them(build_component, component, args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_component(lambda: component("x", args))


@pytest.mark.parametrize(("changes", "message"), [
    ({"tickers": ("AAPL", "BRK B")}, "tickers: ticker 'BRK B'"),
    ({"tickers": ()}, "tickers: no tickers given"),
    ({"rate_limit_per_min": 0}, "rate_limit_per_min: must be greater than 0, got 0.0"),
    ({"database": "Bad-Name"}, "database: database 'Bad-Name'"),
    ({"partition_granularity": "minute"},
     "partition_granularity: must be one of hour, day, got 'minute'"),
])
def test_component_settings_are_refused_before_any_component_sees_them(changes, message):
    # Ingestion and GlueWorkflow take a Settings: its one validation guards both.
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings(**changes)


def test_valid_component_args_build_children_named_after_the_component(build_component):
    mocks = build_component(lambda: Analytics("reporting", _analytics()))
    names = {r.name for r in mocks.resources}
    assert {"reporting-workgroup", "reporting-grafana-role",
            "reporting-grafana-role-policy"} <= names
    (component,) = [r for r in mocks.resources if r.typ == "stockpipe:analytics:Analytics"]
    assert component.name == "reporting"

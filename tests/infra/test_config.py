"""Stack configuration: Pulumi.yaml documents every key, bad values fail naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.schedule import validate_schedule_expression, validate_timezone
from components.stack_config import DEFAULTS, load_stack_config, name_prefix
from runtime.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_pulumi_yaml_documents_every_key_with_the_programs_default():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "stockpipe"
    assert project["runtime"] == {
        "name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    documented = project["config"]
    assert set(documented) == set(DEFAULTS)
    for key, spec in documented.items():
        assert spec["default"] == DEFAULTS[key], key
        assert len(spec["description"]) > 20, key
        expected_type = {bool: "boolean", int: "integer", str: "string"}[type(DEFAULTS[key])]
        assert spec["type"] == expected_type, key


def test_example_stack_sets_only_known_keys_and_no_secret():
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    ours = {k.split(":", 1)[1] for k in stack if k.startswith("stockpipe:")}
    assert ours <= set(DEFAULTS)
    assert not any(isinstance(v, dict) and "secure" in v for v in stack.values())
    assert load_stack_config(lambda k: stack.get(f"stockpipe:{k}")).tickers == ("AAPL", "MSFT")


def test_defaults_load_to_the_documented_settings():
    cfg = load_stack_config(lambda key: None)
    assert cfg.tickers == ("AAPL",)
    assert (cfg.lambda_timeout, cfg.window_days, cfg.rate_limit_per_min) == (10, 7, 5.0)
    assert (cfg.ingest_schedule, cfg.workflow_schedule) == (
        "cron(0 11 * * ? *)", "cron(0 12 * * ? *)")
    assert cfg.schedule_timezone == "America/New_York"
    assert (cfg.alarm_email, cfg.grafana_principal_arn, cfg.grafana_external_user) == (
        None, None, False)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("scheduleTimezone", "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        ("ingestSchedule", "cron(0 11 * * *)", "has 5 fields"),
        ("workflowSchedule", "every day at noon", "neither 'cron"),
        ("workflowSchedule", "cron(0 25 * * ? *)", "hours value 25"),
        ("ingestSchedule", "cron(0 11 * * 2 *)", "exactly one of day-of-month"),
        ("tickers", "AAPL, BRK B", "BRK B' is not a valid symbol"),
        ("lambdaTimeout", "-5", "between 1 and 900, got -5"),
        ("lambdaTimeout", "0", "between 1 and 900, got 0"),
        ("lambdaTimeout", "901", "between 1 and 900, got 901"),
        ("lambdaTimeout", "ten", "whole number"),
        ("partitionGranularity", "minute", "hour, day"),
        ("archiveKeep", "0", "between 1 and 10000, got 0"),
        ("archiveKeep", "seven", "whole number"),
        ("database", "Stock-Aggregates", "not allowed"),
        ("athenaBytesScannedCutoff", "1000", "between 10000000"),
        ("logRetentionDays", "10", "CloudWatch Logs accepts only"),
        ("grafanaExternalUser", "yes", "true or false"),
        ("alarmEmail", "ops at example", "not an e-mail address"),
        ("grafanaPrincipalArn", "grafana", "must be an IAM ARN"),
    ],
)
def test_invalid_config_fails_naming_the_key(key, value, message):
    with pytest.raises(ConfigError, match=f"stockpipe:{key}") as err:
        load_stack_config({key: value}.get)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"scheduleTimezone": "Mars/Olympus_Mons"}, "scheduleTimezone"),
        ({"ingestSchedule": "cron(0 11 * *)"}, "ingestSchedule"),
        ({"tickers": "AAPL,MS FT"}, "tickers"),
        ({"lambdaTimeout": -1}, "lambdaTimeout"),
    ],
)
def test_the_program_refuses_invalid_config_before_creating_anything(run, config, key):
    with pytest.raises(ConfigError, match=f"config stockpipe:{key}: .*pulumi config set {key}"):
        run(config)


@pytest.mark.parametrize(
    "expr",
    ["cron(0 11 * * ? *)", "cron(0/15 9-16 ? * MON-FRI *)", "cron(30 4 L * ? 2027)",
     "cron(0 12 ? * 6#3 *)", "rate(1 hour)", "rate(15 minutes)"],
)
def test_valid_aws_schedule_expressions_pass(expr):
    assert validate_schedule_expression(expr) == expr


@pytest.mark.parametrize(
    "expr",
    ["cron(0 11 * * * *)", "rate(1 hours)", "rate(2 hour)", "rate(0 minutes)",
     "cron(60 11 * * ? *)", "cron(0 11 * 13 ? *)", "0 11 * * ? *", "cron(0 11 * * ? * *)"],
)
def test_invalid_aws_schedule_expressions_fail(expr):
    with pytest.raises(ValueError):
        validate_schedule_expression(expr)


def test_time_zone_names_are_checked_against_the_tz_database():
    assert validate_timezone("America/New_York") == "America/New_York"
    for bad in ("EST5EDT ", "America/Gotham", ""):
        with pytest.raises(ValueError):
            validate_timezone(bad)


def test_stack_names_become_safe_physical_name_prefixes():
    assert name_prefix("dev") == "stockpipe-dev"
    assert name_prefix("org/team.prod_1") == "stockpipe-org-team-prod-1"

"""Stack configuration: Pulumi.yaml documents every key, bad values fail naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.schedule import validate_schedule_expression, validate_timezone
from components.stack_config import DEFAULTS, load_stack_config, name_prefix, scoped_database
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


def test_stack_config_values_reach_the_settings_validated_by_the_settings_table():
    cfg = load_stack_config({"partitionGranularity": "day", "windowDays": "30",
                             "rateLimitPerMin": "100", "database": "markets"}.get, "dev")
    assert (cfg.settings.partition_granularity, cfg.settings.window_days) == ("day", 30)
    assert (cfg.settings.rate_limit_per_min, cfg.settings.database) == (100.0, "markets")


def test_example_stack_sets_only_known_keys_and_no_secret():
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    ours = {k.split(":", 1)[1] for k in stack if k.startswith("stockpipe:")}
    assert ours <= set(DEFAULTS)
    assert not any(isinstance(v, dict) and "secure" in v for v in stack.values())
    assert load_stack_config(lambda k: stack.get(f"stockpipe:{k}"), "dev").settings.tickers == (
        "AAPL", "MSFT")


def test_defaults_load_to_the_documented_settings():
    cfg = load_stack_config(lambda key: None, "dev")
    assert cfg.settings.tickers == ("AAPL",)
    assert (cfg.lambda_timeout, cfg.settings.window_days, cfg.settings.rate_limit_per_min) == (
        0, 7, 5.0)
    assert (cfg.settings.partition_granularity, cfg.settings.table_prefix) == (
        "day", "stock_aggregate")
    assert cfg.settings.archive_keep == 7
    # one bars request per ticker plus the splits request, paced by the rate limit
    assert (cfg.ingest_plan.batches, cfg.ingest_plan.timeout) == ((("AAPL",),), 53)
    assert (cfg.settings.database, cfg.manage_glue_log_groups) == ("stock_aggregates_dev", False)
    assert (cfg.secret_recovery_window_days, cfg.publish_deadline) == (7, (13, 0))
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
        ("lambdaTimeout", "-5", "between 0 and 900, got -5"),
        ("lambdaTimeout", "901", "between 0 and 900, got 901"),
        # The old default: five tickers at most, and no room for a retry.
        ("lambdaTimeout", "10", "lambdaTimeout 10 s is below the 53 s minimum"),
        ("secretRecoveryWindowDays", "3", "0 (delete at once) or 7-30 days, got 3"),
        ("secretRecoveryWindowDays", "31", "between 0 and 30, got 31"),
        ("publishDeadline", "1pm", "time of day HH:MM"),
        ("publishDeadline", "24:00", "time of day HH:MM"),
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
        load_stack_config({key: value}.get, "dev")
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


def test_long_stack_names_keep_a_hash_so_they_stay_distinct():
    a = name_prefix("customer-analytics-production-eu-west-1")
    b = name_prefix("customer-analytics-production-eu-west-2")
    assert a != b and len(a) == len(b) == len("stockpipe-") + 28
    assert a.startswith("stockpipe-customer-analytics-p")


def test_default_database_is_scoped_by_stack_and_a_configured_one_is_kept():
    assert scoped_database(None, "dev") == "stock_aggregates_dev"
    assert scoped_database(None, "Team.Prod") == "stock_aggregates_team_prod"
    assert scoped_database("markets", "dev") == "markets"


def test_workflow_scheduled_before_a_split_ingest_has_landed_is_refused():
    # 500 tickers at the free tier: 8 batches 15 minutes apart from 11:00 (each batch also
    # asks for its tickers' splits); the last lands at 13:01, so a 12:00 workflow would process
    # a partial day.
    tickers = ",".join(f"T{i}" for i in range(500))
    with pytest.raises(ConfigError, match="stockpipe:workflowSchedule: .* end by 13:01"):
        load_stack_config({"tickers": tickers}.get, "dev")
    cfg = load_stack_config({"tickers": tickers, "workflowSchedule": "cron(5 13 * * ? *)"}.get,
                            "dev")
    assert len(cfg.ingest_plan.batches) == 8


def test_pulumi_yaml_timeout_examples_are_the_programs_arithmetic():
    import re

    from components.ingest_plan import required_seconds

    text = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]["lambdaTimeout"]
    examples = re.findall(r"(\d+) tickers?: (\d+) s", text["description"])
    assert examples, "Pulumi.yaml's lambdaTimeout text gives examples"
    for tickers, seconds in examples:
        assert required_seconds(int(tickers), 5.0, 7) == int(seconds)

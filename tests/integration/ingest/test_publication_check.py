"""The publication watchdog against moto's Glue catalog: quiet when today's copy exists or the
exchange is closed, an error naming the newest copy on a trading day without one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from runtime import handler
from runtime.errors import ConfigError
from runtime.publication import PublicationMissing, check_publication, production_tables

DB, PREFIX = "stock_aggregates_dev", "stock_aggregate"
# 2026-12-01 (a Tuesday) 13:00 America/New_York = 18:00 UTC.
DEADLINE = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)


@pytest.fixture
def glue(aws_env):
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": DB})
        for name in ("stock_aggregate_raw", "stock_aggregate_prod_latest",
                     "stock_aggregate_prod_20261130_170212", "other_prod_20261201_170000"):
            client.create_table(DatabaseName=DB, TableInput={"Name": name})
        yield client


def publish(glue, stamp):
    glue.create_table(DatabaseName=DB, TableInput={"Name": f"{PREFIX}_prod_{stamp}"})


def test_only_this_prefixs_timestamped_copies_count(glue):
    assert production_tables(glue, DB, PREFIX) == ["stock_aggregate_prod_20261130_170212"]


def test_a_trading_day_without_todays_copy_raises_naming_the_newest(glue):
    with pytest.raises(PublicationMissing, match=(
            r"no production copy of stock_aggregates_dev.stock_aggregate published on trading "
            r"day 2026-12-01 .* newest is stock_aggregate_prod_20261130_170212")):
        check_publication(glue, DB, PREFIX, now=DEADLINE)


def test_todays_copy_by_new_york_date_satisfies_the_check(glue):
    # 17:02 UTC is 12:02 in New York: published today.
    publish(glue, "20261201_170212")
    status = check_publication(glue, DB, PREFIX, now=DEADLINE)
    assert (status.trading_day, status.published_today) == (True, True)
    assert status.newest_table == "stock_aggregate_prod_20261201_170212"


def test_a_copy_stamped_today_in_utc_but_yesterday_in_new_york_does_not_count(glue):
    publish(glue, "20261201_030000")  # 2026-11-30 22:00 in New York
    with pytest.raises(PublicationMissing):
        check_publication(glue, DB, PREFIX, now=DEADLINE)


def test_exchange_holidays_are_quiet(glue):
    thanksgiving = datetime(2026, 11, 26, 18, 0, tzinfo=timezone.utc)
    status = check_publication(glue, DB, PREFIX, now=thanksgiving)
    assert (status.trading_day, status.published_today) == (False, False)


def test_handler_reads_the_tables_from_its_environment(glue, monkeypatch):
    monkeypatch.setenv("STOCKPIPE_DATABASE", DB)
    monkeypatch.setenv("STOCKPIPE_TABLE_PREFIX", PREFIX)
    handler.reset_caches()
    now = datetime.now(timezone.utc)
    publish(glue, now.strftime("%Y%m%d_%H%M%S"))
    try:
        result = handler.publication_check_handler({}, None)
    finally:
        handler.reset_caches()
    assert result["published_today"] is True
    assert result["newest_table"] == f"{PREFIX}_prod_{now:%Y%m%d_%H%M%S}"


@pytest.mark.parametrize(("env", "message"), [
    ({"STOCKPIPE_DATABASE": DB}, "STOCKPIPE_DATABASE and STOCKPIPE_TABLE_PREFIX must name"),
    ({"STOCKPIPE_DATABASE": "Stock-Aggregates", "STOCKPIPE_TABLE_PREFIX": PREFIX},
     "STOCKPIPE_DATABASE: database 'Stock-Aggregates'"),
])
def test_handler_refuses_missing_or_invalid_table_names_naming_the_variable(
        glue, monkeypatch, env, message):
    monkeypatch.delenv("STOCKPIPE_TABLE_PREFIX", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        handler.publication_check_handler({}, None)

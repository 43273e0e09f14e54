"""Settings: environment parsing, validation, table names and lake locations."""

from pathlib import Path

import pytest

from runtime.errors import ConfigError, IdentifierError
from runtime.settings import (
    GLUE_ARGUMENTS,
    Settings,
    environment,
    glue_arguments,
    parse_tickers,
)


def test_defaults_without_environment(tmp_path):
    s = Settings.from_env({"STOCKPIPE_HOME": str(tmp_path)})
    assert s.tickers == ("AAPL",)
    assert s.window_days == 7
    assert s.rate_limit_per_min == 5.0
    assert s.polygon_base_url == "https://api.massive.com"
    assert s.database == "stock_aggregates"
    assert s.raw_table == "stock_aggregate_raw"
    assert s.parquet_table == "stock_aggregate_parquet"
    assert s.sans_dup_table == "stock_aggregate_sans_dup"
    assert s.dq_table == "stock_aggregate_dq_results"
    assert s.prod_latest_view == "stock_aggregate_prod_latest"
    assert s.prod_table("20261129_120000") == "stock_aggregate_prod_20261129_120000"


def test_environment_values_are_parsed_and_overrides_win(tmp_path):
    env = {
        "STOCKPIPE_HOME": str(tmp_path),
        "STOCKPIPE_TICKERS": " aapl, msft ,brk.b,AAPL",
        "STOCKPIPE_WINDOW_DAYS": "30",
        "STOCKPIPE_RATE_LIMIT_PER_MIN": "100",
        "POLYGON_BASE_URL": "http://127.0.0.1:9999/",
        "POLYGON_API_KEY": "test-key-not-real",
    }
    s = Settings.from_env(env, window_days=3)
    assert s.tickers == ("AAPL", "MSFT", "BRK.B")
    assert s.window_days == 3
    assert s.rate_limit_per_min == 100.0
    assert s.polygon_base_url == "http://127.0.0.1:9999"
    assert s.home == Path(tmp_path)


def test_api_key_never_appears_in_repr():
    s = Settings(polygon_api_key="test-key-not-real")
    assert "test-key-not-real" not in repr(s)


@pytest.mark.parametrize(
    "env, match",
    [
        ({"STOCKPIPE_WINDOW_DAYS": "seven"}, "STOCKPIPE_WINDOW_DAYS.*'seven'"),
        ({"STOCKPIPE_WINDOW_DAYS": "0"}, "STOCKPIPE_WINDOW_DAYS.*got 0"),
        ({"STOCKPIPE_RATE_LIMIT_PER_MIN": "-1"}, "STOCKPIPE_RATE_LIMIT_PER_MIN.*-1"),
        ({"STOCKPIPE_TICKERS": "AAPL,BAD TICKER"}, "'BAD TICKER'"),
        ({"STOCKPIPE_DATABASE": "x; drop"}, "database 'x; drop'"),
        ({"STOCKPIPE_PARTITION_GRANULARITY": "minute"}, "'minute'"),
    ],
)
def test_bad_environment_values_name_the_value(env, match):
    with pytest.raises(ConfigError, match=match):
        Settings.from_env(env)


def test_empty_ticker_list_is_rejected():
    with pytest.raises(ConfigError, match="no tickers"):
        parse_tickers(" , ")


def test_local_locations_live_under_home(tmp_path):
    s = Settings(home=tmp_path)
    lake = str(tmp_path.resolve() / "lake")
    assert s.raw_uri == lake + "/raw/"
    assert s.rejects_uri == lake + "/rejects/"
    assert s.table_location(s.parquet_table) == lake + "/curated/stock_aggregate_parquet/"
    assert s.table_location("stock_aggregate_prod_20261129_120000") == (
        lake + "/archive/stock_aggregate_prod_20261129_120000/"
    )


def test_cloud_locations_come_from_the_overrides():
    s = Settings.from_env(
        {
            "STOCKPIPE_RAW_URI": "s3://raw-bucket/raw/",
            "STOCKPIPE_CURATED_URI": "s3://curated-bucket/",
            "STOCKPIPE_ARCHIVE_URI": "s3://archive-bucket/",
        }
    )
    assert s.rejects_uri == "s3://raw-bucket/rejects/"
    assert s.table_location(s.sans_dup_table) == "s3://curated-bucket/stock_aggregate_sans_dup/"
    assert s.table_location(s.prod_table("20260101_000000")).startswith("s3://archive-bucket/")


def test_table_location_refuses_unsafe_names(tmp_path):
    with pytest.raises(IdentifierError):
        Settings(home=tmp_path).table_location("../etc")


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: Settings(partition_granularity="minute"),
         "partition_granularity: must be one of hour, day, got 'minute'"),
        (lambda: Settings.from_env({"STOCKPIPE_PARTITION_GRANULARITY": "minute"}),
         "STOCKPIPE_PARTITION_GRANULARITY: must be one of hour, day, got 'minute'"),
        (lambda: Settings.from_glue_args({"partition_granularity": "minute"}, home="/tmp/x"),
         "--partition_granularity: must be one of hour, day, got 'minute'"),
        (lambda: Settings.from_env({}, window_days="0"), "--days: must be between 1 and 3660"),
        (lambda: Settings(window_days=True), "window_days: must be a whole number, got True"),
    ],
)
def test_one_validation_names_where_the_bad_value_came_from(build, match):
    with pytest.raises(ConfigError, match=match):
        build()


def test_glue_arguments_carry_every_glue_setting_and_read_back_to_the_same_settings():
    s = Settings(tickers="msft,aapl", partition_granularity="day", database="markets",
                 table_prefix="bars")
    cloud = {"raw_uri": "s3://r/raw/", "curated_uri": "s3://c/", "archive_uri": "s3://a/",
             "workgroup": "wg", "region": "eu-west-1"}
    args = glue_arguments(s, cloud)
    assert args["--tickers"] == "MSFT,AAPL"
    assert args["--partition_granularity"] == "day"
    assert args["--raw_uri"] == "s3://r/raw/"
    assert set(args) == {f"--{name}" for name in GLUE_ARGUMENTS}
    back = Settings.from_glue_args({k[2:]: v for k, v in args.items()}, home="/tmp/x")
    assert back == s.replace(home=Path("/tmp/x"), raw_uri_override="s3://r/raw/",
                             curated_uri_override="s3://c/", archive_uri_override="s3://a/",
                             athena_workgroup="wg", aws_region="eu-west-1")


def test_a_glue_argument_without_a_value_is_refused_by_name():
    with pytest.raises(ConfigError, match="--raw_uri has no value"):
        glue_arguments(Settings(), {})


def test_environment_reads_back_to_the_same_values():
    s = Settings(tickers=("BRK.B",), window_days=30, rate_limit_per_min=2.5)
    env = environment(s, ("tickers", "window_days", "rate_limit_per_min"))
    assert env == {"STOCKPIPE_TICKERS": "BRK.B", "STOCKPIPE_WINDOW_DAYS": "30",
                   "STOCKPIPE_RATE_LIMIT_PER_MIN": "2.5"}
    assert Settings.from_env(env) == Settings(tickers=("BRK.B",), window_days=30,
                                              rate_limit_per_min=2.5)


def test_day_partitions_and_seven_archives_by_default(tmp_path):
    s = Settings.from_env({"STOCKPIPE_HOME": str(tmp_path)})
    assert (s.partition_granularity, s.partition_column, s.archive_keep) == (
        "day", "day_partition", 7)
    hourly = Settings.from_env({"STOCKPIPE_PARTITION_GRANULARITY": "hour",
                                "STOCKPIPE_ARCHIVE_KEEP": " 3 "})
    assert (hourly.partition_column, hourly.archive_keep) == ("day_hour_partition", 3)


@pytest.mark.parametrize("raw, message", [
    ("0", "STOCKPIPE_ARCHIVE_KEEP: must be between 1 and 10000"),
    ("seven", "STOCKPIPE_ARCHIVE_KEEP: must be a whole number, got 'seven'"),
])
def test_a_bad_archive_keep_is_named(raw, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"STOCKPIPE_ARCHIVE_KEEP": raw})

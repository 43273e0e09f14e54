"""The Glue entry script's argument contract (the infra component passes exactly these names)."""

from __future__ import annotations

import sys
import types

import pytest

from runtime.errors import ConfigError
from runtime.jobs import glue_entry
from runtime.settings import sources

ARGS = {
    "step": "dedup",
    "database": "stock_aggregates",
    "table_prefix": "stock_aggregate",
    "workgroup": "stockpipe",
    "raw_uri": "s3://raw-bucket/raw/",
    "curated_uri": "s3://curated-bucket/",
    "archive_uri": "s3://archive-bucket/",
    "region": "us-east-1",
    "partition_granularity": "day",
    "tickers": "AAPL,BRK.B",
    "archive_keep": "7",
}


def _argv(args):
    out = ["glue_entry.py"]
    for k, v in args.items():
        out += [f"--{k}", v]
    return out


def test_every_documented_argument_is_read_and_glue_extras_are_ignored():
    argv = _argv(ARGS) + ["--job-bookmark-option", "job-bookmark-disable", "--JOB_ID", "j_1"]
    assert glue_entry.parse_args(argv) == ARGS
    assert "--step" in glue_entry.__doc__
    # Every other argument is a setting; the settings table documents each.
    documented = {s.glue: s.doc for _, s in sources() if s.glue}
    assert set(glue_entry.ARG_NAMES) == {"step", *documented}
    assert all(len(doc) > 10 for doc in documented.values()), documented


def test_a_bad_argument_value_is_refused_naming_the_argument():
    with pytest.raises(ConfigError, match="--partition_granularity: must be one of hour, day, "
                                          "got 'minute'"):
        glue_entry.settings_from_args(dict(ARGS, partition_granularity="minute"))


def test_a_missing_argument_is_refused(capsys):
    partial = dict(ARGS)
    del partial["workgroup"]
    assert glue_entry.main(_argv(partial)) == 2
    assert "--workgroup" in capsys.readouterr().err


def test_getresolvedoptions_is_used_inside_glue(monkeypatch):
    seen = {}

    def fake(argv, names):
        seen["names"] = names
        return {n: f"v-{n}" for n in names}

    awsglue = types.ModuleType("awsglue")
    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = fake
    monkeypatch.setitem(sys.modules, "awsglue", awsglue)
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    assert glue_entry.parse_args(["x"])["region"] == "v-region"
    assert seen["names"] == list(glue_entry.ARG_NAMES)


def test_workflow_run_ids_are_read_when_glue_passes_them():
    argv = _argv(ARGS) + ["--WORKFLOW_NAME", "stockpipe-daily", "--WORKFLOW_RUN_ID", "wr_1"]
    assert glue_entry.parse_args(argv) == dict(
        ARGS, WORKFLOW_NAME="stockpipe-daily", WORKFLOW_RUN_ID="wr_1")


def _glue_with_properties(properties):
    import boto3
    from botocore.stub import Stubber

    glue = boto3.client("glue", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")  # noqa: S106 - a stub's fake key
    stub = Stubber(glue)
    stub.add_response("get_workflow_run_properties", {"RunProperties": properties},
                      {"Name": "stockpipe-daily", "RunId": "wr_1"})
    stub.activate()
    return glue, stub


@pytest.mark.parametrize("properties, expected", [
    ({"full_refresh": "true"}, True), ({"full_refresh": "FALSE"}, False), ({}, False),
])
def test_full_refresh_comes_from_the_workflow_run_property(properties, expected):
    glue, stub = _glue_with_properties(properties)
    args = dict(ARGS, WORKFLOW_NAME="stockpipe-daily", WORKFLOW_RUN_ID="wr_1")
    assert glue_entry.full_refresh_requested(args, glue) is expected
    stub.assert_no_pending_responses()


def test_a_bad_full_refresh_property_is_named():
    glue, _ = _glue_with_properties({"full_refresh": "yes please"})
    args = dict(ARGS, WORKFLOW_NAME="stockpipe-daily", WORKFLOW_RUN_ID="wr_1")
    with pytest.raises(ConfigError, match="full_refresh='yes please'"):
        glue_entry.full_refresh_requested(args, glue)


def test_a_job_started_outside_a_workflow_is_not_a_full_refresh():
    assert glue_entry.full_refresh_requested(ARGS, glue=object()) is False


def test_settings_come_from_the_arguments():
    s = glue_entry.settings_from_args(ARGS)
    assert s.raw_uri == "s3://raw-bucket/raw/"
    assert s.table_location(s.parquet_table) == "s3://curated-bucket/stock_aggregate_parquet/"
    assert s.table_location(s.prod_table("20261120_160000")) == (
        "s3://archive-bucket/stock_aggregate_prod_20261120_160000/"
    )
    assert (s.athena_workgroup, s.aws_region, s.partition_granularity, s.archive_keep) == (
        "stockpipe", "us-east-1", "day", 7
    )
    assert s.tickers == ("AAPL", "BRK.B")


def test_crawl_is_refused_because_the_crawler_does_it():
    with pytest.raises(ConfigError, match="crawl is the Glue crawler's job"):
        glue_entry.run_step(dict(ARGS, step="crawl"), lambda s: None, lambda s: None)


def test_a_bad_table_prefix_exits_1_with_one_line(capsys):
    assert glue_entry.main(_argv(dict(ARGS, table_prefix="x; drop"))) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "table prefix 'x; drop' is not allowed" in err[0]

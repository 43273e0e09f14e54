"""The Glue entry script running each step as its own process would: a fresh engine per step,
the decision to publish read back from the check history. The local engine stands in for
Athena (moto runs no SQL); the Athena wiring itself is checked without a call."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from runtime import steps
from runtime.engines.local import LocalEngine
from runtime.errors import QualityCheckFailed
from runtime.jobs import glue_entry
from runtime.storage import LocalStorage

NOW = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)


@pytest.fixture
def cloud_like(tmp_path):
    lake = tmp_path / "lake"
    args = {
        "step": "transform",
        "database": "stock_aggregates",
        "table_prefix": "stock_aggregate",
        "workgroup": "stockpipe-wg",
        "raw_uri": f"{lake}/raw/",
        "curated_uri": f"{lake}/curated/",
        "archive_uri": f"{lake}/archive/",
        "region": "us-east-1",
        "partition_granularity": "hour",
        "tickers": "AAPL,BRK.B",
        "archive_keep": "2",
    }
    catalog_home = tmp_path / "catalog"

    def engine_factory(settings):
        # One catalog shared by every "job", as the Glue Data Catalog is.
        return LocalEngine.from_settings(settings.replace(home=catalog_home))

    def storage_factory(settings):
        return LocalStorage()

    settings = glue_entry.settings_from_args(args)
    from runtime.ingest import run_ingest

    summary = run_ingest(settings, source="demo", end_date=date(2026, 11, 20), days=2,
                         storage=LocalStorage(), now=NOW)
    # The crawler's part: register the raw table.
    with engine_factory(settings) as engine:
        steps.crawl(settings, engine, LocalStorage())
    return args, engine_factory, storage_factory, summary


def _step(cloud_like, name):
    args, make_engine, make_storage, _ = cloud_like
    return glue_entry.run_step(dict(args, step=name), make_engine, make_storage)


def test_each_step_in_its_own_job_publishes(cloud_like):
    args, make_engine, _, summary = cloud_like
    for name in ("transform", "dedup", "quality"):
        _step(cloud_like, name)
    published = _step(cloud_like, "publish")
    # 2026-11-18..20: three sessions x 16 demo bars x 2 tickers
    assert summary.bars == 96
    assert published.rows == 96
    assert published.location.startswith(args["archive_uri"])
    with make_engine(glue_entry.settings_from_args(args)) as engine:
        assert engine.execute(
            "SELECT count(*) FROM stock_aggregate_prod_latest WHERE ticker = 'BRK.B'"
        ).scalar() == 48


def test_jobs_hand_state_through_the_catalog_and_a_run_property_forces_a_full_refresh(
    cloud_like
):
    import boto3
    from botocore.stub import Stubber

    args, make_engine, make_storage, _ = cloud_like
    first = [_step(cloud_like, name) for name in ("transform", "dedup")]
    assert [r.mode for r in first] == ["full", "full"]
    # Each job is a new process with a new engine: what dedup rewrites next comes from the
    # lineage table in the catalog, never from the transform job's memory.
    again = [_step(cloud_like, name) for name in ("transform", "dedup")]
    assert [(r.mode, r.partitions) for r in again] == [("incremental", 0)] * 2
    glue = boto3.client("glue", region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")  # noqa: S106 - a stub's fake key
    stub = Stubber(glue)
    stub.add_response("get_workflow_run_properties",
                      {"RunProperties": {"full_refresh": "true"}},
                      {"Name": "stockpipe-daily", "RunId": "wr_2"})
    stub.activate()
    in_workflow = dict(args, step="transform", WORKFLOW_NAME="stockpipe-daily",
                       WORKFLOW_RUN_ID="wr_2")
    forced = glue_entry.run_step(in_workflow, make_engine, make_storage, glue=glue)
    assert (forced.mode, forced.full_refresh_reason) == ("full", "a full refresh was requested")
    # The dedup job needs no run property: the lineage says the typed table was rebuilt.
    follow = _step(cloud_like, "dedup")
    assert (follow.mode, follow.full_refresh_reason) == (
        "full", "stock_aggregate_parquet was rebuilt by a full refresh")
    # Quality reads the partitions that changed since it judged them clean (the record lies in
    # the lake beside the table); under the run property it reads them all.
    assert _step(cloud_like, "quality").partitions_judged is None
    assert _step(cloud_like, "quality").partitions_judged == []
    stub.add_response("get_workflow_run_properties",
                      {"RunProperties": {"full_refresh": "true"}},
                      {"Name": "stockpipe-daily", "RunId": "wr_2"})
    judged = glue_entry.run_step(dict(in_workflow, step="quality"), make_engine, make_storage,
                                 glue=glue)
    assert judged.partitions_judged is None and judged.partitions_reused == 0


def test_failed_quality_job_exits_3_and_publish_job_refuses(cloud_like, monkeypatch, capsys):
    args, make_engine, make_storage, _ = cloud_like
    for name in ("transform", "dedup"):
        _step(cloud_like, name)
    settings = glue_entry.settings_from_args(args)
    with make_engine(settings) as engine:  # a broken dedup leaves a duplicate key behind
        engine.execute(
            f"INSERT INTO {settings.sans_dup_table} SELECT * FROM {settings.sans_dup_table} "
            "WHERE ticker = 'AAPL' ORDER BY bar_time_ms LIMIT 1"
        )
    # main() with the default factories patched to the local stand-ins
    monkeypatch.setattr("runtime.engines.make_engine", make_engine)
    monkeypatch.setattr("runtime.engines.make_storage", make_storage)
    argv = ["glue_entry.py"] + [x for k, v in dict(args, step="quality").items()
                                for x in (f"--{k}", v)]
    assert glue_entry.main(argv) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "duplicate_keys (1 rows)" in err[0] and "duplicate_rows (1 rows)" in err[0]
    with pytest.raises(QualityCheckFailed, match="nothing published"):
        _step(cloud_like, "publish")


def test_cloud_arguments_build_athena_and_s3():
    from runtime.engines import make_engine, make_storage
    from runtime.engines.athena import AthenaEngine
    from runtime.storage import S3Storage

    settings = glue_entry.settings_from_args({
        "step": "transform", "database": "stock_aggregates", "table_prefix": "stock_aggregate",
        "workgroup": "stockpipe-wg", "raw_uri": "s3://r/raw/", "curated_uri": "s3://c/",
        "archive_uri": "s3://a/", "region": "eu-west-1", "partition_granularity": "hour",
        "tickers": "AAPL", "archive_keep": "7",
    })
    engine = make_engine(settings)
    assert isinstance(engine, AthenaEngine)
    assert (engine.database, engine.workgroup, engine.region) == (
        "stock_aggregates", "stockpipe-wg", "eu-west-1"
    )
    assert isinstance(make_storage(settings), S3Storage)

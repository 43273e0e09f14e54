"""make_engine / make_storage pick the home by settings, and imports stay lazy per path."""

from __future__ import annotations

import subprocess
import sys

import pytest

from runtime.engines import make_engine, make_storage
from runtime.engines.athena import AthenaEngine
from runtime.engines.local import LocalEngine
from runtime.settings import Settings
from runtime.storage import LocalStorage, S3Storage


def test_local_settings_give_local_engine_and_storage(tmp_path):
    settings = Settings(home=tmp_path, database="analytics")

    engine = make_engine(settings)
    try:
        assert isinstance(engine, LocalEngine)
        assert engine.database == "analytics"
        assert engine.path == str(tmp_path / "catalog.duckdb")
    finally:
        engine.close()
    assert isinstance(make_storage(settings), LocalStorage)


def test_ctas_without_location_defaults_to_the_settings_table_location(tmp_path):
    settings = Settings(home=tmp_path)
    engine = make_engine(settings)
    try:
        engine.execute("CREATE TABLE stock_aggregate_parquet AS SELECT 1 AS a")
        entry = engine.describe_table("stock_aggregate_parquet")
    finally:
        engine.close()
    assert entry.location == settings.table_location("stock_aggregate_parquet")


def test_local_engine_takes_a_path_and_names_from_settings_when_given_settings(tmp_path):
    settings = Settings(home=tmp_path, database="analytics")

    with pytest.raises(TypeError, match=r"got Settings; use LocalEngine.from_settings"):
        LocalEngine(settings)
    with LocalEngine.from_settings(settings) as engine:
        assert (engine.path, engine.database) == (str(tmp_path / "catalog.duckdb"), "analytics")


def test_workgroup_gives_athena_engine_and_s3_storage(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = Settings(
        home=tmp_path,
        athena_workgroup="stockpipe",
        aws_region="eu-west-1",
        curated_uri_override="s3://curated-bucket/",
    )

    engine = make_engine(settings)

    assert isinstance(engine, AthenaEngine)
    assert (engine.database, engine.workgroup, engine.region) == (
        "stock_aggregates",
        "stockpipe",
        "eu-west-1",
    )
    storage = make_storage(settings)
    assert isinstance(storage, S3Storage)
    assert storage.s3.meta.region_name == "eu-west-1"


def _modules_after(code: str) -> set:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(','.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.strip().split(","))


def test_glue_path_imports_neither_duckdb_nor_sqlglot():
    loaded = _modules_after(
        "import runtime.engines, runtime.engines.athena, runtime.partitioned"
    )

    assert "duckdb" not in loaded and "sqlglot" not in loaded and "pandas" not in loaded


def test_local_path_does_not_import_pyathena():
    loaded = _modules_after("import runtime.engines, runtime.engines.local")

    assert "pyathena" not in loaded

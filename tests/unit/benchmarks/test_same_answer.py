"""The pandas baseline and stockpipe's real steps produce the same sans-dup table and check
counts on the same tiny raw lake (the benchmark races two programs with one answer)."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from benchmarks import contenders, harness
from benchmarks import pandas_baseline as pb

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module", params=["hour", "day"])
def both(request, tiny_lake, tmp_path_factory):
    from runtime import steps
    from runtime.storage import LocalStorage

    src, manifest = tiny_lake
    root = tmp_path_factory.mktemp(f"same-{request.param}")
    shutil.copytree(src / "lake" / "raw", root / "lake" / "raw")
    settings = contenders.stockpipe_settings(root, request.param, manifest.tickers)
    storage = LocalStorage()
    engine = contenders.open_local_engine(settings)
    try:
        for name in ("crawl", "transform", "dedup"):
            getattr(steps, name)(settings, engine, storage)
        quality = steps.quality(settings, engine, storage, now=NOW)
    finally:
        engine.close()
    raw = root / "lake" / "raw"
    out = root / "pandas"
    pb.transform(raw, out / "parquet", request.param)
    pb.dedup(out / "parquet", out / "sans_dup")
    pandas_checks = pb.quality(raw, out / "parquet", out / "sans_dup", manifest.tickers, NOW)
    return settings, quality, out, pandas_checks


def test_pandas_baseline_equals_stockpipe_sans_dup_table(both):
    settings, _, out, _ = both
    got = harness.compare_sans_dup(settings.table_location(settings.sans_dup_table),
                                   str(out / "sans_dup"))
    assert got == {"only_stockpipe": 0, "only_pandas": 0, "stockpipe_rows": 160,
                   "pandas_rows": 160}


def test_pandas_checks_count_what_stockpipe_checks_count(both):
    _, quality, _, pandas_checks = both
    assert {c.name: c.failing_rows for c in quality.checks} == pandas_checks
    assert pandas_checks["freshness"] == 2
    assert pandas_checks["missing_session_hours"] == 36


def test_both_write_the_same_partition_folders(both):
    settings, _, out, _ = both
    from pathlib import Path

    mine = sorted(p.name for p in Path(settings.table_location(settings.sans_dup_table)).iterdir()
                  if p.is_dir())
    theirs = sorted(p.name for p in (out / "sans_dup").iterdir())
    assert mine == theirs
    assert len(mine) == (80 if settings.partition_granularity == "hour" else 5)

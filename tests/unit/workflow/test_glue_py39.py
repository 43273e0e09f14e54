"""The Glue job path on a real Python 3.9 (the Glue Python-shell interpreter), importing `runtime`
from the built wheel as a zip, the way `--extra-py-files` can put it on sys.path.

Skipped when no Python 3.9 interpreter is installed on this machine.
"""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from components.packaging import build_runtime_wheel


def _python39():
    candidates = [shutil.which("python3.9")] + sorted(
        glob.glob(str(Path.home() / ".pyenv/versions/3.9*/bin/python")))
    for exe in filter(None, candidates):
        try:
            probe = subprocess.run(
                [exe, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
                capture_output=True, text=True, timeout=30,
            )
        except OSError:
            continue
        if probe.stdout.strip() == "True":
            return exe
    return None


PY39 = _python39()
pytestmark = pytest.mark.skipif(PY39 is None, reason="no Python 3.9 interpreter installed")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])  # the wheel itself: zipimport, resources are zipfile.Path
    from runtime.engines.base import Engine, QueryResult
    from runtime.storage import Storage
    from runtime.jobs import glue_entry

    class Scripted(Engine):
        database = "stock_aggregates"
        def __init__(self):
            self.sent = []
        def execute(self, sql):
            self.sent.append(sql)
            if sql.startswith("SELECT day_hour_partition, count(*)"):
                # Per partition: rows, min and max bar_time_ms, no NULL bar_time_ms.
                return QueryResult(["p", "n", "lo", "hi", "full"], [
                    ("2026-11-13-04", 2, 1794560400000, 1794560400000, True),
                    ("2026-11-13-05", 1, 1794564000000, 1794564000000, True),
                ])
            if sql.startswith("SELECT count(*)"):
                return QueryResult(["c"], [(3,)])
            return QueryResult()
        def list_tables(self):
            return []

    class Memory(Storage):
        def list(self, prefix): return []
        def read(self, uri): raise KeyError(uri)
        def write(self, uri, data): pass
        def delete_prefix(self, prefix): return 0
        def exists(self, uri): return False

    engine = Scripted()
    args = {"step": sys.argv[2], "database": "stock_aggregates",
            "table_prefix": "stock_aggregate", "workgroup": "stockpipe-dev-etl",
            "raw_uri": "s3://raw-bucket/raw/", "curated_uri": "s3://curated-bucket/",
            "archive_uri": "s3://archive-bucket/", "region": "us-east-1",
            "partition_granularity": "hour", "tickers": "AAPL,BRK.B", "archive_keep": "7"}
    result = glue_entry.run_step(args, make_engine=lambda s: engine,
                                 make_storage=lambda s: Memory())
    print(json.dumps({"sent": engine.sent, "result": repr(result)}))
    """
)


def _run(tmp_path, step):
    wheel, _ = build_runtime_wheel(tmp_path)
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([PY39, str(script), str(wheel), step],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


COLUMNS = ("ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions, "
           "ingested_at, adjusted_as_of, day_hour_partition")


def test_transform_step_runs_on_python39_from_the_zipped_wheel(tmp_path):
    out = _run(tmp_path, "transform")
    sent = out["sent"]
    stage = "stock_aggregate_parquet__stage"
    # No lineage and no typed table in the catalog: a full rebuild, recorded as begun first.
    assert sent[0].startswith("-- First write: create the lineage history")
    assert "CAST('start' AS varchar)" in sent[0]
    assert "CAST('table stock_aggregate_parquet does not exist' AS varchar)" in sent[0]
    drops = [q.splitlines()[-1] for q in sent[1:4]]
    assert drops == [f"DROP TABLE IF EXISTS stock_aggregate_parquet__{s}" for s in ("new", "merge")
                     ] + ["DROP TABLE IF EXISTS stock_aggregate_parquet"]
    create = next(q for q in sent if q.startswith(f"CREATE TABLE {stage} "))
    assert create.startswith(
        f"CREATE TABLE {stage} WITH (external_location = "
        f"'s3://curated-bucket/{stage}/', format = 'PARQUET', write_compression = 'SNAPPY') AS")
    # The SELECT came out of the wheel's runtime/sql/transform_select.sql, slots filled.
    assert "'%Y-%m-%d-%H'" in create and "FROM stock_aggregate_raw" in create
    assert '"$path" AS source_object' in create and "WHERE TRUE" in create
    assert (
        "CREATE TABLE stock_aggregate_parquet WITH (external_location = "
        "'s3://curated-bucket/stock_aggregate_parquet/', format = 'PARQUET', "
        "write_compression = 'SNAPPY', partitioned_by = ARRAY['day_hour_partition']) AS "
        f"SELECT {COLUMNS} FROM {stage} WHERE (day_hour_partition BETWEEN '2026-11-13-04' "
        "AND '2026-11-13-05') AND bar_time_ms BETWEEN 1794560400000 AND 1794564000000"
    ) in sent
    assert f"SELECT source_object, count(*) FROM {stage} GROUP BY 1" in sent
    assert "mode='full'" in out["result"]
    assert "rows=3, partitions=2, statements=1, source_rows=3" in out["result"]
    # The commit: 3 typed rows from 3 raw rows, under the granularity and transform it used.
    assert "CAST('commit' AS varchar)" in sent[-1]
    assert "CAST('hour' AS varchar)" in sent[-1]
    assert "CAST(3 AS bigint), CAST(3 AS bigint))" in sent[-1]


def test_dedup_step_runs_on_python39_from_the_zipped_wheel(tmp_path):
    out = _run(tmp_path, "dedup")
    sent = out["sent"]
    # No sans-dup table in the catalog: rebuilt whole from the typed table.
    assert sent[0].splitlines()[-1] == "DROP TABLE IF EXISTS stock_aggregate_sans_dup"
    create = next(q for q in sent if q.startswith("CREATE TABLE stock_aggregate_sans_dup__stage"))
    assert "FROM stock_aggregate_parquet\n    WHERE TRUE" in create
    assert "mode='full'" in out["result"]
    assert "full_refresh_reason='table stock_aggregate_sans_dup does not exist'" in out["result"]

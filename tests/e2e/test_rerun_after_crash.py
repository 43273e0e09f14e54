"""A transform that dies half way (after its CTAS wrote the first partitions) is repaired by
running `stockpipe workflow` again, ending in the same state as a clean run (every statement of
a run is tried as the point of death in tests/unit/workflow/test_crash_safety.py)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from runtime.engines.base import Engine
from runtime.errors import EngineError

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
# 10 days ending 2026-11-20 = 2026-11-10..20: 9 sessions x 16 hourly partitions = 144, more
# than Athena's 100 per statement, so transform (hour partitions) is one CTAS plus an INSERT.
DAYS = 10
BARS = 9 * 16


class CrashAfterCtas(Engine):
    """Runs statements on the real engine, then dies right after the CTAS of `table`."""

    def __init__(self, inner: Engine, table: str):
        self.inner = inner
        self.database = getattr(inner, "database", None)
        self.table = table
        self.crashed = False

    def execute(self, sql):
        result = self.inner.execute(sql)
        if not self.crashed and re.match(rf"\s*CREATE\s+TABLE\s+{self.table}\b", sql, re.I):
            self.crashed = True
            raise EngineError("simulated crash: the Glue job was killed after the CTAS")
        return result

    def list_tables(self):
        return self.inner.list_tables()

    def close(self):
        self.inner.close()

    def __getattr__(self, name):
        return getattr(self.inner, name)


SNAPSHOT = (
    "SELECT ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions, "
    "ingested_at, day_hour_partition FROM {t} ORDER BY ticker, bar_time_ms"
)


def test_half_done_transform_is_repaired_by_running_the_workflow_again(
    tmp_path, make_lake, run_cli, monkeypatch
):
    monkeypatch.setenv("STOCKPIPE_PARTITION_GRANULARITY", "hour")
    clean = make_lake(tmp_path / "clean", partition_granularity="hour")
    clean.ingest(days=DAYS, now=NOW)
    assert clean.workflow(now=NOW).blocked is None

    crashed = make_lake(tmp_path / "crashed", partition_granularity="hour")
    crashed.ingest(days=DAYS, now=NOW)
    s = crashed.settings
    wrapper = CrashAfterCtas(crashed.engine, s.parquet_table)
    from runtime.runner import run_workflow

    with pytest.raises(EngineError, match="simulated crash"):
        run_workflow(s, wrapper, crashed.storage, now=NOW)
    # Half a table: the CTAS's partitions are there, the INSERT's are not.
    partial = crashed.scalar(f"SELECT count(*) FROM {s.parquet_table}")
    assert 0 < partial < BARS
    assert s.sans_dup_table not in crashed.engine.list_tables()
    crashed.close()

    # The next run sees the unfinished rebuild in the lineage table and rebuilds again.
    result = run_cli("workflow", "--home", str(s.home), "--json")
    assert result.code == 0, result.err
    out = result.json()
    assert out["steps"] == ["crawl", "transform", "dedup", "quality", "publish"]
    assert out["mode"] == "full"
    assert out["full_refresh_reason"].startswith("the full refresh of run ")
    assert out["full_refresh_reason"].endswith(" did not finish")

    for table in (s.parquet_table, s.sans_dup_table, s.prod_latest_view):
        assert crashed.rows(SNAPSHOT.format(t=table)) == clean.rows(SNAPSHOT.format(t=table))
    assert crashed.scalar(f"SELECT count(*) FROM {s.sans_dup_table}") == BARS
    parts = f"SELECT count(DISTINCT day_hour_partition) FROM {s.parquet_table}"
    assert crashed.scalar(parts) == clean.scalar(parts) == BARS

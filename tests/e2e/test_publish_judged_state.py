"""`workflow --from publish` publishes only the sans-dup table that quality judged: after a
workflow killed during dedup, or rows written through `query` after quality, it refuses (exit 3,
production unchanged, says to rerun quality), and rerunning the workflow then publishes it all."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from runtime.runner import run_workflow

from ..unit.workflow.test_crash_safety import Killed
from .conftest import T0

pytestmark = pytest.mark.e2e

VIEW = "stock_aggregate_prod_latest"


class KillAfter:
    """The real engine; the process dies right after the first statement matching `pattern`."""

    def __init__(self, inner, pattern: str):
        self.inner, self.pattern = inner, re.compile(pattern, re.I | re.S)

    def execute(self, sql):
        result = self.inner.execute(sql)
        if self.pattern.search(sql):
            raise Killed(f"killed after: {sql[:80]}")
        return result

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _published(lake):
    lake.ingest(now=T0)
    wf = lake.workflow(now=T0 + timedelta(hours=1))
    assert wf.blocked is None and wf.published_table
    rows = sorted(lake.rows(f"SELECT * FROM {VIEW}"))
    assert len(rows) == 96
    return wf.published_table, rows


def test_publish_after_a_dedup_killed_half_way_refuses_then_the_workflow_publishes_all(
    lake, run_cli
):
    table, before = _published(lake)
    s = lake.settings
    # The next day's ingest: three more sessions (2026-11-10..12) before the first window.
    lake.ingest(days=10, now=T0 + timedelta(hours=2))
    dedup_replaces = rf"ALTER TABLE {s.sans_dup_table} DROP"
    with pytest.raises(Killed):
        run_workflow(s, KillAfter(lake.engine, dedup_replaces), lake.storage,
                     now=T0 + timedelta(hours=3))
    # Half a dedup: the rewritten partitions' old rows are gone, their new ones not yet in.
    assert lake.scalar(f"SELECT count(*) FROM {s.sans_dup_table}") < 96
    lake.close()

    resumed = run_cli("workflow", "--from", "publish", "--home", str(s.home))
    assert resumed.code == 3, resumed.err
    assert f"{s.sans_dup_table} changed after quality run" in resumed.err
    assert "--from quality" in resumed.err
    assert lake.prod_tables() == [table]
    assert sorted(lake.rows(f"SELECT * FROM {VIEW}")) == before
    lake.close()

    rerun = run_cli("workflow", "--home", str(s.home), "--json")
    assert rerun.code == 0, rerun.err
    assert lake.scalar(f"SELECT count(*) FROM {VIEW}") == 96 + 3 * 16
    assert lake.scalar(f"SELECT count(*) FROM {s.sans_dup_table}") == 96 + 3 * 16


def test_rows_inserted_through_query_after_quality_are_not_published(lake, run_cli):
    table, before = _published(lake)
    s = lake.settings
    lake.close()
    insert = run_cli("query", "--home", str(s.home),
                     f"INSERT INTO {s.sans_dup_table} SELECT * FROM {s.sans_dup_table} "
                     "WHERE bar_time_ms = (SELECT min(bar_time_ms) FROM "
                     f"{s.sans_dup_table})")
    assert insert.code == 0, insert.err

    resumed = run_cli("workflow", "--from", "publish", "--home", str(s.home), "--json")
    assert resumed.code == 3
    assert resumed.json()["published_table"] is None
    assert "changed after quality run" in resumed.err
    assert lake.prod_tables() == [table]
    assert sorted(lake.rows(f"SELECT * FROM {VIEW}")) == before
    lake.close()
    # Judged again, the duplicate row fails its blocking check: still nothing published.
    judged = run_cli("workflow", "--from", "quality", "--home", str(s.home))
    assert judged.code == 3
    assert "duplicate" in judged.err
    assert lake.prod_tables() == [table]

"""A run killed after any statement (or any file deletion), then run again, ends with the same
tables as an uninterrupted run: nothing lost, nothing counted twice. The crash is an engine (and
storage) wrapper that raises right after operation k, for every k of the run."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timezone

import pytest

from runtime import steps
from runtime.engines.base import Engine
from runtime.storage import Storage

from .incremental_lake import START, Twins, bar, ms


class Killed(BaseException):
    """The process died right after the k-th operation took effect. A BaseException, so no
    `except Exception` cleanup in the code under test runs, as none would in a killed process."""


class Countdown:
    def __init__(self, k: int):
        self.k, self.done = k, 0

    def tick(self, what: str) -> None:
        self.done += 1
        if self.done == self.k:
            raise Killed(f"killed after operation {self.k}: {what[:80]}")


class CrashingEngine(Engine):
    """The real engine; raises after its k-th statement (stage writes count as statements)."""

    def __init__(self, inner: Engine, countdown: Countdown):
        self.inner, self.countdown = inner, countdown
        self.database = inner.database

    def execute(self, sql):
        result = self.inner.execute(sql)
        self.countdown.tick(sql)
        return result

    def create_stage(self, name, select_sql, location, **kw):
        self.inner.create_stage(name, select_sql, location, **kw)
        self.countdown.tick(f"create_stage {name}")

    def drop_stage(self, name, location, storage, **kw):
        self.inner.drop_stage(name, location, storage, **kw)
        self.countdown.tick(f"drop_stage {name}")

    def list_tables(self):
        return self.inner.list_tables()

    def describe_table(self, name):
        return self.inner.describe_table(name)

    def consistent_reads(self):
        return self.inner.consistent_reads()


class CrashingStorage(Storage):
    def __init__(self, inner: Storage, countdown: Countdown):
        self.inner, self.countdown = inner, countdown

    def list(self, prefix):
        return self.inner.list(prefix)

    def read(self, uri):
        return self.inner.read(uri)

    def write(self, uri, data):
        self.inner.write(uri, data)

    def exists(self, uri):
        return self.inner.exists(uri)

    def list_info(self, prefix):
        return self.inner.list_info(prefix)

    def copy(self, src, dst):
        self.inner.copy(src, dst)
        self.countdown.tick(f"copy {dst}")

    def delete_prefix(self, prefix):
        n = self.inner.delete_prefix(prefix)
        self.countdown.tick(f"delete {prefix}")
        return n


def _steps(lake: Twins, engine, storage) -> None:
    s = lake.inc
    steps.crawl(s, engine, storage)
    steps.transform(s, engine, storage)
    steps.dedup(s, engine, storage)


def _prepare(tmp_path, granularity: str, first_run_done: bool) -> Twins:
    lake = Twins(tmp_path / "home", granularity, ("AAPL",))
    lake.daily(0, days=3)
    if first_run_done:
        lake.run()
        lake.daily(1, days=3)
        # a late object restating an old bar, arriving under an early key
        lake.deliver([bar("AAPL", ms(START, 13), 9, datetime(2026, 10, 9, tzinfo=timezone.utc))],
                     datetime(2026, 10, 1, 1, tzinfo=timezone.utc))
    return lake


def _tables(lake: Twins):
    """Each built table's rows as a multiset, and the raw rows the lineage says were consumed."""
    cols = ", ".join(steps.typed_columns(lake.inc))
    out = {
        role: Counter(lake.engine.execute(f"SELECT {cols} FROM {lake.inc.table(role)}").rows)
        for role in ("parquet", "sans_dup")
    }
    return out, steps.row_counts(lake.inc, lake.engine)["total_raw_rows"]


@pytest.mark.parametrize(
    "granularity, first_run_done",
    [("day", True), ("day", False)],
    ids=["incremental", "first-full-run"],
)
def test_killed_after_any_operation_then_rerun_equals_an_uninterrupted_run(
    tmp_path, granularity, first_run_done
):
    lake = _prepare(tmp_path, granularity, first_run_done)
    lake.close()
    home, saved = tmp_path / "home", tmp_path / "saved"
    shutil.copytree(home, saved)
    # The uninterrupted run, counting its operations.
    lake.reopen()
    countdown = Countdown(0)
    _steps(lake, CrashingEngine(lake.engine, countdown), CrashingStorage(lake.storage, countdown))
    total = countdown.done
    expected, expected_raw = _tables(lake)
    assert sum(expected["parquet"].values()) == expected_raw > 0
    lake.close()
    assert total > 10  # the run has many places to die in
    for k in range(1, total + 1):
        shutil.rmtree(home)
        shutil.copytree(saved, home)  # the same paths: the catalog names absolute locations
        lake.reopen()
        countdown = Countdown(k)
        with pytest.raises(Killed):
            _steps(lake, CrashingEngine(lake.engine, countdown),
                   CrashingStorage(lake.storage, countdown))
        lake.reopen()  # a new process: the old one's memory (and stage) is gone
        _steps(lake, lake.engine, lake.storage)
        got, raw = _tables(lake)
        assert got == expected, f"tables differ after a kill at operation {k} of {total}"
        assert raw == expected_raw, f"raw rows counted twice after a kill at {k}"
        lake.close()

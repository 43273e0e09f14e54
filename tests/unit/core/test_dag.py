"""The DAG is the single source of the step order and of each step's rules."""

import pytest

from runtime.dag import DAG, STEP_NAMES, Node, node, steps_from
from runtime.settings import Settings


def test_steps_follow_the_incremental_flow():
    # No reset step: a full refresh is a mode of transform and dedup, not a step of its own.
    assert STEP_NAMES == ("crawl", "transform", "dedup", "quality", "publish")
    assert [n.kind for n in DAG] == ["crawler", "job", "job", "job", "job"]


def test_each_node_declares_what_it_rebuilds_gates_and_needs():
    s = Settings()
    rebuilt = {n.name: getattr(s, n.rebuilds) for n in DAG if n.rebuilds}
    assert rebuilt == {"crawl": s.raw_table, "transform": s.parquet_table,
                       "dedup": s.sans_dup_table}
    assert [n.name for n in DAG if n.gates_publish] == ["quality"]
    assert [n.name for n in DAG if n.publishes] == ["publish"]
    assert [n.name for n in DAG if "full_refresh" in n.needs] == [
        "transform", "dedup", "quality"]


def test_node_run_passes_only_what_the_step_declares():
    seen = {}

    class Probe(Node):
        @property
        def function(self):
            return lambda settings, engine, storage, **kw: seen.update(kw) or "done"

    probe = Probe("probe", "job", "test", needs=("now",))
    assert probe.run(None, None, None, now="t", full_refresh=True) == "done"
    assert seen == {"now": "t"}
    seen.clear()
    probe.run(None, None, None, now=None)  # None means "not given"
    assert seen == {}


def test_a_node_with_an_unknown_need_is_refused():
    with pytest.raises(ValueError, match="clock"):
        Node("x", "job", "d", needs=("clock",))


def test_steps_from_a_middle_step_runs_to_the_end():
    assert [n.name for n in steps_from("dedup")] == ["dedup", "quality", "publish"]


def test_unknown_step_is_named_in_the_error():
    with pytest.raises(KeyError, match="'deploy'"):
        node("deploy")

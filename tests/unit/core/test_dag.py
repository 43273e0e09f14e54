"""The DAG is the single source of the step order."""

import pytest

from runtime.dag import DAG, STEP_NAMES, node, steps_from


def test_steps_follow_the_original_order():
    assert STEP_NAMES == ("crawl", "reset", "transform", "dedup", "quality", "publish")
    assert [n.kind for n in DAG] == ["crawler", "job", "job", "job", "job", "job"]


def test_steps_from_a_middle_step_runs_to_the_end():
    assert [n.name for n in steps_from("dedup")] == ["dedup", "quality", "publish"]


def test_unknown_step_is_named_in_the_error():
    with pytest.raises(KeyError, match="'deploy'"):
        node("deploy")

"""The workflow's steps, their order and their rules: the one source read by the local runner, the
Glue entry script and the Glue workflow component (which chains its conditional triggers in this
order). Neither the runner nor the Glue entry knows a step by name: each node says what it needs,
what it rebuilds and whether it gates publish, and both run it through `Node.run`."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

# What a step may be given besides (settings, engine, storage): `now` (the clock, for tests and
# the runner's fixed time) and `full_refresh` (rebuild from all raw data).
NEEDS = ("now", "full_refresh")


@dataclass(frozen=True)
class Node:
    """One step. `kind` says what runs it in the cloud: the Glue crawler or a Python-shell job."""

    name: str
    kind: str  # "crawler" | "job"
    description: str
    # The Settings attribute naming the table this step rebuilds (None: it only appends/reads).
    rebuilds: Optional[str] = None
    # True for the step whose failed blocking result must stop publish (a failed Glue job).
    gates_publish: bool = False
    # True for the step that publishes: its result's `.table` is the new production copy.
    publishes: bool = False
    needs: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.needs) - set(NEEDS)
        if unknown or self.kind not in ("crawler", "job"):
            raise ValueError(f"node {self.name}: bad kind {self.kind!r} or needs {unknown}")

    @property
    def function(self) -> Callable:
        """`runtime.steps.<name>(settings, engine, storage)`, imported on demand."""
        return getattr(importlib.import_module("runtime.steps"), self.name)

    def run(self, settings: Any, engine: Any, storage: Any, **given: Any) -> Any:
        """Call the step with the inputs it declares in `needs` (a None value is left out)."""
        kwargs = {k: v for k, v in given.items() if k in self.needs and v is not None}
        return self.function(settings, engine, storage, **kwargs)

    def refused(self, result: Any) -> Optional[str]:
        """Why publish must not follow, for a gating step whose result did not pass, else None."""
        if not self.gates_publish or getattr(result, "passed", True):
            return None
        names = ", ".join(f"{c.name} ({c.failing_rows} rows)" for c in result.failed_errors)
        return f"blocking quality checks failed in run {result.run_id}: {names}"


DAG: Tuple[Node, ...] = (
    Node("crawl", "crawler", "register/refresh the raw JSON table over raw/",
         rebuilds="raw_table"),
    Node("transform", "job", "typed Parquet rows of the raw objects not yet consumed "
         "(all of them on a full refresh)", rebuilds="parquet_table",
         needs=("now", "full_refresh")),
    Node("dedup", "job", "one row per (ticker, bar_time_ms), latest ingested wins, in the "
         "partitions transform rewrote", rebuilds="sans_dup_table",
         needs=("now", "full_refresh")),
    Node("quality", "job", "run every data-quality check, append results to the history "
         "(partition-scope checks read only the partitions changed since judged clean)",
         gates_publish=True, needs=("now", "full_refresh")),
    Node("publish", "job", "timestamped production copy + prod_latest view, only if checks "
         "passed; older archives pruned", publishes=True, needs=("now",)),
)

STEP_NAMES: Tuple[str, ...] = tuple(n.name for n in DAG)


def node(name: str) -> Node:
    for n in DAG:
        if n.name == name:
            return n
    raise KeyError(f"unknown step {name!r}; steps are {', '.join(STEP_NAMES)}")


def steps_from(name: str) -> Tuple[Node, ...]:
    """The steps from `name` to the end, in order (for `stockpipe workflow --from`)."""
    node(name)
    return DAG[STEP_NAMES.index(name):]

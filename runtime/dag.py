"""The workflow's steps and their order: the one source read by the local runner and by the Glue
workflow component (which chains its conditional triggers in this order)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Tuple


@dataclass(frozen=True)
class Node:
    """One step. `kind` says what runs it in the cloud: the Glue crawler or a Python-shell job."""

    name: str
    kind: str  # "crawler" | "job"
    description: str

    @property
    def function(self) -> Callable:
        """`runtime.steps.<name>(settings, engine, storage)`, imported on demand."""
        return getattr(importlib.import_module("runtime.steps"), self.name)


DAG: Tuple[Node, ...] = (
    Node("crawl", "crawler", "register/refresh the raw JSON table over raw/"),
    Node("reset", "job", "drop the Parquet and sans-dup tables and delete their files"),
    Node("transform", "job", "raw JSON -> typed Parquet partitioned by day_hour_partition"),
    Node("dedup", "job", "one row per (ticker, bar_time_ms), latest ingested wins"),
    Node("quality", "job", "run every data-quality check, append results to the history"),
    Node("publish", "job", "timestamped production copy + prod_latest view, only if checks passed"),
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

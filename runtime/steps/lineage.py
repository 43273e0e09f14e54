"""The lineage table: the pipeline's memory between runs and between Glue jobs.

Transform records each raw object it consumed (key and raw rows), the partitions it rewrote and
a `commit` row; dedup records how far it caught up; publish records the production copy. A run's
rows count only once its commit row exists, so a run killed half way leaves nothing believed.
The event kinds are listed in runtime/sql/lineage_create.sql.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Iterable, List, Optional, Sequence

from ..engines.base import Engine
from ..errors import EngineError
from ..settings import Settings
from ..sql_files import render, timestamp_literal
from ..storage import Storage
from .common import append_rows, drop_table_and_files, text_literal

# One INSERT carries at most this many rows (Athena caps a statement at 256 KB of text).
ROWS_PER_STATEMENT = 400
_TEXT_COLUMNS = ("event", "table_name", "mode", "granularity", "transform_hash", "detail",
                 "object_key", "partition_value")


@dataclass
class Event:
    """One lineage row (run_id and recorded_at are filled in when it is written)."""

    event: str
    table_name: str
    mode: Optional[str] = None
    granularity: Optional[str] = None
    transform_hash: Optional[str] = None
    detail: Optional[str] = None
    object_key: Optional[str] = None
    partition_value: Optional[str] = None
    source_rows: Optional[int] = None
    written_rows: Optional[int] = None


@dataclass
class LineageState:
    """What earlier runs left: see runtime/sql/lineage_state.sql."""

    exists: bool = False
    # The newest run-level event of the typed table: {"run_id", "event", "mode", ...} or None.
    last: Optional[Dict[str, Optional[str]]] = None
    # Transform runs committed after the sans-dup watermark: newest run id, any full one, count.
    pending_run_id: Optional[str] = None
    pending_full: bool = False
    pending_runs: int = 0
    published_table: Optional[str] = None
    # Set when an older layout of the table was found (and dropped): why a full refresh runs.
    replaced_reason: Optional[str] = None
    max_run_id: Optional[str] = None


def _row(run_id: str, at: str, e: Event) -> str:
    parts = [text_literal(run_id, "run id"), f"TIMESTAMP '{at}'"]
    for name in _TEXT_COLUMNS:
        value = getattr(e, name)
        parts.append(
            "CAST(NULL AS varchar)" if value is None
            else f"CAST({text_literal(value, name.replace('_', ' '))} AS varchar)"
        )
    for value in (e.source_rows, e.written_rows):
        parts.append(f"CAST({'NULL' if value is None else int(value)} AS bigint)")
    return "    (" + ", ".join(parts) + ")"


def append(
    settings: Settings, engine: Engine, run_id: str, moment: datetime, events: Sequence[Event]
) -> None:
    """Write `events` under `run_id`, in statements of at most ROWS_PER_STATEMENT rows, in order
    (a commit row last: the rows before it are ignored until it is written)."""
    at = timestamp_literal(moment)
    rows = [_row(run_id, at, e) for e in events]
    table = settings.lineage_table
    exists = engine.table_exists(table)
    for i in range(0, len(rows), ROWS_PER_STATEMENT):
        append_rows(settings, engine, "lineage", table, ",\n".join(rows[i:i + ROWS_PER_STATEMENT]),
                    exists)
        exists = True


def _is_old_layout(exc: EngineError) -> bool:
    return "COLUMN_NOT_FOUND" in str(exc) or getattr(exc, "error_name", None) == "COLUMN_NOT_FOUND"


def read_state(settings: Settings, engine: Engine, storage: Storage) -> LineageState:
    """The lineage state in one query. A lineage table of an older layout (no run ids) is dropped
    with its files: its rows cannot say which raw objects were consumed, so the next transform
    rebuilds everything and records them again."""
    table = settings.lineage_table
    if not engine.table_exists(table):
        return LineageState()
    try:
        result = engine.execute(render(
            "lineage_state.sql", lineage_table=table, table=settings.parquet_table,
            sans_dup_table=settings.sans_dup_table,
        ))
    except EngineError as exc:
        if not _is_old_layout(exc):
            raise
        drop_table_and_files(settings, engine, storage, table)
        return LineageState(replaced_reason=f"{table} had an older layout without run ids")
    state = LineageState(exists=True)
    for kind, run_id, event, mode, granularity, thash, detail in result.rows:
        if kind == "last" and run_id is not None:
            state.last = {"run_id": run_id, "event": event, "mode": mode,
                          "granularity": granularity, "transform_hash": thash, "detail": detail}
        elif kind == "pending":
            state.pending_run_id = run_id
            state.pending_full = mode == "full"
            state.pending_runs = int(detail or 0)
        elif kind == "published":
            state.published_table = detail
        if run_id is not None and (state.max_run_id is None or run_id > state.max_run_id):
            state.max_run_id = run_id
    return state


def committed_objects(settings: Settings, engine: Engine) -> Dict[str, int]:
    """Raw object key (under the raw prefix) -> raw rows, for every committed object."""
    if not engine.table_exists(settings.lineage_table):
        return {}
    rows = engine.execute(render(
        "lineage_objects.sql", lineage_table=settings.lineage_table, table=settings.parquet_table,
    )).rows
    return {str(key): int(n or 0) for key, n in rows}


def pending_partitions(settings: Settings, engine: Engine) -> List[str]:
    """Partition values rewritten by transform runs committed after the sans-dup watermark."""
    rows = engine.execute(render(
        "lineage_pending_partitions.sql", lineage_table=settings.lineage_table,
        table=settings.parquet_table, sans_dup_table=settings.sans_dup_table,
    )).rows
    return [str(r[0]) for r in rows if r[0] is not None]


def row_counts(settings: Settings, engine: Engine) -> Optional[Dict[str, int]]:
    """`run_raw_rows`, `run_typed_rows` (the newest committed transform run) and
    `total_raw_rows` (every object consumed since the newest full rebuild); None if unrecorded."""
    if not engine.table_exists(settings.lineage_table):
        return None
    rows = engine.execute(render(
        "lineage_counts.sql", lineage_table=settings.lineage_table, table=settings.parquet_table,
    )).rows
    if not rows or rows[0][0] is None:
        return None
    run_raw, run_typed, total = rows[0]
    return {"run_raw_rows": int(run_raw), "run_typed_rows": int(run_typed or 0),
            "total_raw_rows": int(total or 0)}


def object_events(table: str, counts: Dict[str, int]) -> Iterable[Event]:
    for key in sorted(counts):
        yield Event("object", table, object_key=key, source_rows=int(counts[key]))


def partition_events(table: str, values: Iterable[str]) -> Iterable[Event]:
    for value in sorted(values):
        yield Event("partition", table, partition_value=value)

"""dedup: one row per (ticker, bar_time_ms), the most recently ingested version wins.

Incremental: only the partitions that transform runs rewrote since the sans-dup table's
watermark (the lineage table says which) are recomputed, from the typed rows of those partitions,
and replaced. Every version of a bar lies in the bar's partition, so that is the whole answer for
them. A run killed half way leaves the watermark where it was: the next run redoes the same
partitions from the typed table, which dedup never changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import List, Optional

from ..engines.base import Engine
from ..partitioned import write_partitioned
from ..settings import Settings
from ..sql_files import render, sql_uri
from ..storage import Storage
from . import lineage
from .common import (
    CLUSTER_COL,
    column_list,
    drop_table_and_files,
    new_run_id,
    now_utc,
    without_header,
)
from .lineage import Event, LineageState
from .partitions import in_partitions, replace_partitions
from .typed import FULL, INCREMENTAL, REQUESTED, TableResult


def dedup_sql(settings: Settings, partitions: str = "TRUE") -> str:
    return render(
        "dedup_select.sql", columns=column_list(settings),
        parquet_table=settings.parquet_table, partitions=partitions,
    )


def _full_reason(
    settings: Settings, engine: Engine, state: LineageState, full_refresh: bool
) -> Optional[str]:
    if full_refresh:
        return REQUESTED
    if not engine.table_exists(settings.sans_dup_table):
        return f"table {settings.sans_dup_table} does not exist"
    if not state.exists:
        return f"{settings.lineage_table} records no transform of {settings.parquet_table}"
    if state.pending_full:
        return f"{settings.parquet_table} was rebuilt by a full refresh"
    return None


def dedup(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    *,
    full_refresh: bool = False,
    now: Optional[datetime] = None,
) -> TableResult:
    """Recompute the sans-dup partitions new typed rows touched (all of them on a full rebuild)."""
    moment = now_utc(now)
    sans = settings.sans_dup_table
    location = sql_uri(settings.table_location(sans))
    state = lineage.read_state(settings, engine, storage)
    reason = _full_reason(settings, engine, state, full_refresh)
    run_id = new_run_id(moment, state.max_run_id)
    if reason is not None:
        drop_table_and_files(settings, engine, storage, sans)
        written = write_partitioned(
            engine, table=sans, select_sql=dedup_sql(settings), location=location,
            partition_col=settings.partition_column, cluster_by=CLUSTER_COL, storage=storage,
        )
        _mark(settings, engine, run_id, moment, state, FULL, written.rows)
        return TableResult(
            sans, location, written.rows, written.partitions, written.statements,
            written.source_rows, FULL, reason,
        )
    if not state.pending_runs:
        return TableResult(sans, location, 0, 0, mode=INCREMENTAL)
    values: List[str] = lineage.pending_partitions(settings, engine)
    part = settings.partition_column
    rows, statements = replace_partitions(
        engine, storage, table=sans, location=location, partition_col=part, values=values,
        select_for=lambda batch: without_header(dedup_sql(settings, in_partitions(part, batch))),
    )
    _mark(settings, engine, run_id, moment, state, INCREMENTAL, rows)
    return TableResult(sans, location, rows, len(values), statements, mode=INCREMENTAL)


def _mark(
    settings: Settings,
    engine: Engine,
    run_id: str,
    moment: datetime,
    state: LineageState,
    mode: str,
    rows: int,
) -> None:
    """Move the watermark to the newest transform run this dedup covered."""
    if state.pending_run_id is None:
        return
    lineage.append(settings, engine, run_id, moment, [Event(
        "dedup", settings.sans_dup_table, mode=mode, detail=state.pending_run_id,
        written_rows=rows,
    )])

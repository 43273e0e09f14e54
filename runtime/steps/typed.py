"""crawl and transform: raw JSON -> typed Parquet, reading only the raw objects not yet consumed.

A transform run is incremental unless it must not be (see `plan`): it reads the new raw objects
into a durable stage (`<typed>__new`), merges their typed rows with the rows already in the
partitions they touch into a second stage (`<typed>__merge`, one CTAS: it exists only when it is
complete), replaces those partitions from it and commits the run in the lineage table. A run
killed at any point is finished by the next one from the merge stage, or started over when that
stage is not there (docs/architecture.md, "Incremental runs").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional, Tuple

from ..adjustments import crawl_splits
from ..engines.base import Engine
from ..errors import EngineError
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
    typed_columns,
    without_header,
)
from .lineage import Event, LineageState
from .partitions import (
    OBJECTS_PER_STATEMENT,
    RawObject,
    in_partitions,
    object_key,
    objects_predicate,
    raw_listing,
    replace_partitions,
)
from .raw_quarantine import quarantine_unreadable

NEW_SUFFIX = "__new"
MERGE_SUFFIX = "__merge"
FULL = "full"
INCREMENTAL = "incremental"
REQUESTED = "a full refresh was requested"


@dataclass
class CrawlResult:
    table: str
    location: str


def crawl(settings: Settings, engine: Engine, storage: Storage) -> CrawlResult:
    """Register the raw JSON table over raw/ (the Glue crawler's job in the cloud)."""
    location = sql_uri(settings.raw_uri)
    engine.execute(render("crawl_raw_table.sql", raw_table=settings.raw_table, raw_uri=location))
    crawl_splits(settings, engine)
    return CrawlResult(settings.raw_table, location)


@dataclass
class TableResult:
    """What transform or dedup did. `rows` are the rows this run wrote (all of the table's on a
    full rebuild), `partitions` the partitions it wrote."""

    table: str
    location: str
    rows: int
    partitions: int
    statements: int = 0
    source_rows: int = -1  # raw rows read (transform; -1: not known)
    mode: str = FULL
    full_refresh_reason: Optional[str] = None
    raw_objects_read: int = 0
    # Raw objects not at raw/YYYY/MM/DD/HH/<name>: the raw table does not read them (transform).
    misplaced_objects: List[str] = field(default_factory=list)

    @property
    def partitions_rewritten(self) -> int:
        return self.partitions


def transform_sql(settings: Settings, objects: str = "TRUE") -> str:
    return render(
        "transform_select.sql", columns=column_list(settings), raw_table=settings.raw_table,
        objects=objects,
    )


def transform_hash(settings: Settings) -> str:
    """Names the transform the stored tables were built with: its SQL and partition column."""
    text = f"{transform_sql(settings)}\n{settings.partition_column}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def plan(
    settings: Settings, engine: Engine, state: LineageState, full_refresh: bool = False
) -> Tuple[str, Optional[str]]:
    """(mode, why a full refresh) for the typed table: incremental only while the stored table
    is what this transform would build from the raw objects the lineage says it consumed."""
    typed = settings.parquet_table
    last = state.last
    if full_refresh:
        return FULL, REQUESTED
    if state.replaced_reason:
        return FULL, state.replaced_reason
    if not engine.table_exists(typed):
        return FULL, f"table {typed} does not exist"
    if last is None:
        return FULL, f"{settings.lineage_table} records no transform of {typed}"
    if last["event"] != "commit":
        return FULL, f"the full refresh of run {last['run_id']} did not finish"
    if last["granularity"] != settings.partition_granularity:
        return FULL, (
            f"partition granularity changed from {last['granularity']} to "
            f"{settings.partition_granularity}"
        )
    if last["transform_hash"] != transform_hash(settings):
        return FULL, f"the transform SQL changed since run {last['run_id']}"
    return INCREMENTAL, None


def _stage(settings: Settings, suffix: str) -> Tuple[str, str]:
    name = settings.parquet_table + suffix
    return name, sql_uri(settings.table_location(name))


def _commit(
    settings: Settings, mode: str, source_rows: int, written_rows: int
) -> Event:
    return Event(
        "commit", settings.parquet_table, mode=mode, granularity=settings.partition_granularity,
        transform_hash=transform_hash(settings), source_rows=source_rows,
        written_rows=written_rows,
    )


def transform(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    *,
    full_refresh: bool = False,
    now: Optional[datetime] = None,
) -> TableResult:
    """Raw JSON -> typed Parquet: the raw objects not yet consumed (incremental), or all of them
    when `full_refresh` is asked for or the stored table no longer matches (see `plan`).

    A statement that fails reading raw objects has the objects it read checked: those that
    cannot be read are quarantined and RawQuarantined raised (see raw_quarantine); any other
    failure propagates as it was."""
    moment = now_utc(now)
    state = lineage.read_state(settings, engine, storage)
    mode, reason = plan(settings, engine, state, full_refresh)
    objects, misplaced = raw_listing(settings, storage)
    consumed = lineage.committed_objects(settings, engine) if mode != FULL else {}
    try:
        if mode == FULL:
            out = _full(settings, engine, storage, state, reason or REQUESTED, moment)
        else:
            out = _incremental(settings, engine, storage, state, objects, consumed, moment)
    except EngineError as exc:
        # The objects this run read (a full rebuild: all); an error none of them explains is
        # raised as it was. Only a failed run reads them in Python, never a good one.
        read = [o.key for o in objects if o.key not in consumed]
        quarantine_unreadable(settings, engine, storage, read, exc, moment)
        raise
    out.misplaced_objects = misplaced
    return out


def _incremental(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    state: LineageState,
    objects: List[RawObject],
    consumed: Dict[str, int],
    moment: datetime,
) -> TableResult:
    out = TableResult(settings.parquet_table, sql_uri(settings.table_location(
        settings.parquet_table)), 0, 0, mode=INCREMENTAL, source_rows=0)
    previous = state.max_run_id
    merge, _ = _stage(settings, MERGE_SUFFIX)
    if engine.table_exists(merge):  # a run that was killed after its merge stage was complete
        previous = new_run_id(moment, previous)
        _add(out, _apply_merge(settings, engine, storage, previous, moment, consumed), consumed)
    new = [o for o in objects if o.key not in consumed]
    if new:
        run_id = new_run_id(moment, previous)
        staged = _stage_new(settings, engine, storage, new)
        if staged is not None:
            return _full(settings, engine, storage, state, staged, moment)
        _add(out, _apply_merge(settings, engine, storage, run_id, moment, consumed), consumed)
    return out


def _add(
    out: TableResult,
    applied: Optional[Tuple[TableResult, Dict[str, int]]],
    consumed: Dict[str, int],
) -> None:
    if applied is None:
        return
    part, objects = applied
    consumed.update(objects)
    out.rows += part.rows
    out.partitions += part.partitions
    out.statements += part.statements
    out.source_rows += max(part.source_rows, 0)
    out.raw_objects_read += part.raw_objects_read


def _full(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    state: LineageState,
    reason: str,
    moment: datetime,
) -> TableResult:
    """Rebuild the typed table from every raw object, recording each one and its rows."""
    typed = settings.parquet_table
    run_id = new_run_id(moment, state.max_run_id)
    # Recorded first: a run killed before its commit makes the next one rebuild too.
    lineage.append(settings, engine, run_id, moment, [Event(
        "start", typed, mode=FULL, granularity=settings.partition_granularity,
        transform_hash=transform_hash(settings), detail=reason[:1000],
    )])
    for suffix in (NEW_SUFFIX, MERGE_SUFFIX):
        drop_table_and_files(settings, engine, storage, _stage(settings, suffix)[0])
    drop_table_and_files(settings, engine, storage, typed)
    location = sql_uri(settings.table_location(typed))
    # Raw objects hold runs of one ticker's consecutive bars, so the stage needs no sort for
    # its batches to be cheap (see write_partitioned).
    written = write_partitioned(
        engine, table=typed, select_sql=transform_sql(settings), location=location,
        partition_col=settings.partition_column, cluster_by=CLUSTER_COL, sort_stage=False,
        storage=storage, columns=typed_columns(settings), count_by="source_object",
    )
    counts = {object_key(settings, str(p)): n for p, n in written.counts.items() if p is not None}
    record_commit(settings, engine, counts, written.rows, source_rows=written.source_rows,
                  run_id=run_id, now=moment)
    return TableResult(
        typed, location, written.rows, written.partitions, written.statements,
        written.source_rows, FULL, reason, len(counts),
    )


def record_commit(
    settings: Settings,
    engine: Engine,
    objects: Dict[str, int],
    written_rows: int,
    *,
    source_rows: Optional[int] = None,
    run_id: Optional[str] = None,
    now: Optional[datetime] = None,
) -> str:
    """Commit a full transform run in the lineage table: the raw objects it read (key -> raw
    rows), the raw rows it read (default: the objects' sum) and the typed rows it wrote.
    Returns the run id."""
    moment = now_utc(now)
    run_id = run_id or new_run_id(moment)
    read = sum(objects.values()) if source_rows is None else source_rows
    lineage.append(settings, engine, run_id, moment, [
        *lineage.object_events(settings.parquet_table, objects),
        _commit(settings, FULL, read, written_rows),
    ])
    return run_id


def _stage_new(
    settings: Settings, engine: Engine, storage: Storage, new: List[RawObject]
) -> Optional[str]:
    """Stage the new objects' typed rows, then (one CTAS) merge them with the typed rows of the
    partitions they touch. Returns why a full rebuild is needed instead, or None."""
    staged, staged_at = _stage(settings, NEW_SUFFIX)
    merge, merge_at = _stage(settings, MERGE_SUFFIX)
    drop_table_and_files(settings, engine, storage, staged)  # left by a killed run
    for i in range(0, len(new), OBJECTS_PER_STATEMENT):
        select = without_header(
            transform_sql(settings, objects_predicate(new[i:i + OBJECTS_PER_STATEMENT]))
        )
        if i == 0:
            engine.execute(
                f"CREATE TABLE {staged} WITH (external_location = '{staged_at}', "
                f"format = 'PARQUET', write_compression = 'SNAPPY') AS\n{select}"
            )
        else:
            engine.execute(f"INSERT INTO {staged}\n{select}")
    part = settings.partition_column
    values = [r[0] for r in engine.execute(
        f"SELECT DISTINCT {part} FROM {staged}"
    ).rows]
    if None in values:
        drop_table_and_files(settings, engine, storage, staged)
        return "new raw rows without a bar time (a NULL partition value)"
    columns = column_list(settings)
    storage.delete_prefix(merge_at)  # a CTAS killed half way leaves files, not a table
    engine.execute(
        f"CREATE TABLE {merge} WITH (external_location = '{merge_at}', "
        f"format = 'PARQUET', write_compression = 'SNAPPY') AS\n"
        f"SELECT {columns}, CAST(NULL AS varchar) AS source_object\n"
        f"FROM {settings.parquet_table}\nWHERE {in_partitions(part, values)}\n"
        f"UNION ALL\nSELECT {columns}, source_object FROM {staged}"
    )
    drop_table_and_files(settings, engine, storage, staged)
    return None


def _apply_merge(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    run_id: str,
    moment: datetime,
    consumed: Dict[str, int],
) -> Optional[Tuple[TableResult, Dict[str, int]]]:
    """Replace the typed partitions the merge stage holds with its rows and commit the run;
    a no-op (but for dropping the stage) when it holds no new row or its objects were
    committed already (`consumed`). Returns the result and the objects it committed."""
    typed = settings.parquet_table
    merge, _ = _stage(settings, MERGE_SUFFIX)
    part = settings.partition_column
    values: Dict[str, None] = {}
    counts: Dict[str, int] = {}
    old_rows = 0
    for value, path, n in engine.execute(
        f"SELECT {part}, source_object, count(*) FROM {merge} GROUP BY 1, 2"
    ).rows:
        values[str(value)] = None
        if path is None:
            old_rows += int(n)
        else:
            key = object_key(settings, str(path))
            counts[key] = counts.get(key, 0) + int(n)
    if not counts or all(key in consumed for key in counts):
        # Nothing new (empty objects), or the run was killed after its commit.
        drop_table_and_files(settings, engine, storage, merge)
        return None
    columns = column_list(settings)
    inserted, statements = replace_partitions(
        engine, storage, table=typed, location=settings.table_location(typed),
        partition_col=part, values=list(values),
        select_for=lambda batch: (
            f"SELECT {columns} FROM {merge} WHERE {in_partitions(part, batch)}"
        ),
    )
    source_rows = sum(counts.values())
    lineage.append(settings, engine, run_id, moment, [
        *lineage.object_events(typed, counts),
        *lineage.partition_events(typed, values),
        _commit(settings, INCREMENTAL, source_rows, inserted - old_rows),
    ])
    drop_table_and_files(settings, engine, storage, merge)
    return TableResult(
        typed, sql_uri(settings.table_location(typed)), inserted, len(values), statements,
        source_rows, INCREMENTAL, None, len(counts),
    ), counts

"""The workflow steps, named as in runtime/dag.py: plain functions of (settings, engine, storage)
returning a small result. They build Athena-dialect SQL from runtime/sql/ and never branch on
which engine they hold, so the same code runs in Glue jobs (Athena) and locally (DuckDB)."""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Tuple

from .checks import Check, CheckResult, QualityResult, all_checks
from .engines.base import Engine
from .errors import ConfigError, EngineError, QualityCheckFailed, validate_identifier
from .exchange_calendar import expected_session_hours, last_completed_session, session_start_utc
from .partitioned import write_partitioned
from .settings import Settings
from .sql_files import hour_values, render, slots, sql_uri, ticker_values, timestamp_literal
from .storage import Storage
from .window import default_window, parse_window_day

PARTITION_COL = "day_hour_partition"
# The bar start in ms sorts rows in day_hour_partition order too (exchange-time hours never run
# backwards: the repeated 01 hour of the DST change keeps its place), and an integer sorts
# faster than the string: write_partitioned clusters its stage by it.
CLUSTER_COL = "bar_time_ms"
# date_format patterns (Trino, MySQL-style) for each partition granularity.
PARTITION_FORMATS = {"hour": "%Y-%m-%d-%H", "day": "%Y-%m-%d"}
# How many one-second bumps publish tries before it gives up on a free timestamp.
_MAX_STAMP_BUMPS = 120
# The check slots filled from the exchange calendar (see _calendar_values).
CALENDAR_SLOTS = ("fresh_since", "expected_hours")
_RUN_ID = re.compile(r"^[0-9A-Za-z-]{1,200}$")


def _now(now: Optional[datetime]) -> datetime:
    moment = now or datetime.now(timezone.utc)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def count_rows(engine: Engine, table: str) -> int:
    """`SELECT count(*)` of a table or view."""
    validate_identifier(table, "table name")
    return int(engine.execute(render("count_rows.sql", table=table)).scalar() or 0)


# ---- crawl -------------------------------------------------------------------------------------
@dataclass
class CrawlResult:
    table: str
    location: str


def crawl(settings: Settings, engine: Engine, storage: Storage) -> CrawlResult:
    """Register the raw JSON table over raw/ (the Glue crawler's job in the cloud)."""
    location = sql_uri(settings.raw_uri)
    engine.execute(render("crawl_raw_table.sql", raw_table=settings.raw_table, raw_uri=location))
    return CrawlResult(settings.raw_table, location)


# ---- reset -------------------------------------------------------------------------------------
@dataclass
class ResetResult:
    dropped: List[str]
    deleted_objects: int


def reset(settings: Settings, engine: Engine, storage: Storage) -> ResetResult:
    """Drop the Parquet and sans-dup tables and delete their files, so a rerun starts clean."""
    dropped, deleted = [], 0
    for table in (settings.parquet_table, settings.sans_dup_table):
        engine.execute(render("drop_table.sql", table=table))
        # DROP TABLE leaves the files (Athena), and a CTAS needs an empty location.
        deleted += storage.delete_prefix(settings.table_location(table))
        dropped.append(table)
    return ResetResult(dropped, deleted)


# ---- transform / dedup -------------------------------------------------------------------------
@dataclass
class TableResult:
    table: str
    location: str
    rows: int
    partitions: int
    statements: int = 0
    source_rows: int = -1  # the rows the source SELECT gave (-1: not known)


def _write(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    table: str,
    select_sql: str,
    *,
    sort_stage: bool = True,
) -> TableResult:
    location = sql_uri(settings.table_location(table))
    result = write_partitioned(
        engine,
        table=table,
        select_sql=select_sql,
        location=location,
        partition_col=PARTITION_COL,
        cluster_by=CLUSTER_COL,
        sort_stage=sort_stage,
        storage=storage,
    )
    return TableResult(
        table,
        location,
        int(result.rows),
        int(result.partitions),
        int(result.statements),
        int(result.source_rows),
    )


def transform(settings: Settings, engine: Engine, storage: Storage) -> TableResult:
    """Raw JSON -> typed Parquet partitioned by day_hour_partition (CTAS + INSERT batches)."""
    select_sql = render(
        "transform_select.sql",
        raw_table=settings.raw_table,
        partition_format=PARTITION_FORMATS[settings.partition_granularity],
    )
    # Raw objects hold runs of one ticker's consecutive bars, so the stage needs no sort for
    # its batches to be cheap (see write_partitioned).
    result = _write(
        settings, engine, storage, settings.parquet_table, select_sql, sort_stage=False
    )
    # transform_select has no filter and no join: the rows it gave are the raw rows it read.
    record_lineage(settings, engine, result, settings.raw_table)
    return result


def dedup(settings: Settings, engine: Engine, storage: Storage) -> TableResult:
    """One row per (ticker, bar_time_ms); the most recently ingested version wins."""
    select_sql = render("dedup_select.sql", parquet_table=settings.parquet_table)
    return _write(settings, engine, storage, settings.sans_dup_table, select_sql)


def record_lineage(
    settings: Settings,
    engine: Engine,
    result: TableResult,
    source_table: str,
    *,
    now: Optional[datetime] = None,
) -> None:
    """Append (when, table, source table, rows read from it, rows written) to the lineage table.

    Only for a write whose SELECT keeps every source row (transform): its `source_rows`, the
    rows the SELECT gave, are then the rows it read."""
    lineage = settings.lineage_table
    validate_identifier(result.table, "table name")
    validate_identifier(source_table, "source table name")
    values = (
        f"    (TIMESTAMP '{timestamp_literal(_now(now))}', CAST('{result.table}' AS varchar), "
        f"CAST('{source_table}' AS varchar), CAST({int(result.source_rows)} AS bigint), "
        f"CAST({int(result.rows)} AS bigint))"
    )
    _append_rows(settings, engine, "lineage", lineage, values, engine.table_exists(lineage))


def _append_rows(
    settings: Settings, engine: Engine, kind: str, table: str, values: str, exists: bool
) -> None:
    """Append VALUES rows to a history table (`kind` dq or lineage): INSERT INTO when it
    `exists`, else a CTAS that creates it (the files `<kind>_insert.sql`, `<kind>_create.sql`)."""
    slot = {f"{kind}_table": table}
    if exists:
        engine.execute(render(f"{kind}_insert.sql", values=values, **slot))
    else:
        location = sql_uri(settings.table_location(table))
        engine.execute(render(f"{kind}_create.sql", location=location, values=values, **slot))


def recorded_source_rows(settings: Settings, engine: Engine, table: str) -> Optional[int]:
    """The source rows the latest write of `table` recorded in the lineage table, or None."""
    lineage = settings.lineage_table
    if not engine.table_exists(lineage):
        return None
    value = engine.execute(
        render("lineage_source_rows.sql", lineage_table=lineage,
               table=validate_identifier(table, "table name"))
    ).scalar()
    return None if value is None else int(value)


# ---- quality -----------------------------------------------------------------------------------
def latest_ingest_window(settings: Settings, storage: Storage) -> Optional[Tuple[str, str]]:
    """`(window_from, window_to)` of the newest raw object's last record, or None.

    Firehose (and the local sink) name objects `raw/YYYY/MM/DD/HH/<stream>-1-<arrival time>-..`,
    so the last key is the latest delivery. Reading that one object replaces a query that
    scanned every raw record (in Athena: every raw byte, every day) to find the same window.
    """
    for uri in reversed(storage.list(settings.raw_uri)):
        if uri.rsplit("/", 1)[-1].startswith((".", "_")):  # as Athena, skip hidden objects
            continue
        for line in reversed(storage.read(uri).splitlines()):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("window_from") and record.get("window_to"):
                return str(record["window_from"]), str(record["window_to"])
    return None


def _check_values(settings: Settings, engine: Engine) -> Dict[str, str]:
    """The checks' inputs that need no exchange calendar, as validated SQL fragments."""
    raw_rows = recorded_source_rows(settings, engine, settings.parquet_table)
    return {
        "raw_table": settings.raw_table,
        "raw_rows": (
            f"CAST({raw_rows} AS bigint)"
            if raw_rows is not None and raw_rows >= 0
            else f"(SELECT count(*) FROM {settings.raw_table})"
        ),
        "parquet_table": settings.parquet_table,
        "sans_dup_table": settings.sans_dup_table,
        "expected_tickers": ticker_values(settings.tickers),
    }


def _calendar_values(settings: Settings, storage: Storage, now: datetime) -> Dict[str, str]:
    """The checks' inputs computed from the XNYS calendar (the CALENDAR_SLOTS)."""
    fresh_since = session_start_utc(last_completed_session(now))
    window = latest_ingest_window(settings, storage)
    first = parse_window_day(window[0]) if window else None
    last = parse_window_day(window[1]) if window else None
    if first is None or last is None:
        first, last = default_window(now, settings.window_days)
    return {
        "fresh_since": timestamp_literal(fresh_since),
        "expected_hours": hour_values(expected_session_hours(first, last, now)),
    }


def _history_values(run_id: str, run_at: datetime, checks: List[CheckResult]) -> str:
    if not _RUN_ID.match(run_id):
        raise ConfigError(f"run id {run_id!r} cannot be placed in SQL")
    at = timestamp_literal(run_at)
    lines = []
    for c in checks:
        validate_identifier(c.name, "check name")
        lines.append(
            f"    (CAST('{run_id}' AS varchar), TIMESTAMP '{at}', CAST('{c.name}' AS varchar), "
            f"CAST('{c.severity}' AS varchar), CAST({int(c.failing_rows)} AS bigint), "
            f"{'true' if c.passed else 'false'})"
        )
    return ",\n".join(lines)


def _uses_calendar(check: Check) -> bool:
    return not slots(check.sql_file).isdisjoint(CALENDAR_SLOTS)


def quality(
    settings: Settings, engine: Engine, storage: Storage, *, now: Optional[datetime] = None
) -> QualityResult:
    """Run every check (all of them, even after a failure) and append the results to history.

    Returns the results; it does not raise on a failed check: `publish` is the gate, and the
    Glue entry script turns a failed blocking check into a failed job.
    """
    moment = _now(now)
    run_id = f"{moment:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:8]}"
    checks = all_checks()
    failing: Dict[str, int] = {}
    # exchange_calendars and pandas take seconds to import in a new process (docs/performance.md
    # "Measurements behind code choices"), so the calendar is computed in
    # a worker thread while the checks that need no calendar run; those come first. All checks
    # judge the same state of the tables (consistent_reads).
    with ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="xnys-calendar"
    ) as pool, engine.consistent_reads():
        calendar = pool.submit(_calendar_values, settings, storage, moment)
        values = _check_values(settings, engine)
        needs_calendar = {c.name: _uses_calendar(c) for c in checks}
        for check in sorted(checks, key=lambda c: needs_calendar[c.name]):
            if calendar.done() and calendar.exception() is not None:
                raise calendar.exception()  # before more queries (on Athena, billed scans)
            if needs_calendar[check.name]:
                values.update(calendar.result())
            value = engine.execute(render(check.sql_file, **values)).scalar()
            failing[check.name] = int(value or 0)
        calendar.result()  # its error, even if no check needed it
    results = [
        CheckResult(c.name, c.severity, failing[c.name], failing[c.name] == 0) for c in checks
    ]
    result = QualityResult(run_id, results, not any(
        c.severity == "error" and not c.passed for c in results
    ))
    dq = settings.dq_table
    exists = engine.table_exists(dq)
    if exists:
        # "Latest" means most recently recorded: if the clock went back (another host, a
        # caller's `now`), extend the previous id so the new one still sorts after it.
        previous = engine.execute(render("dq_max_run_id.sql", dq_table=dq)).scalar()
        if previous and run_id <= str(previous):
            run_id = f"{previous}-{uuid.uuid4().hex[:8]}"
            result.run_id = run_id
    _append_rows(settings, engine, "dq", dq, _history_values(run_id, moment, results), exists)
    return result


def latest_quality(settings: Settings, engine: Engine) -> Optional[QualityResult]:
    """The newest quality run as recorded in the history table (None if there is none)."""
    dq = settings.dq_table
    if not engine.table_exists(dq):
        return None
    rows = engine.execute(render("dq_latest_run.sql", dq_table=dq)).rows
    if not rows:
        return None
    checks = [CheckResult(r[1], r[2], int(r[3]), bool(r[4])) for r in rows]
    passed = not any(c.severity == "error" and not c.passed for c in checks)
    return QualityResult(rows[0][0], checks, passed)


# ---- publish -----------------------------------------------------------------------------------
@dataclass
class PublishResult:
    table: str
    view: str
    location: str
    rows: int
    partitions: int
    quality_run_id: str = ""


def publish(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    *,
    now: Optional[datetime] = None,
) -> PublishResult:
    """Timestamped production copy + the prod_latest view, only if the latest quality run has no
    failed blocking check; otherwise raise QualityCheckFailed and touch nothing."""
    latest = latest_quality(settings, engine)
    if latest is None:
        raise QualityCheckFailed(
            f"no quality run recorded in {settings.dq_table}; nothing published. "
            "Run `stockpipe workflow --from quality` first"
        )
    if not latest.passed:
        names = ", ".join(f"{c.name} ({c.failing_rows} rows)" for c in latest.failed_errors)
        raise QualityCheckFailed(
            f"blocking quality checks failed in run {latest.run_id}: {names}; nothing published, "
            f"{settings.prod_latest_view} unchanged"
        )
    moment = _now(now)
    for _ in range(_MAX_STAMP_BUMPS):
        table = settings.prod_table(f"{moment:%Y%m%d_%H%M%S}")
        # Never overwrite an archive: a second run in the same second takes the next second.
        if not engine.table_exists(table) and not storage.exists(settings.table_location(table)):
            break
        moment += timedelta(seconds=1)
    else:
        raise EngineError(
            f"no free production table name after {_MAX_STAMP_BUMPS} tries (last {table}); "
            "remove stale archives or retry later"
        )
    select_sql = render("publish_select.sql", sans_dup_table=settings.sans_dup_table)
    written = _write(settings, engine, storage, table, select_sql)
    view = settings.prod_latest_view
    engine.execute(render("publish_view.sql", view=view, prod_table=table))
    return PublishResult(
        table, view, written.location, written.rows, written.partitions, latest.run_id
    )

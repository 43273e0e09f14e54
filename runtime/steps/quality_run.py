"""quality: every data-quality check on the whole sans-dup table, results appended to history.

Returns the results and does not raise on a failed check: `publish` is the gate, and the Glue
entry script turns a failed blocking check (the node that gates publish) into a failed job.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Dict, List, Optional, Set, Tuple

from ..adjustments import applied_splits_list, log_applied_splits, refresh_adjusted_view
from ..checks import Check, CheckResult, QualityResult, all_checks
from ..engines.base import Engine
from ..errors import EngineError, validate_identifier
from ..exchange_calendar import expected_session_hours, last_completed_session, session_start_utc
from ..settings import Settings
from ..sql_files import hour_values, render, slots, ticker_values, timestamp_literal
from ..storage import Storage
from ..window import default_window, exchange_tz, parse_window_day
from . import judged_partitions, lineage
from .archive import Fingerprint, data_files, judged_splits
from .common import append_rows, new_run_id, now_utc, without_header
from .judged_partitions import JudgedPartitions
from .lineage import Event
from .partitions import in_partitions, is_partition_value, partition_literal

# The check slots filled from the exchange calendar (see _calendar_values).
CALENDAR_SLOTS = ("fresh_since", "expected_hours", "recent_day")
# A check that counts the rows meeting one condition: run with the others in one scan.
_ROW_CHECK = re.compile(
    r"^SELECT\s+count\(\*\)\s+AS\s+failing_rows\s+FROM\s+(\w+)\s+WHERE\s+(.+)$",
    re.I | re.S,
)
# Past this many partitions to re-judge, one scan of the whole table costs no more than a
# statement listing them (and stays far below Athena's 256 KB query text).
MAX_LISTED_PARTITIONS = 1000
log = logging.getLogger(__name__)


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


def _check_values(settings: Settings, engine: Engine, moment: datetime) -> Dict[str, str]:
    """The checks' inputs that need no exchange calendar, as validated SQL fragments."""
    counts = lineage.row_counts(settings, engine)
    if counts is None:
        raw_total = f"(SELECT count(*) FROM {settings.raw_table})"
        run_raw = run_typed = "CAST(0 AS bigint)"
    else:
        raw_total = f"CAST({counts['total_raw_rows']} AS bigint)"
        run_raw = f"CAST({counts['run_raw_rows']} AS bigint)"
        run_typed = f"CAST({counts['run_typed_rows']} AS bigint)"
    return {
        "checked_at": timestamp_literal(moment),
        "raw_table": settings.raw_table,
        "run_raw_rows": run_raw,
        "run_typed_rows": run_typed,
        "total_raw_rows": raw_total,
        "parquet_table": settings.parquet_table,
        "sans_dup_table": settings.sans_dup_table,
        "partition_column": validate_identifier(settings.partition_column, "partition column"),
        "expected_tickers": ticker_values(settings.tickers),
        "adjusted_view": settings.adjusted_view,
        "splits_applied_list": applied_splits_list(settings, engine),
    }


def _calendar_values(settings: Settings, storage: Storage, now: datetime) -> Dict[str, str]:
    """The checks' inputs computed from the XNYS calendar (the CALENDAR_SLOTS). `recent_day` is
    the exchange date of the earliest bar start the calendar checks ask about: partitions hold
    the bars of an exchange date (or hour), so those checks read only the partitions from it
    on, and a daily run does not scan every year of history for them."""
    fresh_since = session_start_utc(last_completed_session(now))
    window = latest_ingest_window(settings, storage)
    first = parse_window_day(window[0]) if window else None
    last = parse_window_day(window[1]) if window else None
    if first is None or last is None:
        first, last = default_window(now, settings.window_days)
    hours = expected_session_hours(first, last, now)
    earliest = min([fresh_since, *hours]).astimezone(exchange_tz()).date()
    return {
        "fresh_since": timestamp_literal(fresh_since),
        "expected_hours": hour_values(hours),
        "recent_day": partition_literal(earliest.isoformat())[1:-1],
    }


def history_values(run_id: str, run_at: datetime, checks: List[CheckResult]) -> str:
    """The VALUES rows that append `checks` to the check history (quality and the quarantine)."""
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


def _row_condition(sql: str, table: str) -> Optional[str]:
    """The row test of a check that counts the sans-dup table's rows meeting one condition
    (`SELECT count(*) AS failing_rows FROM <table> WHERE <condition>`), else None."""
    m = _ROW_CHECK.match(without_header(sql))
    if m is None or m.group(1) != table:
        return None
    return m.group(2)


def _partition_checks(engine: Engine, settings: Settings, checks: List[Check],
                      values: Dict[str, str], stale: Optional[List[str]],
                      failing: Dict[str, int]) -> Set[str]:
    """Run the partition-scope checks over the `stale` partitions (None: the whole table);
    returns the partitions read in which every one of them found 0 failing rows.

    The row-wise ones (each a count of the rows meeting one condition) run as one scan grouped
    by partition: `count(CASE WHEN <condition> THEN 1 END)` counts exactly the rows its WHERE
    would keep (a NULL condition keeps none). On Athena that is one billed scan instead of one
    per check. A statement that fails leaves the checks to run one by one, so an error names
    its own check. The others (the duplicate checks) read the same partitions as a subquery."""
    table, column = settings.sans_dup_table, validate_identifier(
        settings.partition_column, "partition column")
    if stale == []:
        for check in checks:
            failing[check.name] = 0
        return set()
    where = "" if stale is None else f"\nWHERE {in_partitions(column, stale)}"
    conditions = {}
    for check in checks:
        condition = _row_condition(render(check.sql_file, **values), table)
        if condition is not None:
            conditions[check.name] = condition
    clean: Set[str] = set()
    if conditions:
        columns = [
            f"count(CASE WHEN ({cond}) THEN 1 END) AS {validate_identifier(name, 'check')}"
            for name, cond in conditions.items()
        ]
        sql = (f"-- quality: the row-wise checks in one scan, per partition: "
               f"{', '.join(conditions)}\n"
               f"SELECT {column}, count(*) AS row_count, {', '.join(columns)}\n"
               f"FROM {table}{where}\nGROUP BY {column}")
        try:
            found = engine.execute(sql).rows
        except EngineError as exc:
            log.info("the row-wise checks in one scan failed (%s); running them one by one", exc)
            conditions = {}
        else:
            for name in conditions:
                failing[name] = 0
            for partition, _rows, *counts in found:
                for name, value in zip(conditions, counts):
                    failing[name] += int(value or 0)
                if partition is not None and not any(counts):
                    clean.add(str(partition))
    subset = table if stale is None else f"(SELECT * FROM {table}{where}) AS judged"
    for check in checks:
        if check.name in conditions:
            continue
        value = int(engine.execute(
            render(check.sql_file, **{**values, "sans_dup_table": subset})).scalar() or 0)
        failing[check.name] = value
        if value:
            clean = set()  # a count over all the partitions read: none is known clean
    return clean


def _partition_rows(engine: Engine, settings: Settings) -> Dict[Optional[str], int]:
    """Every partition's rows as the table shows them (the files' footers answer it); a NULL
    partition value (Hive's default partition) is the key None."""
    column = validate_identifier(settings.partition_column, "partition column")
    found = engine.execute(
        f"-- quality: the rows of each partition\n"
        f"SELECT {column}, count(*) FROM {settings.sans_dup_table} GROUP BY {column}"
    ).rows
    return {None if p is None else str(p): int(n) for p, n in found}


def _uses_calendar(check: Check) -> bool:
    return not slots(check.sql_file).isdisjoint(CALENDAR_SLOTS)


def _stale_partitions(current: Optional[Dict[str, str]], shown: Dict[Optional[str], int],
                      record: Optional[JudgedPartitions]) -> Tuple[Optional[List[str]],
                                                                   Dict[str, int]]:
    """Which partitions the partition-scope checks must read: (None for the whole table, or
    the list), and the partitions reused (value -> rows). A partition is reused only when its
    files and the rows the table shows of it are those the record judged clean. Rows in no
    listable partition (a NULL value) make the whole table read: no IN list selects them."""
    if current is None or record is None or not all(map(is_partition_value, shown)):
        return None, {}
    reused = {p: n for p, n in record.reusable(current).items() if shown.get(p, 0) == n}
    stale = sorted(str(p) for p in set(shown) - set(reused))
    if not reused or len(stale) > MAX_LISTED_PARTITIONS:
        return None, {}
    return stale, reused


def quality(
    settings: Settings, engine: Engine, storage: Storage, *, now: Optional[datetime] = None,
    full_refresh: bool = False,
) -> QualityResult:
    """Run every check (all of them, even after a failure) and append the results to history.

    The row-count check compares what the lineage table recorded (see runtime/sql/checks/
    raw_parquet_row_count.sql); every other check judges the whole sans-dup table, the
    partition-scope ones by reading only the partitions whose files changed since they were
    judged clean (runtime/steps/judged_partitions.py; `full_refresh` reads them all)."""
    moment = now_utc(now)
    run_id = new_run_id(moment)
    checks = all_checks()
    failing: Dict[str, int] = {}
    refresh_adjusted_view(settings, engine)  # the split checks judge what publish will copy
    location = settings.table_location(settings.sans_dup_table)
    needs_calendar = {c.name: _uses_calendar(c) for c in checks}
    by_partition = [c for c in checks if c.scope == "partition" and not needs_calendar[c.name]]
    checks_id = judged_partitions.checks_digest([c.sql_file for c in by_partition],
                                                settings.partition_column)
    # exchange_calendars and pandas take seconds to import in a new process (docs/performance.md
    # "Measurements behind code choices"), so the calendar is computed in
    # a worker thread while the checks that need no calendar run; those come first. All checks
    # judge the same state of the tables (consistent_reads).
    with ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="xnys-calendar"
    ) as pool, engine.consistent_reads():
        calendar = pool.submit(_calendar_values, settings, storage, moment)
        # What these checks judge, for publish to copy exactly this state (or refuse).
        files = data_files(storage, location)
        splits = judged_splits(settings, engine, storage)
        values = _check_values(settings, engine, moment)
        current = judged_partitions.files_by_partition(files, settings.partition_column)
        record = None if full_refresh or current is None else judged_partitions.load(
            storage, judged_partitions.record_uri(location), checks_id, moment)
        shown = _partition_rows(engine, settings)
        stale, reused = _stale_partitions(current, shown, record)
        clean_now = _partition_checks(engine, settings, by_partition, values, stale, failing)
        rows = sum(shown.values())
        for check in sorted(checks, key=lambda c: needs_calendar[c.name]):
            if check.name in failing:
                continue
            if calendar.done() and calendar.exception() is not None:
                raise calendar.exception()  # before more queries (on Athena, billed scans)
            if needs_calendar[check.name]:
                values.update(calendar.result())
            value = engine.execute(render(check.sql_file, **values)).scalar()
            failing[check.name] = int(value or 0)
        calendar.result()  # its error, even if no check needed it
    log.info("quality judged %s of %d partitions (%d unchanged since judged clean)",
             "all" if stale is None else len(stale), len(shown), len(reused))
    if current is not None:
        clean = {p: (current[p], shown.get(p, 0)) for p in clean_now if p in current}
        clean.update({p: (current[p], n) for p, n in reused.items()})
        judged_partitions.save(storage, judged_partitions.record_uri(location), JudgedPartitions(
            checks_id, judged_partitions.stamp(moment), clean))
    judged = Fingerprint(rows, files, splits)
    if failing.get("splits_applied"):
        log_applied_splits(settings, engine)
    results = [
        CheckResult(c.name, c.severity, failing[c.name], failing[c.name] == 0) for c in checks
    ]
    result = QualityResult(run_id, results, not any(
        c.severity == "error" and not c.passed for c in results
    ), stale, len(reused))
    dq = settings.dq_table
    exists = engine.table_exists(dq)
    if exists:
        # "Latest" means most recently recorded: if the clock went back (another host, a
        # caller's `now`), extend the previous id so the new one still sorts after it.
        previous = engine.execute(render("dq_max_run_id.sql", dq_table=dq)).scalar()
        if previous and run_id <= str(previous):
            run_id = new_run_id(moment, str(previous))
            result.run_id = run_id
    append_rows(settings, engine, "dq", dq, history_values(run_id, moment, results), exists)
    lineage.append(settings, engine, run_id, moment, [Event(
        "quality", settings.sans_dup_table, detail=judged.digest, source_rows=judged.rows,
        written_rows=len(judged.files),
    )])
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

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
from typing import Dict, List, Optional, Tuple

from ..adjustments import applied_splits_list, log_applied_splits, refresh_adjusted_view
from ..checks import Check, CheckResult, QualityResult, all_checks
from ..engines.base import Engine
from ..errors import EngineError, validate_identifier
from ..exchange_calendar import expected_session_hours, last_completed_session, session_start_utc
from ..settings import Settings
from ..sql_files import hour_values, render, slots, ticker_values, timestamp_literal
from ..storage import Storage
from ..window import default_window, parse_window_day
from . import lineage
from .archive import Fingerprint, data_files, judged_splits
from .common import append_rows, count_rows, new_run_id, now_utc, without_header
from .lineage import Event

# The check slots filled from the exchange calendar (see _calendar_values).
CALENDAR_SLOTS = ("fresh_since", "expected_hours")
# A check that counts the rows meeting one condition: run with the others in one scan.
_ROW_CHECK = re.compile(
    r"^SELECT\s+count\(\*\)\s+AS\s+failing_rows\s+FROM\s+(\w+)\s+WHERE\s+(.+)$",
    re.I | re.S,
)
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
        "expected_tickers": ticker_values(settings.tickers),
        "adjusted_view": settings.adjusted_view,
        "splits_applied_list": applied_splits_list(settings, engine),
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


def _run_folded(engine: Engine, settings: Settings, checks: List[Check], values: Dict[str, str],
                failing: Dict[str, int]) -> Tuple[Optional[int], List[str]]:
    """Run the row-wise checks (each a count of the rows meeting its condition) as one scan:
    `count(CASE WHEN <condition> THEN 1 END)` counts exactly the rows its WHERE would keep (a
    NULL condition keeps none), and `count(*)` gives the table's rows too. On Athena that is one
    billed scan instead of one per check. Returns (rows, names of the checks answered); a
    statement that fails is left to the checks one by one, so an error names its own check."""
    table = settings.sans_dup_table
    conditions = {}
    for check in checks:
        condition = _row_condition(render(check.sql_file, **values), table)
        if condition is not None:
            conditions[check.name] = condition
    columns = [f"count(CASE WHEN ({cond}) THEN 1 END) AS {validate_identifier(name, 'check')}"
               for name, cond in conditions.items()]
    sql = (f"-- quality: the row-wise checks in one scan: {', '.join(conditions)}\n"
           f"SELECT count(*) AS row_count, {', '.join(columns)}\nFROM {table}")
    if not conditions:
        return None, []
    try:
        row = engine.execute(sql).rows[0]
    except EngineError as exc:
        log.info("the row-wise checks in one scan failed (%s); running them one by one", exc)
        return None, []
    for name, value in zip(conditions, row[1:]):
        failing[name] = int(value or 0)
    return int(row[0]), list(conditions)


def _uses_calendar(check: Check) -> bool:
    return not slots(check.sql_file).isdisjoint(CALENDAR_SLOTS)


def quality(
    settings: Settings, engine: Engine, storage: Storage, *, now: Optional[datetime] = None
) -> QualityResult:
    """Run every check (all of them, even after a failure) and append the results to history.

    The row-count check compares what the lineage table recorded (see runtime/sql/checks/
    raw_parquet_row_count.sql); every other check reads the whole sans-dup table."""
    moment = now_utc(now)
    run_id = new_run_id(moment)
    checks = all_checks()
    failing: Dict[str, int] = {}
    refresh_adjusted_view(settings, engine)  # the split checks judge what publish will copy
    # exchange_calendars and pandas take seconds to import in a new process (docs/performance.md
    # "Measurements behind code choices"), so the calendar is computed in
    # a worker thread while the checks that need no calendar run; those come first. All checks
    # judge the same state of the tables (consistent_reads).
    with ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="xnys-calendar"
    ) as pool, engine.consistent_reads():
        calendar = pool.submit(_calendar_values, settings, storage, moment)
        # What these checks judge, for publish to copy exactly this state (or refuse); its row
        # count comes from the one scan that runs the row-wise checks.
        files = data_files(storage, settings.table_location(settings.sans_dup_table))
        splits = judged_splits(settings, engine, storage)
        values = _check_values(settings, engine, moment)
        needs_calendar = {c.name: _uses_calendar(c) for c in checks}
        plain = [c for c in checks if not needs_calendar[c.name]]
        rows, folded = _run_folded(engine, settings, plain, values, failing)
        for check in sorted(checks, key=lambda c: needs_calendar[c.name]):
            if check.name in folded:
                continue
            if calendar.done() and calendar.exception() is not None:
                raise calendar.exception()  # before more queries (on Athena, billed scans)
            if needs_calendar[check.name]:
                values.update(calendar.result())
            value = engine.execute(render(check.sql_file, **values)).scalar()
            failing[check.name] = int(value or 0)
        calendar.result()  # its error, even if no check needed it
        if rows is None:
            rows = count_rows(engine, settings.sans_dup_table)
    judged = Fingerprint(rows, files, splits)
    if failing.get("splits_applied"):
        log_applied_splits(settings, engine)
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

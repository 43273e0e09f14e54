"""The local runner: walks runtime.dag.DAG (the same order the Glue workflow's triggers follow) and,
for `stockpipe run`, wraps it with ingest before and the report after."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .checks import QualityResult
from .dag import steps_from
from .engines.base import Engine
from .errors import QualityCheckFailed
from .settings import Settings
from .storage import Storage

Progress = Optional[Callable[[str], None]]


@dataclass
class StepRun:
    name: str
    result: Any
    seconds: float


@dataclass
class WorkflowResult:
    steps: List[StepRun] = field(default_factory=list)
    quality: Optional[QualityResult] = None
    published_table: Optional[str] = None
    # Set when publish refused because a blocking check failed (exit code 3).
    blocked: Optional[QualityCheckFailed] = None
    # report.html, when run_workflow_and_report rebuilt it after a publish.
    report: Optional[str] = None
    # Why report.html could not be rebuilt after a publish: a warning, not a failed run.
    report_error: Optional[str] = None

    def result_of(self, name: str) -> Any:
        for s in self.steps:
            if s.name == name:
                return s.result
        return None

    @property
    def exit_code(self) -> int:
        return self.blocked.exit_code if self.blocked else 0

    def raw_summary(self) -> Dict[str, Any]:
        """`raw_quarantined` (objects this run set aside, with why) and `raw_misplaced` (raw
        keys outside the YYYY/MM/DD/HH/<name> layout, which the raw table does not read)."""
        moved = getattr(self.blocked, "objects", None) or []
        misplaced: List[str] = []
        for s in self.steps:
            misplaced += getattr(s.result, "misplaced_objects", None) or []
        return {"raw_quarantined": [q.to_dict() for q in moved], "raw_misplaced": misplaced}

    def incremental_summary(self) -> Dict[str, Any]:
        """`mode` (full when any step rebuilt its whole table), `full_refresh_reason` (the first
        step's reason, only when full), `raw_objects_read` and `partitions_rewritten` (of the
        sans-dup table, else the typed table: what readers see change)."""
        built = [s.result for s in self.steps if hasattr(s.result, "mode")]
        full = [r for r in built if r.mode == "full"]
        out: Dict[str, Any] = {"mode": "full" if full else "incremental"}
        if full:
            out["full_refresh_reason"] = full[0].full_refresh_reason
        out["raw_objects_read"] = sum(int(getattr(r, "raw_objects_read", 0)) for r in built)
        out["partitions_rewritten"] = int(built[-1].partitions) if built else 0
        return out


def _say(progress: Progress, message: str) -> None:
    if progress is not None:
        progress(message)


def run_workflow(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    from_step: str = "crawl",
    progress: Progress = None,
    *,
    now: Optional[datetime] = None,
    full_refresh: bool = False,
) -> WorkflowResult:
    """Run the DAG from `from_step` to the end, each step through `Node.run` (as the Glue entry
    script does). A failed blocking check does not raise: it stops publish (which re-reads the
    check history, as the Glue job does) and is returned in `.blocked`; any other failure
    propagates and leaves earlier steps' work in place: rerunning repairs it (transform and dedup
    finish or redo a killed run's work, see docs/architecture.md)."""
    out = WorkflowResult()
    nodes = steps_from(from_step)
    for i, node in enumerate(nodes, 1):
        _say(progress, f"[{i}/{len(nodes)}] {node.name}: {node.description}")
        started = time.monotonic()
        try:
            result = node.run(settings, engine, storage, now=now, full_refresh=full_refresh)
        except QualityCheckFailed as exc:
            out.blocked = exc
            out.steps.append(StepRun(node.name, None, time.monotonic() - started))
            _say(progress, f"[{i}/{len(nodes)}] {node.name}: refused: {exc}")
            break
        seconds = time.monotonic() - started
        out.steps.append(StepRun(node.name, result, seconds))
        if node.gates_publish:
            out.quality = result
        if node.publishes:
            out.published_table = result.table
        rows = getattr(result, "rows", None)
        count = f", {rows} rows" if isinstance(rows, int) else ""
        mode = getattr(result, "mode", None)
        why = getattr(result, "full_refresh_reason", None)
        detail = f" ({mode}{': ' + why if why else ''})" if mode else ""
        _say(progress, f"[{i}/{len(nodes)}] {node.name}: done in {seconds:.1f}s{count}{detail}")
    return out


def run_workflow_and_report(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    from_step: str = "crawl",
    progress: Progress = None,
    *,
    report_out: Optional[Path] = None,
    now: Optional[datetime] = None,
    full_refresh: bool = False,
) -> WorkflowResult:
    """run_workflow, then report.html when it published: a new production copy, which the
    report would otherwise not show. What `run`, `workflow` and the scheduler all do.

    A report that cannot be written after a publish is `report_error`, not an exception: the
    pipeline's work is done, and a failed exit would make a scheduler rerun it and publish a
    second archive of the same data."""
    wf = run_workflow(
        settings, engine, storage, from_step, progress, now=now, full_refresh=full_refresh
    )
    if wf.published_table:
        from .report import build_report

        _say(progress, "report: building report.html")
        try:
            wf.report = str(build_report(settings, engine, report_out, progress=progress))
        except Exception as exc:  # any failure of the report is only a warning here
            wf.report_error = report_failure(exc)
            _say(progress, f"report: not written: {wf.report_error}")
    return wf


def report_failure(exc: BaseException) -> str:
    """One line saying why the report failed: a StockpipeError's own message, else its type."""
    from .errors import StockpipeError

    if isinstance(exc, StockpipeError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return f"{type(exc).__name__}: {exc}"


@dataclass
class RunResult:
    """What `stockpipe run` reports (docs/architecture.md, "Commands": `--json`)."""

    source: str
    raw_rows: int
    parquet_rows: int
    sans_dup_rows: int
    checks: List[Dict[str, Any]]
    published_table: Optional[str]
    report: Optional[str]
    seconds: float
    ingest: Any = None
    workflow: Optional[WorkflowResult] = None
    blocked: Optional[str] = None
    report_error: Optional[str] = None
    # mode, full_refresh_reason (when full), raw_objects_read, partitions_rewritten
    incremental: Dict[str, Any] = field(default_factory=dict)
    # raw_quarantined, raw_misplaced (WorkflowResult.raw_summary)
    raw: Dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 3 if self.blocked else 0

    def to_dict(self) -> Dict[str, Any]:
        return {
            "source": self.source,
            "raw_rows": self.raw_rows,
            "parquet_rows": self.parquet_rows,
            "sans_dup_rows": self.sans_dup_rows,
            "checks": self.checks,
            "published_table": self.published_table,
            "report": self.report,
            "report_error": self.report_error,
            "seconds": round(self.seconds, 3),
            **self.incremental,
            **self.raw,
        }


def _table_rows(engine: Engine, table: str) -> int:
    from .steps import count_rows

    return count_rows(engine, table) if engine.table_exists(table) else 0


def run_pipeline(
    settings: Settings,
    *,
    source: str = "auto",
    end_date: Optional[date] = None,
    days: Optional[int] = None,
    progress: Progress = None,
    ingest_progress: Optional[Callable[..., None]] = None,
    engine: Optional[Engine] = None,
    storage: Optional[Storage] = None,
    now: Optional[datetime] = None,
    report_out: Optional[Path] = None,
    full_refresh: bool = False,
) -> RunResult:
    """Ingest + the whole workflow + the report. A failed blocking check returns a result with
    `blocked` set (exit code 3), nothing published and no new report."""
    from .engines import make_engine, make_storage
    from .ingest import run_ingest
    from .steps import count_rows, row_counts

    started = time.monotonic()
    if days is not None:
        settings = settings.replace(window_days=int(days))
    storage = storage or make_storage(settings)
    _say(progress, f"ingest: {', '.join(settings.tickers)} over {settings.window_days} days")
    summary = run_ingest(
        settings,
        source=source,
        end_date=end_date,
        days=days,
        storage=storage,
        now=now,
        progress=ingest_progress,
    )
    own_engine = engine is None
    engine = engine or make_engine(settings)
    try:
        wf = run_workflow_and_report(
            settings, engine, storage, "crawl", progress, report_out=report_out, now=now,
            full_refresh=full_refresh,
        )
        # The raw rows of every object consumed (recorded by transform): counting the raw table
        # would read all raw JSON again, every day.
        counts = row_counts(settings, engine)
        raw_rows = counts["total_raw_rows"] if counts else count_rows(engine, settings.raw_table)
        parquet_rows = _table_rows(engine, settings.parquet_table)
        sans_dup_rows = _table_rows(engine, settings.sans_dup_table)
        quality = wf.quality
    finally:
        if own_engine:
            engine.close()
    return RunResult(
        source=str(getattr(summary, "source", source)),
        raw_rows=raw_rows,
        parquet_rows=parquet_rows,
        sans_dup_rows=sans_dup_rows,
        checks=[c.to_dict() for c in quality.checks] if quality else [],
        published_table=wf.published_table,
        report=wf.report,
        seconds=time.monotonic() - started,
        ingest=summary,
        workflow=wf,
        blocked=str(wf.blocked) if wf.blocked else None,
        report_error=wf.report_error,
        incremental=wf.incremental_summary(),
        raw=wf.raw_summary(),
    )

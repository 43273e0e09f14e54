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
from .sql_files import render
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

    def result_of(self, name: str) -> Any:
        for s in self.steps:
            if s.name == name:
                return s.result
        return None

    @property
    def exit_code(self) -> int:
        return self.blocked.exit_code if self.blocked else 0


def _say(progress: Progress, message: str) -> None:
    if progress is not None:
        progress(message)


# Steps that CTAS a table the `reset` step clears: rerun on their own (`--from dedup`), they
# need their table gone and its location empty first, or the CTAS fails (Athena's rules).
REBUILT_BY = {"transform": "parquet_table", "dedup": "sans_dup_table"}


def _clear(settings: Settings, engine: Engine, storage: Storage, table: str) -> int:
    """Drop `table` (metadata only, as Athena) and delete its files; returns objects deleted."""
    engine.execute(render("drop_table.sql", table=table))
    return storage.delete_prefix(settings.table_location(table))


def run_workflow(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    from_step: str = "crawl",
    progress: Progress = None,
    *,
    now: Optional[datetime] = None,
) -> WorkflowResult:
    """Run the DAG from `from_step` to the end. A failed blocking check does not raise: it stops
    publish (which re-reads the check history, as the Glue job does) and is returned in
    `.blocked`; any other failure propagates and leaves earlier steps' work in place, so
    `from_step="reset"` reruns cleanly."""
    out = WorkflowResult()
    nodes = steps_from(from_step)
    for i, node in enumerate(nodes, 1):
        _say(progress, f"[{i}/{len(nodes)}] {node.name}: {node.description}")
        started = time.monotonic()
        kwargs = {"now": now} if node.name in ("quality", "publish") and now is not None else {}
        if node.name in REBUILT_BY and "reset" not in [s.name for s in out.steps]:
            table = getattr(settings, REBUILT_BY[node.name])
            _say(progress, f"[{i}/{len(nodes)}] {node.name}: dropping {table} to rebuild it")
            _clear(settings, engine, storage, table)
        try:
            result = node.function(settings, engine, storage, **kwargs)
        except QualityCheckFailed as exc:
            out.blocked = exc
            out.steps.append(StepRun(node.name, None, time.monotonic() - started))
            _say(progress, f"[{i}/{len(nodes)}] {node.name}: refused: {exc}")
            break
        seconds = time.monotonic() - started
        out.steps.append(StepRun(node.name, result, seconds))
        if node.name == "quality":
            out.quality = result
        if node.name == "publish":
            out.published_table = result.table
        rows = getattr(result, "rows", None)
        count = f", {rows} rows" if isinstance(rows, int) else ""
        _say(progress, f"[{i}/{len(nodes)}] {node.name}: done in {seconds:.1f}s{count}")
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
) -> WorkflowResult:
    """run_workflow, then report.html when it published: a new production copy, which the
    report would otherwise not show. What `run`, `workflow` and the scheduler all do."""
    wf = run_workflow(settings, engine, storage, from_step, progress, now=now)
    if wf.published_table:
        from .report import build_report

        _say(progress, "report: building report.html")
        wf.report = str(build_report(settings, engine, report_out, progress=progress))
    return wf


@dataclass
class RunResult:
    """What `stockpipe run` reports (`--json`, docs/architecture.md "Commands")."""

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
            "seconds": round(self.seconds, 3),
        }


def _rows(result: Any) -> int:
    return int(getattr(result, "rows", 0) or 0)


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
) -> RunResult:
    """Ingest + the whole workflow + the report. A failed blocking check returns a result with
    `blocked` set (exit code 3), nothing published and no new report."""
    from .engines import make_engine, make_storage
    from .ingest import run_ingest
    from .steps import count_rows

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
            settings, engine, storage, "crawl", progress, report_out=report_out, now=now
        )
        raw_rows = count_rows(engine, settings.raw_table)
        quality = wf.quality
    finally:
        if own_engine:
            engine.close()
    return RunResult(
        source=str(getattr(summary, "source", source)),
        raw_rows=raw_rows,
        parquet_rows=_rows(wf.result_of("transform")),
        sans_dup_rows=_rows(wf.result_of("dedup")),
        checks=[c.to_dict() for c in quality.checks] if quality else [],
        published_table=wf.published_table,
        report=wf.report,
        seconds=time.monotonic() - started,
        ingest=summary,
        workflow=wf,
        blocked=str(wf.blocked) if wf.blocked else None,
    )

"""The `stockpipe` command (DESIGN 3.1). Exit codes: 0 done/published, 3 a blocking quality check
failed (nothing published), 1 any other error, with a one-line cause on stderr."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import logging
import math
import os
import sys
import time
import traceback
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, List, NoReturn, Optional, Sequence, TextIO

from .dag import STEP_NAMES
from .errors import StockpipeError

SOURCES = ("auto", "polygon", "demo")
SCHEDULE_TZ = "America/New_York"
# The cloud's EventBridge Scheduler times (DESIGN 1), reused by `stockpipe schedule`.
INGEST_AT = (11, 0)
WORKFLOW_AT = (12, 0)
# One stockpipe process per home: a second one's ingest would land files under a running
# workflow (its raw/Parquet row-count check would then fail) and DuckDB allows one writer.
LOCK_NAME = ".stockpipe.lock"
# A scheduled job that finds the home busy (a manual `run`) waits this long before giving up.
SCHEDULED_LOCK_WAIT_SECONDS = 30 * 60


class HomeBusy(StockpipeError):
    """Another stockpipe process holds the home's lock."""


# ---- argument parsing ------------------------------------------------------------------------
def _end_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--end-date must be YYYY-MM-DD, got {text!r}") from None


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--days must be a whole number, got {text!r}") from None
    if not 1 <= value <= 3660:
        raise argparse.ArgumentTypeError(f"--days must be between 1 and 3660, got {value}")
    return value


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    # Sub-commands use SUPPRESS so `stockpipe --home X run` is not overwritten by run's default.
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--home",
        type=Path,
        default=default,
        help="folder for the local lake, catalog and reports "
        "(default $STOCKPIPE_HOME, else ./.stockpipe)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="show tracebacks",
    )


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tickers", help="comma-separated symbols, e.g. AAPL,MSFT,BRK.B")
    parser.add_argument("--days", type=_days, help="window length in days (default 7)")
    parser.add_argument("--end-date", type=_end_date, help="last day of the window (YYYY-MM-DD)")
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="polygon needs POLYGON_API_KEY; auto picks polygon when it is set, else demo",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 1 (DESIGN 3.1: 1 on other errors)."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stockpipe", description="Hourly stock aggregate bars, ingested, checked, published."
    )
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("run", help="ingest + whole workflow + report")
    _source_options(p)
    p.add_argument("--out", type=Path, help="where to write report.html")
    p = sub.add_parser("ingest", help="pull bars into the raw lake only")
    _source_options(p)
    p = sub.add_parser("workflow", help="run the workflow steps (no ingest)")
    p.add_argument("--from", dest="from_step", choices=STEP_NAMES, default="crawl")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p = sub.add_parser("checks", help="run the data-quality checks and record them")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p = sub.add_parser("query", help="run one Athena-dialect statement on the local engine")
    p.add_argument("sql", help='e.g. "SELECT * FROM stock_aggregate_prod_latest LIMIT 5"')
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sub.add_parser("tables", help="list tables and views")
    p = sub.add_parser("report", help="write report.html from the production view")
    p.add_argument("--out", type=Path, help="output file (default <home>/reports/report.html)")
    sub.add_parser("schedule", help=f"ingest 11:00 and workflow 12:00 {SCHEDULE_TZ}, forever")
    for action in sub.choices.values():
        _common(action, suppress=True)
    return parser


# ---- helpers ---------------------------------------------------------------------------------
class Console:
    """Where things go: results on stdout, progress and notices on stderr (progress on a TTY)."""

    def __init__(self, out: TextIO, err: TextIO, json_mode: bool):
        self.out = out
        self.err = err
        self.json_mode = json_mode
        self.live = not json_mode and bool(getattr(err, "isatty", lambda: False)())

    def progress(self, message: str) -> None:
        if self.live:
            print(message, file=self.err, flush=True)

    def notice(self, message: str) -> None:
        print(message, file=self.err, flush=True)

    def print(self, message: str = "") -> None:
        print(message, file=self.out)


class _ConsoleLog(logging.Handler):
    """runtime's log records on the console: on a terminal, INFO and up as progress (bars
    fetched, rate-limit waits, retries, skipped tickers); errors always; with --debug every
    record with its level and logger. Messages never carry the key."""

    def __init__(self, console: Console, debug: bool):
        super().__init__(logging.INFO if debug or console.live else logging.ERROR)
        self.console = console
        self.debug = debug

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = " ".join(record.getMessage().split())
        except Exception:  # noqa: BLE001 - a bad log call must not break the command
            return
        if self.debug:
            self.console.notice(f"{record.levelname.lower()}: {record.name}: {message}")
        elif record.levelno >= logging.ERROR:
            self.console.notice(f"stockpipe: {message}")
        else:
            self.console.progress(f"  {message}")


@contextlib.contextmanager
def _runtime_logging(console: Console, debug: bool) -> Iterator[None]:
    """Route the `runtime` loggers to the console for one command (Python's last-resort
    handler would print every warning, e.g. each retry, as a bare extra line)."""
    logger = logging.getLogger("runtime")
    handler = _ConsoleLog(console, debug)
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(handler.level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@contextlib.contextmanager
def home_lock(home: Path, wait_seconds: float = 0.0, poll: float = 5.0) -> Iterator[None]:
    """Hold `<home>/.stockpipe.lock` (an OS lock, released even if the process dies) or raise
    HomeBusy naming the holder's PID; waits up to `wait_seconds` for it first."""
    try:
        import fcntl
    except ImportError:  # Windows: DuckDB's own file lock still refuses a second writer
        yield
        return
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    handle = open(home / LOCK_NAME, "a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip()[:20]
                    who = f" (PID {holder})" if holder.isdigit() else ""
                    raise HomeBusy(
                        f"another stockpipe process{who} is using {home}; wait for it to "
                        "finish, or use another --home"
                    ) from None
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def _settings(args: argparse.Namespace):
    from .settings import Settings

    overrides = {
        "home": getattr(args, "home", None),
        "tickers": getattr(args, "tickers", None),
        "window_days": getattr(args, "days", None),
    }
    return Settings.from_env(**overrides)


def _ingest_progress(console: Console) -> Callable[[str, int, int], None]:
    """run_ingest calls this as each ticker starts; the free tier makes each one slow."""

    def report(ticker: str, index: int, total: int) -> None:
        console.progress(f"ingest: [{index}/{total}] {ticker}")

    return report


def _announce_source(console: Console, settings, requested: str) -> str:
    from .ingest import resolve_source

    chosen = resolve_source(settings, requested)
    if requested == "auto":
        why = "POLYGON_API_KEY is set" if chosen == "polygon" else "POLYGON_API_KEY is not set"
        console.notice(f"source: {chosen} (auto: {why})")
    return chosen


def _check_lines(checks: Sequence[dict]) -> List[str]:
    lines = []
    width = max([len(str(c["name"])) for c in checks] + [10])
    for c in checks:
        verdict = "PASS" if c["passed"] else ("FAIL" if c["severity"] == "error" else "WARN")
        lines.append(
            f"  {verdict}  {str(c['name']).ljust(width)}  {str(c['severity']).ljust(7)}  "
            f"failing rows: {c['failing_rows']}"
        )
    return lines


def _text(value: Any) -> str:
    """A value as Athena's console shows it: true/false, timestamps without trailing zeros."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        # Athena's timestamps are millisecond precision; DuckDB's str() pads to microseconds.
        if value.microsecond == 0:
            spec = "seconds"
        elif value.microsecond % 1000 == 0:
            spec = "milliseconds"
        else:
            spec = "microseconds"
        return value.isoformat(sep=" ", timespec=spec)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return str(value)


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _cell(text: str) -> str:
    """One table line per row: control characters (a newline in a value) are shown escaped."""
    if not any(ord(ch) < 32 for ch in text):
        return text
    return "".join(
        _ESCAPES.get(ch, f"\\x{ord(ch):02x}") if ord(ch) < 32 else ch for ch in text
    )


def _json_value(value: Any) -> Any:
    """A value JSON can hold: NaN/Infinity as strings (bare NaN is not JSON), exact decimals
    as numbers when a float keeps them, timestamps and dates as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _text(value)
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return _text(value)


def format_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """A query result as an aligned table, CSV, or a JSON list of objects."""
    if fmt == "json":
        return json.dumps(
            [{c: _json_value(v) for c, v in zip(columns, r)} for r in rows], allow_nan=False
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if columns:
            writer.writerow(columns)
        writer.writerows(["" if v is None else _text(v) for v in r] for r in rows)
        return buf.getvalue().rstrip("\n")
    if not columns:
        return "OK"
    cells = [["NULL" if v is None else _cell(_text(v)) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    footer = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return "\n".join([line.rstrip(), rule, *body, footer])


# ---- commands --------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from .report import check_writable, report_target
    from .runner import run_pipeline

    settings = _settings(args)
    source = _announce_source(console, settings, args.source)
    # A bad --out must fail before the ingest, not after a publish.
    check_writable(report_target(settings, args.out))
    result = run_pipeline(
        settings,
        source=source,
        end_date=args.end_date,
        days=args.days,
        progress=console.progress,
        ingest_progress=_ingest_progress(console),
        report_out=args.out,
    )
    if args.json:
        console.print(json.dumps(result.to_dict()))
    else:
        console.print(
            f"rows: raw {result.raw_rows}, parquet {result.parquet_rows}, "
            f"sans-dup {result.sans_dup_rows}"
        )
        console.print("checks:")
        for line in _check_lines(result.checks):
            console.print(line)
        if result.published_table:
            console.print(f"published: {result.published_table} "
                          f"(view {settings.prod_latest_view})")
            console.print(f"report: {result.report}")
        else:
            console.print("published: nothing (a blocking check failed)")
    if result.blocked:
        console.notice(f"stockpipe: {result.blocked}")
    return result.exit_code


def cmd_ingest(args: argparse.Namespace, console: Console) -> int:
    from .ingest import run_ingest

    settings = _settings(args)
    source = _announce_source(console, settings, args.source)
    summary = run_ingest(
        settings,
        source=source,
        end_date=args.end_date,
        days=args.days,
        progress=_ingest_progress(console),
    )
    data = summary.to_dict()
    if args.json:
        console.print(json.dumps(data, default=str))
    else:
        console.print(
            f"ingested {data.get('bars')} bars ({data.get('rejects')} rejected) for "
            f"{', '.join(map(str, data.get('tickers') or []))} from {data.get('source')}, "
            f"window {data.get('window_from')} .. {data.get('window_to')}"
        )
    return 0


def _with_engine(settings, fn: Callable[[Any, Any], Any]) -> Any:
    from .engines import make_engine, make_storage

    engine = make_engine(settings)
    try:
        return fn(engine, make_storage(settings))
    finally:
        engine.close()


def cmd_workflow(args: argparse.Namespace, console: Console) -> int:
    from .runner import run_workflow

    settings = _settings(args)

    def go(engine, storage) -> int:
        from .report import build_report

        wf = run_workflow(settings, engine, storage, args.from_step, console.progress)
        checks = [c.to_dict() for c in wf.quality.checks] if wf.quality else []
        report = None
        if wf.published_table:
            # A new production copy: the report would otherwise show the previous one.
            console.progress("report: building report.html")
            report = str(build_report(settings, engine))
        if args.json:
            console.print(json.dumps({
                "steps": [s.name for s in wf.steps],
                "checks": checks,
                "published_table": wf.published_table,
                "report": report,
            }))
        else:
            console.print("steps: " + ", ".join(s.name for s in wf.steps))
            if checks:
                console.print("checks:")
                for line in _check_lines(checks):
                    console.print(line)
            console.print(f"published: {wf.published_table or 'nothing'}")
            if report:
                console.print(f"report: {report}")
        if wf.blocked:
            console.notice(f"stockpipe: {wf.blocked}")
        return wf.exit_code

    return _with_engine(settings, go)


def cmd_checks(args: argparse.Namespace, console: Console) -> int:
    from .steps import quality

    settings = _settings(args)

    def go(engine, storage) -> int:
        missing = [t for t in (settings.raw_table, settings.parquet_table, settings.sans_dup_table)
                   if not engine.table_exists(t)]
        if missing:
            raise StockpipeError(
                f"nothing to check yet: {', '.join(missing)} not in the catalog of "
                f"{settings.home}; run `stockpipe run` (or `stockpipe ingest`, then "
                "`stockpipe workflow`) first"
            )
        result = quality(settings, engine, storage)
        if args.json:
            console.print(json.dumps(result.to_dict()))
        else:
            console.print(f"quality run {result.run_id}:")
            for line in _check_lines([c.to_dict() for c in result.checks]):
                console.print(line)
        return 0 if result.passed else 3

    return _with_engine(settings, go)


def cmd_query(args: argparse.Namespace, console: Console) -> int:
    settings = _settings(args)

    def go(engine, storage) -> int:
        result = engine.execute(args.sql)
        console.print(format_rows(result.columns, result.rows, args.format))
        return 0

    return _with_engine(settings, go)


def cmd_tables(args: argparse.Namespace, console: Console) -> int:
    settings = _settings(args)

    def go(engine, storage) -> int:
        for name in engine.list_tables():
            console.print(name)
        return 0

    return _with_engine(settings, go)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from .report import build_report

    settings = _settings(args)

    def go(engine, storage) -> int:
        console.print(str(build_report(settings, engine, args.out)))
        return 0

    return _with_engine(settings, go)


def _next_runs(scheduler, now: Optional[datetime] = None) -> List[str]:
    """'ingest: Mon 2026-11-30 11:00 EST (16:00 UTC)' for each scheduled job, soonest first."""
    from datetime import timezone

    now = now or datetime.now(timezone.utc)
    found = []
    for job in scheduler.get_jobs():
        when = job.trigger.get_next_fire_time(None, now)
        if when is not None:
            found.append((when, job.id))
    return [
        f"{job_id}: {when:%a %Y-%m-%d %H:%M %Z} ({when.astimezone(timezone.utc):%H:%M} UTC)"
        for when, job_id in sorted(found)
    ]


def build_scheduler(settings, console: Console, scheduler_cls: Any = None):
    """The local scheduler: ingest 11:00 and workflow 12:00 America/New_York (DST-correct).

    Each job takes the home's lock (waiting for a manual run to finish), reports one line, and
    never raises into the scheduler (which would print a traceback); the workflow job rebuilds
    report.html after it publishes, as `stockpipe run` does."""
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    if scheduler_cls is None:
        from apscheduler.schedulers.blocking import BlockingScheduler

        scheduler_cls = BlockingScheduler
    tz = ZoneInfo(SCHEDULE_TZ)
    scheduler = scheduler_cls(timezone=tz)

    def ingest_job() -> str:
        from .ingest import run_ingest

        summary = run_ingest(settings, source="auto")
        return f"{summary.bars} bars from {summary.source}"

    def workflow_job() -> str:
        from .report import build_report
        from .runner import run_workflow

        def go(engine, storage) -> str:
            wf = run_workflow(settings, engine, storage)
            if wf.blocked:
                return f"published nothing ({wf.blocked})"
            report = build_report(settings, engine)
            return f"published {wf.published_table}; report {report}"

        return _with_engine(settings, go)

    def guarded(job_id: str, fn: Callable[[], str]) -> Callable[[], None]:
        def run() -> None:
            try:
                with home_lock(settings.home, wait_seconds=SCHEDULED_LOCK_WAIT_SECONDS):
                    console.notice(f"scheduled {job_id}: {fn()}")
            except Exception as exc:  # noqa: BLE001 - one line, and the schedule keeps going
                name = "" if isinstance(exc, StockpipeError) else f"{type(exc).__name__}: "
                console.notice(f"scheduled {job_id}: failed: {name}{_one_line(exc)}")
            for line in _next_runs(scheduler):
                if line.startswith(f"{job_id}:"):
                    console.notice(f"next {line}")

        return run

    for job_id, fn, (hour, minute) in (
        ("ingest", ingest_job, INGEST_AT),
        ("workflow", workflow_job, WORKFLOW_AT),
    ):
        scheduler.add_job(
            guarded(job_id, fn),
            CronTrigger(hour=hour, minute=minute, timezone=tz),
            id=job_id,
            name=f"stockpipe {job_id}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    return scheduler


def cmd_schedule(args: argparse.Namespace, console: Console) -> int:
    settings = _settings(args)
    _announce_source(console, settings, "auto")
    scheduler = build_scheduler(settings, console)
    console.notice(
        f"scheduled: ingest {INGEST_AT[0]:02d}:{INGEST_AT[1]:02d} and workflow "
        f"{WORKFLOW_AT[0]:02d}:{WORKFLOW_AT[1]:02d} {SCHEDULE_TZ} for "
        f"{', '.join(settings.tickers)} in {settings.home}; Ctrl-C stops"
    )
    for line in _next_runs(scheduler):
        console.notice(f"next {line}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with contextlib.suppress(Exception):
            scheduler.shutdown(wait=False)
    # On a terminal the ^C echo ends no line: start a fresh one.
    console.notice(("\n" if console.live else "") + "schedule: stopped")
    return 0


COMMANDS = {
    "run": cmd_run,
    "ingest": cmd_ingest,
    "workflow": cmd_workflow,
    "checks": cmd_checks,
    "query": cmd_query,
    "tables": cmd_tables,
    "report": cmd_report,
    "schedule": cmd_schedule,
}


# Commands that open the home's catalog or write its lake, and so take its lock.
LOCKED = ("run", "ingest", "workflow", "checks", "query", "tables", "report")


def main(
    argv: Optional[Sequence[str]] = None,
    stdout: Optional[TextIO] = None,
    stderr: Optional[TextIO] = None,
) -> int:
    """Entry point of the `stockpipe` console script; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    console = Console(out, err, json_mode=bool(getattr(args, "json", False)))
    try:
        with _runtime_logging(console, bool(args.debug)):
            if args.command in LOCKED:
                with home_lock(_settings(args).home):
                    return COMMANDS[args.command](args, console)
            return COMMANDS[args.command](args, console)
    except KeyboardInterrupt:
        print("stockpipe: interrupted", file=err)
        return 130
    except BrokenPipeError:
        # `stockpipe query ... | head`: the reader left; say nothing more on a closed pipe.
        if out is sys.stdout:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except StockpipeError as exc:
        if args.debug:
            traceback.print_exc(file=err)
        print(f"stockpipe: error: {_one_line(exc)}", file=err)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the CLI's promise: one line unless --debug
        if args.debug:
            traceback.print_exc(file=err)
        print(f"stockpipe: error: {type(exc).__name__}: {_one_line(exc)}", file=err)
        return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


"""The commands that move data: run, ingest, workflow, checks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ...dag import STEP_NAMES
from ..console import Console
from ..failures import NoDataYet
from ..output import check_lines
from ..parser import json_option, source_options
from .base import (
    Command,
    announce_source,
    ingest_progress,
    require_raw_data,
    settings_from,
    with_engine,
)


def _full_refresh_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every table from all raw data (default: only what new raw objects touch)",
    )


def _run_options(parser: argparse.ArgumentParser) -> None:
    source_options(parser)
    parser.add_argument("--out", type=Path, help="where to write report.html")
    _full_refresh_option(parser)


def _mode_line(summary: dict) -> str:
    why = f" ({summary['full_refresh_reason']})" if summary.get("full_refresh_reason") else ""
    return (
        f"mode: {summary.get('mode')}{why}; raw objects read {summary.get('raw_objects_read')}, "
        f"partitions rewritten {summary.get('partitions_rewritten')}"
    )


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from ...report import check_writable, report_target
    from ...runner import run_pipeline

    settings = settings_from(args)
    source = announce_source(console, settings, args.source)
    # A bad --out must fail before the ingest, not after a publish.
    check_writable(report_target(settings, args.out))
    result = run_pipeline(
        settings,
        source=source,
        end_date=args.end_date,
        days=args.days,
        progress=console.progress,
        ingest_progress=ingest_progress(console),
        report_out=args.out,
        full_refresh=args.full_refresh,
    )
    if args.json:
        console.print(json.dumps(result.to_dict()))
    else:
        console.print(
            f"rows: raw {result.raw_rows}, parquet {result.parquet_rows}, "
            f"sans-dup {result.sans_dup_rows}"
        )
        console.print(_mode_line(result.incremental))
        console.print("checks:")
        for line in check_lines(result.checks):
            console.print(line)
        if result.published_table:
            console.print(f"published: {result.published_table} "
                          f"(view {settings.prod_latest_view})")
            if result.report:
                console.print(f"report: {result.report}")
        else:
            console.print("published: nothing (a blocking check failed)")
    if result.blocked:
        console.notice(f"stockpipe: {result.blocked}", level="error")
    _warn_misplaced(console, settings, result.raw.get("raw_misplaced"))
    _warn_report(console, result.published_table, result.report_error)
    return result.exit_code


def _warn_misplaced(console: Console, settings, keys) -> None:
    """The warning line for raw objects the raw table does not read (wrong folder depth)."""
    if keys:
        from ...status import misplaced_line

        console.notice(f"stockpipe: warning: {misplaced_line(settings, keys)}", level="warning")


def _warn_report(console: Console, published: object, error: object) -> None:
    """The one warning line of a publish whose report could not be written (exit code stays 0:
    rerunning the pipeline would only publish the same data again)."""
    if error:
        console.notice(
            f"stockpipe: warning: {published} was published, but the report was not written: "
            f"{error}; rebuild it with `stockpipe report`", level="warning"
        )


def cmd_ingest(args: argparse.Namespace, console: Console) -> int:
    from ...ingest import run_ingest

    settings = settings_from(args)
    source = announce_source(console, settings, args.source)
    summary = run_ingest(
        settings,
        source=source,
        end_date=args.end_date,
        days=args.days,
        progress=ingest_progress(console),
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


def _workflow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_step", choices=STEP_NAMES, default="crawl")
    _full_refresh_option(parser)
    json_option(parser)


def cmd_workflow(args: argparse.Namespace, console: Console) -> int:
    from ...runner import run_workflow_and_report

    settings = settings_from(args)
    require_raw_data(settings, "run the workflow on")

    def go(engine, storage) -> int:
        wf = run_workflow_and_report(
            settings, engine, storage, args.from_step, console.progress,
            full_refresh=args.full_refresh,
        )
        checks = [c.to_dict() for c in wf.quality.checks] if wf.quality else []
        summary = wf.incremental_summary()
        if args.json:
            console.print(json.dumps({
                "steps": [s.name for s in wf.steps],
                "checks": checks,
                "published_table": wf.published_table,
                "report": wf.report,
                "report_error": wf.report_error,
                **summary,
                **wf.raw_summary(),
            }))
        else:
            console.print("steps: " + ", ".join(s.name for s in wf.steps))
            console.print(_mode_line(summary))
            if checks:
                console.print("checks:")
                for line in check_lines(checks):
                    console.print(line)
            console.print(f"published: {wf.published_table or 'nothing'}")
            if wf.report:
                console.print(f"report: {wf.report}")
        if wf.blocked:
            console.notice(f"stockpipe: {wf.blocked}", level="error")
        _warn_misplaced(console, settings, wf.raw_summary()["raw_misplaced"])
        _warn_report(console, wf.published_table, wf.report_error)
        return wf.exit_code

    return with_engine(settings, go)


def cmd_checks(args: argparse.Namespace, console: Console) -> int:
    from ...steps import quality

    settings = settings_from(args)

    require_raw_data(settings, "check")

    def go(engine, storage) -> int:
        missing = [t for t in (settings.raw_table, settings.parquet_table, settings.sans_dup_table)
                   if not engine.table_exists(t)]
        if missing:
            raise NoDataYet(
                f"nothing to check yet: {', '.join(missing)} not in the catalog of "
                f"{settings.home}; run `stockpipe workflow` first",
                hint="run `stockpipe workflow` first",
            )
        from ...steps import verify_production

        result = quality(settings, engine, storage)
        # The checks judge the next copy; readers read the current one, which may be damaged.
        production = verify_production(settings, engine, storage)
        if args.json:
            console.print(json.dumps({**result.to_dict(), "production": production.to_dict()}))
        else:
            console.print(f"quality run {result.run_id}:")
            for line in check_lines([c.to_dict() for c in result.checks]):
                console.print(line)
        if not result.passed:
            return 3
        if not production.readable:
            console.notice(f"stockpipe: error: {production.message()}", level="error")
            return 1
        return 0

    return with_engine(settings, go)


def _prune_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep", type=keep_count, default=None,
        help="production archives to keep, newest first (default $STOCKPIPE_ARCHIVE_KEEP, 7); "
        "the one stock_aggregate_prod_latest reads is always kept",
    )
    json_option(parser)


def keep_count(text: str) -> int:
    from ...errors import ConfigError
    from ...settings import parse_archive_keep

    try:
        return parse_archive_keep("--keep", text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_prune(args: argparse.Namespace, console: Console) -> int:
    from ...steps import prune

    settings = settings_from(args)

    def go(engine, storage) -> int:
        result = prune(settings, engine, storage, keep=args.keep)
        if args.json:
            console.print(json.dumps({"kept": result.kept, "dropped": result.dropped,
                                      "deleted_objects": result.deleted_objects}))
        else:
            console.print(f"kept: {', '.join(result.kept) or 'none'}")
            console.print(f"dropped: {', '.join(result.dropped) or 'none'} "
                          f"({result.deleted_objects} files deleted)")
        return 0

    return with_engine(settings, go)


COMMANDS = (
    Command(
        "run", "ingest + whole workflow + report", cmd_run, _run_options,
        description="Ingest the window's bars, run the whole workflow (crawl, transform, dedup, "
        "quality, publish; incremental unless --full-refresh) and write report.html. Exit "
        "code 3 when a blocking quality check failed (nothing published).",
        examples=("stockpipe run", "stockpipe run --tickers AAPL,MSFT --days 30 --source demo",
                  "stockpipe run --json > run.json"),
    ),
    Command(
        "ingest", "pull bars into the raw lake only", cmd_ingest, source_options,
        description="Fetch the window's hourly bars (Polygon, or the offline demo source) into "
        "the raw lake, in the layout Firehose writes in the cloud.",
        examples=("stockpipe ingest --end-date 2026-11-20 --days 30",
                  "POLYGON_API_KEY=... stockpipe ingest --source polygon --tickers AAPL"),
    ),
    Command(
        "workflow", "run the workflow steps (no ingest)", cmd_workflow, _workflow_options,
        description="Run the workflow on the raw data already ingested, from a step on, then "
        "rebuild report.html when it published. Exit code 3 when a blocking check failed.",
        examples=("stockpipe workflow", "stockpipe workflow --from dedup --json",
                  "stockpipe workflow --full-refresh"),
    ),
    Command(
        "checks", "run the data-quality checks and record them", cmd_checks, json_option,
        needs_home=True,
        description="Run the data-quality checks on the current tables and record them in the "
        "check history (no publish). Exit code 3 when a blocking check failed.",
        examples=("stockpipe checks", "stockpipe checks --json"),
    ),
    Command(
        "prune", "drop all but the newest production archives", cmd_prune, _prune_options,
        description="Drop the production archives beyond the newest N (default "
        "STOCKPIPE_ARCHIVE_KEEP, 7): tables, partitions and files. The copy "
        "stock_aggregate_prod_latest reads is always kept.",
        examples=("stockpipe prune --keep 3", "stockpipe prune --json"),
    ),
)

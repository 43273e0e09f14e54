"""The commands that read the catalog: query, tables, report. Each holds the home's lock only
while it reads (the result is printed after), and waits a while for a writer to finish."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any, Callable, List

from ..console import Console
from ..output import format_rows
from ..parser import days
from .base import READ, Command, read_catalog, require_raw_data, settings_from


def _query_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sql", help='e.g. "SELECT * FROM stock_aggregate_prod_latest LIMIT 5"')
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")


def cmd_query(args: argparse.Namespace, console: Console) -> int:
    from ...engines.local.guard import reads_only
    from ...production import refuse_dropping_the_view_target

    settings = settings_from(args)

    def run(engine, storage):
        refuse_dropping_the_view_target(settings, engine, args.sql)
        return engine.execute(args.sql)

    # A SELECT opens the catalog read-only; CTAS, INSERT and DDL need it writable.
    result = read_catalog(args, console, settings, run, read_only=reads_only(args.sql))
    console.print(format_rows(result.columns, result.rows, args.format))
    return 0


def _tables_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--details", action="store_true",
                        help="rows, partitions, location and size of each table")


def table_details(settings, engine, names: List[str]) -> List[List[Any]]:
    """[name, kind, rows, partitions, location, size] of each table or view."""
    from ...status import local_size, partition_count
    from .status import size

    views = {str(r[0]) for r in engine.execute("SHOW VIEWS").rows}
    out = []
    for name in names:
        rows = engine.execute(f'SELECT count(*) FROM "{name}"').scalar()
        if name in views:
            out.append([name, "view", rows, None, None, None])
            continue
        entry = getattr(engine, "describe_table", lambda n: None)(name)
        location = getattr(entry, "location", None) or (
            settings.raw_uri if name == settings.raw_table else settings.table_location(name)
        )
        parts = partition_count(location)
        out.append([name, "table", rows, parts or None, location, size(local_size(location))])
    return out


def cmd_tables(args: argparse.Namespace, console: Console) -> int:
    settings = settings_from(args)

    def go(engine, storage):
        names = engine.list_tables()
        return table_details(settings, engine, names) if args.details else names

    found = read_catalog(args, console, settings, go, read_only=True)
    if args.details:
        columns = ["name", "kind", "rows", "partitions", "location", "size"]
        shown = [["-" if v is None else v for v in row] for row in found]
        console.print(format_rows(columns, shown, "table"))
    else:
        for name in found:
            console.print(name)
    return 0


def _day(flag: str) -> Callable[[str], date]:
    def parse(text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag} must be a date as YYYY-MM-DD, got {text!r}") from None

    return parse


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="output file (default <home>/reports/report.html)"
                        "; its pages and plotly.js go in <name>_files/ beside it")
    # Own dests: the report's range and tickers are its own, not the settings' ingest window.
    parser.add_argument("--tickers", dest="report_tickers", metavar="TICKERS",
                        help="comma-separated symbols to report (default: all with bars in the "
                             "range)")
    span = parser.add_mutually_exclusive_group()
    span.add_argument("--days", dest="report_days", metavar="N", type=days,
                      help="the last N days ending on the latest bar's day (default: all "
                           "published data, at most a year)")
    span.add_argument("--from", dest="report_from", metavar="YYYY-MM-DD", type=_day("--from"),
                      help="first exchange day (New York) to report")
    parser.add_argument("--to", dest="report_to", metavar="YYYY-MM-DD", type=_day("--to"),
                        help="last exchange day to report (default: the latest bar's day)")


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from ...production import ProductionUnreadable
    from ...report import build_report
    from ...steps import verify_production

    settings = settings_from(args)
    require_raw_data(settings, "report")

    def build(engine, storage):
        # A report of a copy that lost files would show less data as if it were all there.
        production = verify_production(settings, engine, storage)
        if not production.readable:
            raise ProductionUnreadable(f"no report written: {production.message()}")
        return build_report(
            settings, engine, args.out, tickers=args.report_tickers, days=args.report_days,
            date_from=args.report_from, date_to=args.report_to, progress=console.progress)

    page = read_catalog(args, console, settings, build, read_only=True)
    console.print(str(page))
    return 0


COMMANDS = (
    Command(
        "query", "run one Athena-dialect statement on the local engine", cmd_query,
        _query_options, lock=READ, needs_home=True,
        description="Run one statement in Athena's SQL dialect (Trino) on the local engine: "
        "SELECT, CTAS, CREATE VIEW, DROP, DESCRIBE, SHOW TABLES/PARTITIONS. Errors carry "
        "Athena's error names.",
        examples=('stockpipe query "SELECT * FROM stock_aggregate_prod_latest LIMIT 5"',
                  'stockpipe query --format csv "SELECT ticker, count(*) AS bars FROM '
                  'stock_aggregate_prod_latest GROUP BY 1" > bars.csv'),
    ),
    Command(
        "tables", "list tables and views", cmd_tables, _tables_options, lock=READ, needs_home=True,
        description="List the catalog's tables and views; --details adds rows, partitions, "
        "location and size on disk.",
        examples=("stockpipe tables", "stockpipe tables --details"),
    ),
    Command(
        "report", "write report.html from the production view", cmd_report, _report_options,
        lock=READ, needs_home=True,
        description="Write the self-contained report.html (the dashboard's panels per ticker "
        "and the quality results) from the production view, and print its path.",
        examples=("stockpipe report", "stockpipe report --out /tmp/stocks.html"),
    ),
)

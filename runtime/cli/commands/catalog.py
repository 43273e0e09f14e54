"""The commands that read the catalog: query, tables, report."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Callable

from ..console import Console
from ..output import format_rows
from ..parser import days
from .base import Command, settings_from, with_engine


def _query_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sql", help='e.g. "SELECT * FROM stock_aggregate_prod_latest LIMIT 5"')
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")


def cmd_query(args: argparse.Namespace, console: Console) -> int:
    settings = settings_from(args)

    def go(engine, storage) -> int:
        result = engine.execute(args.sql)
        console.print(format_rows(result.columns, result.rows, args.format))
        return 0

    return with_engine(settings, go)


def cmd_tables(args: argparse.Namespace, console: Console) -> int:
    settings = settings_from(args)

    def go(engine, storage) -> int:
        for name in engine.list_tables():
            console.print(name)
        return 0

    return with_engine(settings, go)


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
    from ...report import build_report

    settings = settings_from(args)

    def go(engine, storage) -> int:
        path = build_report(settings, engine, args.out, tickers=args.report_tickers,
                            days=args.report_days, date_from=args.report_from,
                            date_to=args.report_to, progress=console.progress)
        console.print(str(path))
        return 0

    return with_engine(settings, go)


COMMANDS = (
    Command("query", "run one Athena-dialect statement on the local engine", cmd_query,
            _query_options),
    Command("tables", "list tables and views", cmd_tables),
    Command("report", "write report.html from the production view", cmd_report, _report_options),
)

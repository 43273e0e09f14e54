"""The commands that read the catalog: query, tables, report."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..console import Console
from ..output import format_rows
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


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="output file (default <home>/reports/report.html)")


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from ...report import build_report

    settings = settings_from(args)

    def go(engine, storage) -> int:
        console.print(str(build_report(settings, engine, args.out)))
        return 0

    return with_engine(settings, go)


COMMANDS = (
    Command("query", "run one Athena-dialect statement on the local engine", cmd_query,
            _query_options),
    Command("tables", "list tables and views", cmd_tables),
    Command("report", "write report.html from the production view", cmd_report, _report_options),
)

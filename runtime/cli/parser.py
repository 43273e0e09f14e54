"""The argument parser, built from the command table (runtime/cli/commands): each command
brings its own options, so adding a command or an option is one edit in its module."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Sequence

if TYPE_CHECKING:
    from .commands.base import Command

SOURCES = ("auto", "polygon", "demo")


def end_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--end-date must be YYYY-MM-DD, got {text!r}") from None


def days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--days must be a whole number, got {text!r}") from None
    if not 1 <= value <= 3660:
        raise argparse.ArgumentTypeError(f"--days must be between 1 and 3660, got {value}")
    return value


def json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def source_options(parser: argparse.ArgumentParser) -> None:
    """What to ingest: `run` and `ingest` share these."""
    parser.add_argument("--tickers", help="comma-separated symbols, e.g. AAPL,MSFT,BRK.B")
    parser.add_argument("--days", type=days, help="window length in days (default 7)")
    parser.add_argument("--end-date", type=end_date, help="last day of the window (YYYY-MM-DD)")
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="polygon needs POLYGON_API_KEY; auto picks polygon when it is set, else demo",
    )
    json_option(parser)


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


class CliParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 1 (1 is every error that is not
    a failed quality check)."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build(commands: Sequence[Command]) -> argparse.ArgumentParser:
    """The `stockpipe` parser with one sub-command per entry of `commands`."""
    parser = CliParser(
        prog="stockpipe", description="Hourly stock aggregate bars, ingested, checked, published."
    )
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in commands:
        p = sub.add_parser(command.name, help=command.help)
        command.options(p)
        _common(p, suppress=True)
    return parser

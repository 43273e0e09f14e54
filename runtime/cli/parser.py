"""The argument parser, built from the command table (runtime/cli/commands): each command
brings its own options, so adding a command or an option is one edit in its module."""

from __future__ import annotations

import argparse
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Optional, Sequence

from .console import LOG_FORMATS

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


def _wait(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--wait must be a number of seconds, got {text!r}"
        ) from None
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"--wait must be between 0 and 86400, got {text}")
    return value


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options every command takes, before or after its name."""

    # Sub-commands use SUPPRESS so `stockpipe --home X run` is not overwritten by run's default.
    def default(value):
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--home",
        type=Path,
        default=default(None),
        help="folder for the local lake, catalog and reports "
        "(default $STOCKPIPE_HOME, else ./.stockpipe)",
    )
    parser.add_argument(
        "--debug", action="store_true", default=default(False), help="show tracebacks"
    )
    parser.add_argument(
        "--wait",
        type=_wait,
        default=default(None),
        metavar="SECONDS",
        help="how long to wait for another stockpipe process using the home (default: 0 for "
        "commands that write, 30 for query, tables, report and status)",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=default("text"),
        help="progress on stderr when it is not a terminal: text lines or JSON objects",
    )


def common_options(parser: argparse.ArgumentParser) -> None:
    """The options every command takes, for a command's own sub-commands (after their name)."""
    _common(parser, suppress=True)


class UsageError(SystemExit):
    """A bad command line: exit code 1, the reason already printed on stderr."""

    def __init__(self, message: str):
        super().__init__(1)
        self.message = message


class CliParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 1 (1 is every error that is not
    a failed quality check)."""

    def error(self, message: str) -> NoReturn:
        self._print_message(f"{self.prog}: error: {message} (see `{self.prog} --help`)\n",
                            sys.stderr)
        raise UsageError(message)


def _described(text: str) -> str:
    return "\n\n".join(textwrap.fill(p, 79) for p in text.split("\n\n"))


def _epilog(command: Command) -> Optional[str]:
    if not command.examples:
        return None
    return "examples:\n" + "\n".join(f"  {line}" for line in command.examples)


def build(commands: Sequence[Command], version: str) -> argparse.ArgumentParser:
    """The `stockpipe` parser with one sub-command per entry of `commands`."""
    parser = CliParser(
        prog="stockpipe",
        description="Hourly stock aggregate bars, ingested, checked, published.",
        epilog="`stockpipe COMMAND --help` describes a command, with examples.",
    )
    parser.add_argument("--version", action="version", version=f"stockpipe {version}")
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in commands:
        p = sub.add_parser(
            command.name,
            help=command.help,
            description=_described(command.description or command.help),
            epilog=_epilog(command),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.options(p)
        _common(p, suppress=True)
    return parser

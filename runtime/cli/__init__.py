"""The `stockpipe` command. Exit codes: 0 done/published, 3 a blocking quality check failed
(nothing published), 1 any other error, with a one-line cause on stderr.

The package by concern: `parser` (arguments), `console` (stdout/stderr and logging), `output`
(value formatting), `lock` (one process per home), `scheduler` (the daily jobs), `commands`
(one thin function per sub-command, listed in one table) and `app` (main)."""

from .app import build_parser, main
from .console import Console, ConsoleLog, runtime_logging
from .lock import LOCK_NAME, Holder, HomeBusy, home_lock, lock_holder
from .output import check_lines, format_rows
from .scheduler import SCHEDULED_LOCK_WAIT_SECONDS, build_scheduler, next_runs

__all__ = [
    "LOCK_NAME",
    "SCHEDULED_LOCK_WAIT_SECONDS",
    "Console",
    "ConsoleLog",
    "Holder",
    "HomeBusy",
    "build_parser",
    "build_scheduler",
    "check_lines",
    "format_rows",
    "home_lock",
    "lock_holder",
    "main",
    "next_runs",
    "runtime_logging",
]

"""The entry point: parse, route the logs, take the home's lock when the command needs it,
run the command, and turn whatever it raised into an exit code and one line on stderr."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from typing import List, Optional, Sequence, TextIO

from ..errors import StockpipeError
from . import parser as cli_parser
from .commands import BY_NAME, COMMANDS
from .commands.base import WRITE, lock_wait, require_home, settings_from
from .console import Console, one_line, runtime_logging
from .failures import error_object, report_failure
from .lock import home_lock
from .signals import Stopped, exit_code_of, stop_on_sigterm


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("stockpipe")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    return cli_parser.build(COMMANDS, version())


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion when the shell asks for it and argcomplete is installed (optional:
    `pip install 'stockpipe[completion]'`, then `eval "$(register-python-argcomplete
    stockpipe)"`); without it the command works the same, with no completion."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def _parse(parser: argparse.ArgumentParser, argv: List[str], out: TextIO) -> argparse.Namespace:
    try:
        return parser.parse_args(argv)
    except cli_parser.UsageError as exc:
        if "--json" in argv:
            print(error_object(exc.message, 1, "see `stockpipe --help`"), file=out, flush=True)
        raise


def main(
    argv: Optional[Sequence[str]] = None,
    stdout: Optional[TextIO] = None,
    stderr: Optional[TextIO] = None,
) -> int:
    """Entry point of the `stockpipe` console script; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    _complete(parser)
    args = _parse(parser, words, out)
    json_mode = bool(getattr(args, "json", False))
    console = Console(out, err, json_mode=json_mode, log_format=args.log_format)
    command = BY_NAME[args.command]
    with stop_on_sigterm() as signals:
        try:
            with runtime_logging(console, bool(args.debug)):
                if command.needs_home:
                    require_home(settings_from(args))
                if command.lock == WRITE:
                    with home_lock(settings_from(args).home, wait_seconds=lock_wait(args, 0.0),
                                   command=command.name,
                                   on_wait=lambda line: console.notice(f"stockpipe: {line}")):
                        return command.run(args, console)
                return command.run(args, console)
        except KeyboardInterrupt as exc:
            return _interrupted(out, err, exc, json_mode, console)
        except BrokenPipeError:
            # `stockpipe query ... | head`: the reader left; say nothing more on a closed pipe.
            if out is sys.stdout:
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except Exception as exc:  # noqa: BLE001 - the CLI's promise: one line unless --debug
            interrupt = signals.stopped()
            if interrupt is None:
                return _failed(out, err, exc, bool(args.debug), json_mode, console)
            # the engine's own error for the statement the signal cut short
            if args.debug:
                traceback.print_exc(file=err)
            return _interrupted(out, err, interrupt, json_mode, console)


def _interrupted(out: TextIO, err: TextIO, exc: KeyboardInterrupt, json_mode: bool,
                 console: Console) -> int:
    what = f"stopped ({exc.name})" if isinstance(exc, Stopped) else "interrupted (SIGINT)"
    return report_failure(out, err, what, exit_code_of(exc), exc=exc, json_mode=json_mode,
                          line=f"stockpipe: {what}", console=console)


def _failed(out: TextIO, err: TextIO, exc: Exception, debug: bool, json_mode: bool,
            console: Console) -> int:
    """One line (the traceback too under --debug) and the exit code of what `exc` is."""
    if debug:
        traceback.print_exc(file=err)
    if isinstance(exc, StockpipeError):
        return report_failure(out, err, one_line(exc), exc.exit_code, exc=exc,
                              json_mode=json_mode, console=console)
    return report_failure(out, err, f"{type(exc).__name__}: {one_line(exc)}", 1, exc=exc,
                          json_mode=json_mode, console=console)

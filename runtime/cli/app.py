"""The entry point: parse, route the logs, take the home's lock when the command needs it,
run the command, and turn whatever it raised into an exit code and one line on stderr."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from typing import Optional, Sequence, TextIO

from ..errors import StockpipeError
from . import parser as cli_parser
from .commands import BY_NAME, COMMANDS
from .commands.base import settings_from
from .console import Console, one_line, runtime_logging
from .lock import home_lock


def build_parser() -> argparse.ArgumentParser:
    return cli_parser.build(COMMANDS)


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
    command = BY_NAME[args.command]
    try:
        with runtime_logging(console, bool(args.debug)):
            if command.locks_home:
                with home_lock(settings_from(args).home):
                    return command.run(args, console)
            return command.run(args, console)
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
        print(f"stockpipe: error: {one_line(exc)}", file=err)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the CLI's promise: one line unless --debug
        if args.debug:
            traceback.print_exc(file=err)
        print(f"stockpipe: error: {type(exc).__name__}: {one_line(exc)}", file=err)
        return 1

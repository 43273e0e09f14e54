"""Where output goes: results on stdout, progress and notices on stderr, and the `runtime`
loggers routed to the same place for the length of one command."""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator, TextIO


def one_line(exc: BaseException) -> str:
    """An exception's message as one line (its own text may run to several)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class Console:
    """Results on stdout, progress and notices on stderr (progress on a TTY)."""

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


class ConsoleLog(logging.Handler):
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
def runtime_logging(console: Console, debug: bool) -> Iterator[None]:
    """Route the `runtime` loggers to the console for one command (Python's last-resort
    handler would print every warning, e.g. each retry, as a bare extra line)."""
    logger = logging.getLogger("runtime")
    handler = ConsoleLog(console, debug)
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

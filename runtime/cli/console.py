"""Where output goes: results on stdout; on stderr, progress and notices. A person at a
terminal sees progress as short lines; anywhere else (cron, CI, `| tee`) progress becomes log
lines with a UTC time and a level, as text or, with `--log-format json`, one JSON object each.
The `runtime` loggers are routed to the same place for the length of one command."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, TextIO

LOG_FORMATS = ("text", "json")
# Colour and cursor codes (some engine and parser messages underline the bad token): an error
# line is read in logs, mail and JSON, where they are noise.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def plain(text: str) -> str:
    """`text` without terminal escape codes, on one line."""
    return " ".join(_ANSI.sub("", text).split())


def one_line(exc: BaseException) -> str:
    """An exception's message as one plain line (its own text may run to several)."""
    return plain(str(exc)) or type(exc).__name__


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Console:
    """Results on stdout; progress, notices and log lines on stderr."""

    def __init__(
        self,
        out: TextIO,
        err: TextIO,
        json_mode: bool,
        log_format: str = "text",
        clock: Callable[[], str] = _utc_now,
    ):
        self.out = out
        self.err = err
        self.json_mode = json_mode
        self.log_format = log_format
        self.clock = clock
        # Someone watches stderr: short progress lines (none under --json, whose reader is a
        # program); else every progress line is a log line.
        self.live = bool(getattr(err, "isatty", lambda: False)())

    def progress(self, message: str, **fields: Any) -> None:
        if self.live:
            if not self.json_mode:
                print(message, file=self.err, flush=True)
        else:
            self.log("info", message, **fields)

    def log(self, level: str, message: str, **fields: Any) -> None:
        """One log line: '<UTC time> <level> <message>', or a JSON object with the fields."""
        text = plain(message)
        if self.log_format == "json":
            record: Dict[str, Any] = {"time": self.clock(), "level": level, "message": text}
            record.update(fields)
            line = json.dumps(record, default=str)
        else:
            line = f"{self.clock()} {level:<7} {text}"
        print(line, file=self.err, flush=True)

    def notice(self, message: str, level: str = "info") -> None:
        """A line for the person or program watching stderr. Under `--log-format json` off a
        terminal it is a log record like every other stderr line, so a reader that parses each
        line as JSON never meets plain text."""
        if self.log_format == "json" and not self.live:
            text = message
            for prefix in ("stockpipe: ", f"{level}: "):
                if text.startswith(prefix):
                    text = text[len(prefix):]
            self.log(level, text)
            return
        print(message, file=self.err, flush=True)

    def print(self, message: str = "") -> None:
        print(message, file=self.out)


# LogRecord's own attributes: the rest of a record's __dict__ is what `extra=` added.
_RECORD_KEYS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class ConsoleLog(logging.Handler):
    """runtime's log records on the console: INFO and up as progress (bars fetched, rate-limit
    waits, retries, skipped tickers), errors always; with --debug every record with its level
    and logger. Off a terminal they are log lines, with the record's extra fields in JSON.
    Messages never carry the key."""

    def __init__(self, console: Console, debug: bool):
        super().__init__(logging.DEBUG if debug else logging.INFO)
        self.console = console
        self.debug = debug

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = plain(record.getMessage())
        except Exception:  # noqa: BLE001 - a bad log call must not break the command
            return
        level = record.levelname.lower()
        if not self.console.live:
            fields = {k: v for k, v in vars(record).items() if k not in _RECORD_KEYS}
            if self.debug:
                fields["logger"] = record.name
            self.console.log(level, message, **fields)
        elif self.debug:
            self.console.notice(f"{level}: {record.name}: {message}")
        elif record.levelno >= logging.ERROR:
            self.console.notice(f"stockpipe: {message}", level="error")
        elif record.levelno >= logging.INFO:
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


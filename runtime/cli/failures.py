"""How a failed command ends: one plain line on stderr, and under `--json` also one object
`{"error", "exit_code", "hint"}` on stdout, so a program reading stdout learns it failed."""

from __future__ import annotations

import json
from typing import Any, Optional, TextIO, Tuple, Type

from ..errors import (
    AuthError,
    ConfigError,
    DeliveryError,
    EngineError,
    QualityCheckFailed,
    SourceError,
    StockpipeError,
    StorageError,
)
from .lock import HomeBusy


class NoDataYet(StockpipeError):
    """The home lacks the data a command needs; `hint` names the command to run first."""

    def __init__(self, message: str, hint: str = "run `stockpipe ingest` (or `stockpipe run`) "
                 "first"):
        super().__init__(message)
        self.hint = hint


class HomeMissing(NoDataYet):
    """The home a command should read does not exist, or is not a folder."""

    def __init__(self, message: str, hint: str = "pass the home folder with --home (or "
                 "$STOCKPIPE_HOME); `stockpipe run` creates a new one"):
        super().__init__(message, hint)


# The first class an error is an instance of gives its hint: specific classes first.
_HINTS: Tuple[Tuple[Type[BaseException], str], ...] = (
    (HomeBusy, "wait for the other process (`stockpipe status` names it), or use another --home"),
    (QualityCheckFailed, "`stockpipe checks` lists the checks; fix the data, then rerun "
     "`stockpipe workflow`"),
    (AuthError, "set POLYGON_API_KEY to a valid key, or pass --source demo"),
    (SourceError, "check the network and POLYGON_BASE_URL, or try again later"),
    (DeliveryError, "check the lake is writable (or the Firehose stream exists), then rerun"),
    (EngineError, "`stockpipe tables` lists the catalog; `stockpipe query --help` shows examples"),
    (ConfigError, "`stockpipe COMMAND --help` shows the accepted values"),
    (StorageError, "check the home folder exists and is writable"),
    (KeyboardInterrupt, "rerun the command when ready: every step is safe to rerun"),
)


def hint_for(exc: Optional[BaseException]) -> str:
    """What to do about `exc`: its own hint when it carries one, else its class's."""
    if isinstance(getattr(exc, "hint", None), str):
        return exc.hint
    for cls, hint in _HINTS:
        if isinstance(exc, cls):
            return hint
    return "rerun with --debug for the traceback"


def error_object(error: str, exit_code: int, hint: str) -> str:
    return json.dumps({"error": error, "exit_code": exit_code, "hint": hint})


def report_failure(
    out: TextIO, err: TextIO, error: str, exit_code: int, *, exc: Optional[BaseException] = None,
    json_mode: bool = False, line: Optional[str] = None, console: Any = None,
) -> int:
    """'stockpipe: error: <error>' (or `line`) on stderr, the JSON object on stdout under
    --json; returns `exit_code`. With a `console` logging JSON off a terminal, the stderr line
    is a log record (level error, with the exit code) like the command's other lines."""
    text = line or f"stockpipe: error: {error}"
    if console is not None and console.log_format == "json" and not console.live:
        console.log("error", error if line is None else text.replace("stockpipe: ", "", 1),
                    exit_code=exit_code)
    else:
        print(text, file=err, flush=True)
    if json_mode:
        print(error_object(error, exit_code, hint_for(exc)), file=out, flush=True)
    return exit_code

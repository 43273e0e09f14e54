"""What every command is made of, and the few things several commands share."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Tuple

from ..console import Console
from ..failures import HomeMissing, NoDataYet
from ..lock import home_lock

# How a command uses the home's lock. WRITE: held for the whole command, and a busy home fails
# at once (a second writer would change the lake under the first). READ: the command takes it
# through read_catalog only while it reads the catalog, waiting a while for a writer to end.
# NONE: the command takes it itself when it needs it (the scheduler, per job).
WRITE, READ, NONE = "write", "read", "none"
READ_LOCK_WAIT_SECONDS = 30.0


def _no_options(parser: argparse.ArgumentParser) -> None:
    return None


@dataclass(frozen=True)
class Command:
    """One `stockpipe` sub-command: its name and help line, its options, what it runs, how it
    uses the home's lock, and the description and examples of its --help page."""

    name: str
    help: str
    run: Callable[[argparse.Namespace, Console], int]
    options: Callable[[argparse.ArgumentParser], None] = _no_options
    lock: str = WRITE
    description: str = ""
    examples: Tuple[str, ...] = ()
    # True for a command that only looks at what the home holds: it must not create the home
    # (a mistyped --home would otherwise become a new, empty home that "has nothing").
    needs_home: bool = False


def settings_from(args: argparse.Namespace):
    from ...settings import Settings

    overrides = {
        "home": getattr(args, "home", None),
        "tickers": getattr(args, "tickers", None),
        "window_days": getattr(args, "days", None),
    }
    return Settings.from_env(**overrides)


def with_engine(settings, fn: Callable[[Any, Any], Any], read_only: bool = False) -> Any:
    """fn(engine, storage) on the home's engine, closed afterwards; `read_only` for commands
    that only read (the catalog file is then not written: they work on a full disk)."""
    from ...engines import make_engine, make_storage

    engine = make_engine(settings, read_only=read_only)
    try:
        return fn(engine, make_storage(settings))
    finally:
        engine.close()


def require_home(settings) -> None:
    """Fail naming the path when the local home is missing or not a folder (a command that
    only reads must not create it). A cloud home (Athena) holds only the lock: not checked."""
    if settings.athena_workgroup:
        return
    home = Path(settings.home)
    if home.is_dir():
        return
    if home.exists() or home.is_symlink():
        raise HomeMissing(
            f"the stockpipe home {home} is not a folder; pass the home folder with --home "
            "(or $STOCKPIPE_HOME)",
            hint="pass the home folder with --home (or $STOCKPIPE_HOME)",
        )
    raise HomeMissing(
        f"the stockpipe home {home} does not exist; pass the right --home (or "
        "$STOCKPIPE_HOME), or create it with `stockpipe ingest` or `stockpipe run`",
    )


def lock_wait(args: argparse.Namespace, default: float) -> float:
    wait = getattr(args, "wait", None)
    return default if wait is None else float(wait)


def read_catalog(
    args: argparse.Namespace, console: Console, settings, fn: Callable, read_only: bool = False
) -> Any:
    """fn(engine, storage) holding the home's lock only meanwhile, after waiting up to --wait
    (default 30 s) for a process that holds it; `read_only` as for with_engine."""
    wait = lock_wait(args, READ_LOCK_WAIT_SECONDS)
    with home_lock(settings.home, wait_seconds=wait, command=args.command,
                   on_wait=lambda line: console.notice(f"stockpipe: {line}")):
        return with_engine(settings, fn, read_only=read_only)


def require_raw_data(settings, what: str) -> None:
    """Fail with what to run first when the home has no raw data (an empty home would
    otherwise run every step and fail on an empty table)."""
    from ...storage import storage_for

    if storage_for(settings.raw_uri, region=settings.aws_region).is_empty(settings.raw_uri):
        raise NoDataYet(
            f"nothing to {what} yet: no raw data in {settings.raw_uri}; run `stockpipe ingest` "
            "first (or `stockpipe run`, which ingests, runs the workflow and writes the report)"
        )


def ingest_progress(console: Console) -> Callable[[str, int, int], None]:
    """run_ingest calls this as each ticker starts; the free tier makes each one slow."""

    def report(ticker: str, index: int, total: int) -> None:
        console.progress(f"ingest: [{index}/{total}] {ticker}", ticker=ticker, index=index,
                         total=total)

    return report


def announce_source(console: Console, settings, requested: str) -> str:
    from ...ingest import resolve_source

    chosen = resolve_source(settings, requested)
    if requested == "auto":
        why = "POLYGON_API_KEY is set" if chosen == "polygon" else "POLYGON_API_KEY is not set"
        console.notice(f"source: {chosen} (auto: {why})")
    return chosen

"""What every command is made of, and the few things several commands share."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable

from ..console import Console


def _no_options(parser: argparse.ArgumentParser) -> None:
    return None


@dataclass(frozen=True)
class Command:
    """One `stockpipe` sub-command: its name and help line, its options, what it runs, and
    whether it takes the home's lock (it opens the catalog or writes the lake)."""

    name: str
    help: str
    run: Callable[[argparse.Namespace, Console], int]
    options: Callable[[argparse.ArgumentParser], None] = _no_options
    locks_home: bool = True


def settings_from(args: argparse.Namespace):
    from ...settings import Settings

    overrides = {
        "home": getattr(args, "home", None),
        "tickers": getattr(args, "tickers", None),
        "window_days": getattr(args, "days", None),
    }
    return Settings.from_env(**overrides)


def with_engine(settings, fn: Callable[[Any, Any], Any]) -> Any:
    """fn(engine, storage) on the home's engine, closed afterwards."""
    from ...engines import make_engine, make_storage

    engine = make_engine(settings)
    try:
        return fn(engine, make_storage(settings))
    finally:
        engine.close()


def ingest_progress(console: Console) -> Callable[[str, int, int], None]:
    """run_ingest calls this as each ticker starts; the free tier makes each one slow."""

    def report(ticker: str, index: int, total: int) -> None:
        console.progress(f"ingest: [{index}/{total}] {ticker}")

    return report


def announce_source(console: Console, settings, requested: str) -> str:
    from ...ingest import resolve_source

    chosen = resolve_source(settings, requested)
    if requested == "auto":
        why = "POLYGON_API_KEY is set" if chosen == "polygon" else "POLYGON_API_KEY is not set"
        console.notice(f"source: {chosen} (auto: {why})")
    return chosen

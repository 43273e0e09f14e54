"""`stockpipe schedule`: the daily ingest and workflow, in the foreground, until stopped."""

from __future__ import annotations

import argparse
import contextlib

from ..console import Console
from ..scheduler import INGEST_AT, SCHEDULE_TZ, WORKFLOW_AT, build_scheduler, next_runs
from .base import Command, announce_source, settings_from


def cmd_schedule(args: argparse.Namespace, console: Console) -> int:
    settings = settings_from(args)
    announce_source(console, settings, "auto")
    scheduler = build_scheduler(settings, console)
    console.notice(
        f"scheduled: ingest {INGEST_AT[0]:02d}:{INGEST_AT[1]:02d} and workflow "
        f"{WORKFLOW_AT[0]:02d}:{WORKFLOW_AT[1]:02d} {SCHEDULE_TZ} for "
        f"{', '.join(settings.tickers)} in {settings.home}; Ctrl-C stops"
    )
    for line in next_runs(scheduler):
        console.notice(f"next {line}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with contextlib.suppress(Exception):
            scheduler.shutdown(wait=False)
    # On a terminal the ^C echo ends no line: start a fresh one.
    console.notice(("\n" if console.live else "") + "schedule: stopped")
    return 0


COMMANDS = (
    # Each job takes the lock itself, so the schedule does not hold the home between jobs.
    Command("schedule", f"ingest 11:00 and workflow 12:00 {SCHEDULE_TZ}, forever", cmd_schedule,
            locks_home=False),
)

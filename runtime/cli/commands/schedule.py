"""`stockpipe schedule`: the daily ingest and workflow, in the foreground, until stopped."""

from __future__ import annotations

import argparse
import contextlib

from ..console import Console
from ..scheduler import INGEST_AT, SCHEDULE_TZ, WORKFLOW_AT, build_scheduler, next_runs
from .base import NONE, Command, announce_source, settings_from


def _schedule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tickers", help="comma-separated symbols each job ingests and checks "
                        "(default $STOCKPIPE_TICKERS, else AAPL)")


def cmd_schedule(args: argparse.Namespace, console: Console) -> int:
    settings = settings_from(args)
    announce_source(console, settings, "auto")
    scheduler = build_scheduler(settings, console)
    console.notice(
        f"scheduled: ingest {INGEST_AT[0]:02d}:{INGEST_AT[1]:02d} and workflow "
        f"{WORKFLOW_AT[0]:02d}:{WORKFLOW_AT[1]:02d} {SCHEDULE_TZ} for "
        f"{', '.join(settings.tickers)} in {settings.home}; Ctrl-C or SIGTERM stops"
    )
    for line in next_runs(scheduler):
        console.notice(f"next {line}")
    try:
        scheduler.start()
    finally:
        with contextlib.suppress(Exception):
            scheduler.shutdown(wait=False)
    # A job that was stopped by a signal shut the scheduler down: end as that signal says.
    stopped = getattr(scheduler, "stop_signal", None)
    if stopped is not None:
        raise stopped
    return 0


COMMANDS = (
    Command(
        "schedule", f"ingest 11:00 and workflow 12:00 {SCHEDULE_TZ}, forever", cmd_schedule,
        # Each job takes the lock itself, so the schedule does not hold the home between jobs.
        options=_schedule_options, lock=NONE,
        description=f"Run the cloud's daily timetable locally: ingest at 11:00 and the "
        f"workflow (with the report) at 12:00 {SCHEDULE_TZ}, daylight saving included, until "
        "Ctrl-C or SIGTERM (exit 130 or 143). A job that finds the home busy waits up to 30 "
        "minutes for it.",
        examples=("stockpipe schedule --tickers AAPL,MSFT",
                  "nohup stockpipe schedule --log-format json >> schedule.log 2>&1 &"),
    ),
)

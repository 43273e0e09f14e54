"""The local scheduler: the cloud's two EventBridge Scheduler times, in the same time zone, run
in-process by APScheduler."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any, Callable, List, Optional

from ..errors import StockpipeError
from .console import Console, one_line
from .lock import home_lock

SCHEDULE_TZ = "America/New_York"
INGEST_AT = (11, 0)
WORKFLOW_AT = (12, 0)
# A scheduled job that finds the home busy (a manual `run`) waits this long before giving up.
SCHEDULED_LOCK_WAIT_SECONDS = 30 * 60


def next_runs(scheduler, now: Optional[datetime] = None) -> List[str]:
    """'ingest: Mon 2026-11-30 11:00 EST (16:00 UTC)' for each scheduled job, soonest first."""
    from datetime import timezone

    now = now or datetime.now(timezone.utc)
    found = []
    for job in scheduler.get_jobs():
        when = job.trigger.get_next_fire_time(None, now)
        if when is not None:
            found.append((when, job.id))
    return [
        f"{job_id}: {when:%a %Y-%m-%d %H:%M %Z} ({when.astimezone(timezone.utc):%H:%M} UTC)"
        for when, job_id in sorted(found)
    ]


def build_scheduler(
    settings,
    console: Console,
    scheduler_cls: Any = None,
    lock_wait_seconds: float = SCHEDULED_LOCK_WAIT_SECONDS,
):
    """The local scheduler: ingest 11:00 and workflow 12:00 America/New_York (DST-correct).

    Each job takes the home's lock (waiting up to `lock_wait_seconds` for a manual run to
    finish), reports one line, and never raises into the scheduler (which would print a
    traceback); the workflow job rebuilds report.html after it publishes, as `run` does."""
    from zoneinfo import ZoneInfo

    from apscheduler.executors.debug import DebugExecutor
    from apscheduler.triggers.cron import CronTrigger

    if scheduler_cls is None:
        from apscheduler.schedulers.blocking import BlockingScheduler

        scheduler_cls = BlockingScheduler
    tz = ZoneInfo(SCHEDULE_TZ)
    # Jobs run in the scheduler's own thread, which for `stockpipe schedule` is the main one:
    # there SIGTERM and Ctrl-C reach a running job, which then stops cleanly (a worker thread
    # would go on writing after the process was told to stop).
    scheduler = scheduler_cls(timezone=tz, executors={"default": DebugExecutor()})

    def ingest_job() -> str:
        from ..ingest import run_ingest

        summary = run_ingest(settings, source="auto")
        return f"{summary.bars} bars from {summary.source}"

    def workflow_job() -> str:
        from ..engines import make_engine, make_storage
        from ..runner import run_workflow_and_report

        engine = make_engine(settings)
        try:
            wf = run_workflow_and_report(settings, engine, make_storage(settings))
        finally:
            engine.close()
        if wf.blocked:
            return f"published nothing ({wf.blocked})"
        if wf.report_error:
            return f"published {wf.published_table}; report not written: {wf.report_error}"
        return f"published {wf.published_table}; report {wf.report}"

    def guarded(job_id: str, fn: Callable[[], str]) -> Callable[[], None]:
        def run() -> None:
            try:
                with home_lock(settings.home, wait_seconds=lock_wait_seconds, command=job_id):
                    console.notice(f"scheduled {job_id}: {fn()}")
            except KeyboardInterrupt as exc:
                # APScheduler would log and swallow it: stop the schedule, and let
                # `stockpipe schedule` end with the signal's exit code.
                console.notice(f"scheduled {job_id}: stopped before it finished")
                scheduler.stop_signal = exc
                with contextlib.suppress(Exception):  # not running: nothing to stop
                    scheduler.shutdown(wait=False)
                return
            except Exception as exc:  # noqa: BLE001 - one line, and the schedule keeps going
                name = "" if isinstance(exc, StockpipeError) else f"{type(exc).__name__}: "
                console.notice(f"scheduled {job_id}: failed: {name}{one_line(exc)}")
            for line in next_runs(scheduler):
                if line.startswith(f"{job_id}:"):
                    console.notice(f"next {line}")

        return run

    for job_id, fn, (hour, minute) in (
        ("ingest", ingest_job, INGEST_AT),
        ("workflow", workflow_job, WORKFLOW_AT),
    ):
        scheduler.add_job(
            guarded(job_id, fn),
            CronTrigger(hour=hour, minute=minute, timezone=tz),
            id=job_id,
            name=f"stockpipe {job_id}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    return scheduler

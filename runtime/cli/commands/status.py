"""`stockpipe status`: is the data current? Exit 0 when it is, 2 when it is stale, the last
quality run failed or nothing was published, so cron and monitoring can act on it."""

from __future__ import annotations

import argparse
import json
from typing import Any, Dict, List, Optional

from ..console import Console, one_line
from ..lock import HomeBusy, lock_holder
from ..parser import json_option
from .base import READ, Command, read_catalog, settings_from


def _status_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tickers", help="the tickers expected to be current (default "
                        "$STOCKPIPE_TICKERS, else AAPL)")
    json_option(parser)


def size(value: Optional[int]) -> str:
    if value is None:
        return "-"
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{value} B"  # pragma: no cover - the loop always returns


def _lock_line(lock: Optional[Dict[str, Any]]) -> str:
    if not lock:
        return "lock: free"
    who = f"PID {lock['pid']}" if lock.get("pid") else "another process"
    if lock.get("command"):
        who += f": stockpipe {lock['command']}"
        if lock.get("since"):
            who += f" since {lock['since']}"
    return f"lock: held by {who}"


def status_lines(status: Dict[str, Any]) -> List[str]:
    """The status as a person reads it."""
    lines = [f"state: {status['state']}"]
    lines += [f"  {p}" for p in status["problems"]]
    lines += [f"  warning: {w}" for w in status.get("warnings") or []]
    pub = status["last_publish"]
    if pub:
        lines.append(f"last publish: {pub['table']} at {pub['published_at']}, {pub['rows']} rows "
                     f"(view {pub['view']})")
    fresh = status["freshness"]
    if fresh:
        lines.append(f"freshness (last completed session {fresh['last_completed_session']}):")
        width = max(len(t["ticker"]) for t in fresh["tickers"]) if fresh["tickers"] else 0
        for t in fresh["tickers"]:
            verdict = "current" if t["current"] else "STALE"
            lines.append(f"  {t['ticker'].ljust(width)}  latest bar {t['latest_bar'] or 'none'}"
                         f"  {verdict}")
    checks = status["checks"]
    if checks:
        verdict = "passed" if checks["passed"] else f"FAILED ({', '.join(checks['failed'])})"
        warn = f"; warnings: {', '.join(checks['warnings'])}" if checks["warnings"] else ""
        lines.append(f"checks: run {checks['run_id']} {verdict}, {len(checks['checks'])} "
                     f"checks{warn}")
    elif status["archives"] is not None:
        lines.append("checks: none recorded")
    arch = status["archives"]
    if arch is not None:
        lines.append(f"archives: {arch['kept']} kept, {size(arch['bytes'])}")
    disk = status["disk_bytes"]
    objects = status.get("raw_objects")
    raw = f"raw {size(disk['raw'])}" + (
        f" in {objects} object{'s' if objects != 1 else ''}" if objects is not None else "")
    lines.append(f"disk: home {size(disk['home'])} ({raw}, curated {size(disk['curated'])}, "
                 f"archive {size(disk['archive'])})")
    lines.append(_lock_line(status["lock"]))
    s = status["settings"]
    lines.append(f"settings: tickers {','.join(s['tickers'])}; window {s['window_days']} days; "
                 f"source {s['source']}; partitions by {s['partition_granularity']}; "
                 f"home {s['home']}")
    return lines


def cmd_status(args: argparse.Namespace, console: Console) -> int:
    from ...status import EMPTY, collect_status, exit_code

    settings = settings_from(args)
    note = None
    if not settings.athena_workgroup and not settings.catalog_path.exists():
        # Opening the local catalog would create it: a fresh home has nothing to show.
        status = collect_status(settings, None)
        status.update(state=EMPTY, problems=["nothing published yet: no catalog in the home"])
    else:
        try:
            status = read_catalog(args, console, settings,
                                  lambda engine, storage: collect_status(settings, engine, storage),
                                  read_only=True)
        except HomeBusy as exc:
            holder = lock_holder(settings.home)
            status = collect_status(settings, None, lock=holder.to_dict() if holder else None)
            note = f"stockpipe: data status unknown: {one_line(exc)}"
    if status["lock"] is None:
        holder = lock_holder(settings.home)
        status["lock"] = holder.to_dict() if holder else None
    if args.json:
        console.print(json.dumps(status, default=str))
    else:
        for line in status_lines(status):
            console.print(line)
    if note:
        console.notice(note, level="warning")
    return exit_code(status)


COMMANDS = (
    Command(
        "status", "is the data current? last publish, freshness, checks, disk, lock", cmd_status,
        _status_options, lock=READ, needs_home=True,
        description="Show the last publish, each ticker's newest bar against the last "
        "completed NYSE session, the latest quality run, the archives kept and the disk they "
        "use, who holds the home's lock and the settings in force.\n\nExit code: 0 current, "
        "2 stale, failed checks or nothing published, 1 when the catalog could not be read.",
        examples=("stockpipe status", "stockpipe status --tickers AAPL,MSFT --json | jq .state",
                  "stockpipe status || mail -s 'stock data not current' ops@example.com"),
    ),
)

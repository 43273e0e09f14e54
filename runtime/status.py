"""Is the data current? One dictionary with the last publish, each ticker's freshness against
the exchange calendar, the latest quality run, the archives kept and the disk they use, and the
settings in force: `stockpipe status` prints it, the report can show it as a section."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

from .engines.base import Engine
from .settings import Settings
from .storage import local_path

CURRENT, STALE, FAILED, EMPTY = "current", "stale", "failed", "never published"
# The production view's table is gone or its files are not what publish wrote.
UNREADABLE = "unreadable"


def local_size(uri: str) -> Optional[int]:
    """Bytes of the files under a local path or file:// URI; None for S3 (not measured)."""
    if "://" in uri and not uri.startswith("file://"):
        return None
    root = local_path(uri)
    if root.is_file():
        return root.stat().st_size
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:  # removed while we walk (a rerun's reset)
                continue
    return total


def partition_count(uri: str) -> Optional[int]:
    """Hive partitions (`key=value/...` folders holding files) under a local table location;
    0 for an unpartitioned table, None for S3."""
    if "://" in uri and not uri.startswith("file://"):
        return None
    root = local_path(uri)
    found = set()
    for dirpath, _dirs, files in os.walk(root):
        parts = Path(dirpath).relative_to(root).parts
        if files and parts and all("=" in p for p in parts):
            found.add(parts)
    return len(found)


def _stamp_time(settings: Settings, table: str) -> Optional[str]:
    stamp = table[len(settings.table("prod_")):]
    try:
        moment = datetime.strptime(stamp, "%Y%m%d_%H%M%S")
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def archives(settings: Settings, tables: List[str]) -> List[str]:
    """The production copies in the catalog, newest first (the view is not one)."""
    # Not the view, and not an archive's `_splits` companion: the timestamped names only.
    pattern = re.compile(rf"^{re.escape(settings.table('prod_'))}\d{{8}}_\d{{6}}$")
    return sorted((t for t in tables if pattern.match(t)), reverse=True)


def _freshness(settings: Settings, engine: Engine, now: datetime) -> Dict[str, Any]:
    from .exchange_calendar import last_completed_session, session_start_utc
    from .sql_files import render

    session = last_completed_session(now)
    since = session_start_utc(session)
    latest = {
        str(r[0]): (r[1], int(r[2]))
        for r in engine.execute(render("status_latest_bars.sql",
                                       view=settings.prod_latest_view)).rows
    }
    tickers = []
    # The configured tickers are expected; others still in production are shown too.
    for ticker in list(settings.tickers) + sorted(set(latest) - set(settings.tickers)):
        bar, bars = latest.get(ticker, (None, 0))
        tickers.append({
            "ticker": ticker,
            "latest_bar": bar.strftime("%Y-%m-%dT%H:%M:%SZ") if bar is not None else None,
            "bars": bars,
            "current": bar is not None and bar >= since,
        })
    return {
        "rows": sum(bars for _, bars in latest.values()),
        "last_completed_session": session.isoformat(),
        "current_since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tickers": tickers,
    }


def _production(settings: Settings, engine: Engine, storage: Any, kept: List[str],
                status: Dict[str, Any]) -> Any:
    """Fill `last_publish` and `production` (is the view's table readable in full? None
    without a storage to look at)."""
    production = None
    if storage is not None:
        from .steps import verify_production

        production = verify_production(settings, engine, storage)
        status["production"] = production.to_dict()
    newest = kept[0] if kept else (production.table if production else None)
    status["last_publish"] = {
        "table": newest,
        "view": settings.prod_latest_view,
        "published_at": _stamp_time(settings, newest) if newest else None,
        "rows": production.rows if production else None,
    }
    return production


def _checks(settings: Settings, engine: Engine) -> Optional[Dict[str, Any]]:
    from .steps import latest_quality

    latest = latest_quality(settings, engine)
    if latest is None:
        return None
    return {
        "run_id": latest.run_id,
        "passed": latest.passed,
        "failed": [c.name for c in latest.failed_errors],
        "warnings": [c.name for c in latest.failed_warnings],
        "checks": [c.to_dict() for c in latest.checks],
    }


def settings_in_force(settings: Settings) -> Dict[str, Any]:
    """The settings a run would use (never the key: only whether one is set)."""
    return {
        "home": str(settings.home),
        "tickers": list(settings.tickers),
        "window_days": settings.window_days,
        "source": "polygon" if settings.polygon_api_key else "demo",
        "polygon_api_key_set": bool(settings.polygon_api_key),
        "database": settings.database,
        "table_prefix": settings.table_prefix,
        "partition_granularity": settings.partition_granularity,
        "raw_uri": settings.raw_uri,
        "curated_uri": settings.curated_uri,
        "archive_uri": settings.archive_uri,
    }


def collect_status(
    settings: Settings,
    engine: Optional[Engine],
    storage: Any = None,
    *,
    now: Optional[datetime] = None,
    lock: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """The status of a home. `engine` None means the catalog could not be opened (another
    process holds it): the catalog's parts are then None and `state` is "unknown". `lock` is
    who holds the home's lock, when the caller knows; `storage` (the lake's, S3 or local)
    counts the raw objects. Disk use is measured on local paths only (None on S3)."""
    now = now or datetime.now(timezone.utc)
    status: Dict[str, Any] = {
        "home": str(settings.home),
        "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "state": "unknown",
        "problems": [],
        "warnings": [],
        "last_publish": None,
        "freshness": None,
        "checks": None,
        "lock": lock,
        "settings": settings_in_force(settings),
    }
    disk = {
        "raw": local_size(settings.raw_uri),
        "curated": local_size(settings.curated_uri),
        "archive": local_size(settings.archive_uri),
        "home": local_size(str(settings.home.resolve())),
    }
    status["disk_bytes"] = disk
    if storage is not None:
        _raw_warnings(settings, storage, status)
    if engine is None:
        status["archives"] = None
        return status
    tables = engine.list_tables()
    kept = archives(settings, tables)
    status["archives"] = {"kept": len(kept), "tables": kept, "bytes": disk["archive"]}
    status["checks"] = _checks(settings, engine)
    problems: List[str] = status["problems"]
    production = None
    if settings.prod_latest_view in tables:
        production = _production(settings, engine, storage, kept, status)
        if production is None or production.readable:
            fresh = _freshness(settings, engine, now)
            status["freshness"] = fresh
            status["last_publish"]["rows"] = fresh.pop("rows")
            stale = [t["ticker"] for t in fresh["tickers"] if not t["current"]]
            if stale:
                problems.append(
                    f"no bars since the {fresh['last_completed_session']} session for "
                    f"{', '.join(stale)}"
                )
        else:  # reading the view would fail or miss rows: say why instead
            problems += production.problems
    else:
        problems.append("nothing published yet")
    checks = status["checks"]
    if checks is not None and not checks["passed"]:
        problems.append(f"the last quality run {checks['run_id']} failed: "
                        f"{', '.join(checks['failed'])}; production was not replaced")
    if status["last_publish"] is None:
        status["state"] = EMPTY
    elif production is not None and not production.readable:
        status["state"] = UNREADABLE
    elif checks is not None and not checks["passed"]:
        status["state"] = FAILED
    elif problems:
        status["state"] = STALE
    else:
        status["state"] = CURRENT
    return status


def misplaced_line(settings: Settings, keys: List[str]) -> str:
    """What to say about raw objects outside raw/YYYY/MM/DD/HH/<name>."""
    n = len(keys)
    shown = ", ".join(keys[:3]) + (f" and {n - 3} more" if n > 3 else "")
    return (f"{n} raw object{'s' if n != 1 else ''} in {settings.raw_uri} not at "
            f"YYYY/MM/DD/HH/<name> and not read: {shown}; move {'them' if n != 1 else 'it'} "
            "into that layout (or delete)")


def _raw_warnings(settings: Settings, storage: Any, status: Dict[str, Any]) -> None:
    """Quarantined and misplaced raw objects: warnings (data left out of production), which
    do not change the state or the exit code."""
    from .quarantine import list_quarantined
    from .steps.partitions import raw_listing

    warnings: List[str] = status["warnings"]
    objects, misplaced = raw_listing(settings, storage)
    status["raw_objects"] = len(objects) + len(misplaced)
    status["raw_misplaced"] = misplaced
    if misplaced:
        warnings.append(misplaced_line(settings, misplaced))
    held = list_quarantined(settings, storage)
    status["quarantined"] = [q.to_dict() for q in held]
    if held:
        warnings.append(
            f"{len(held)} raw object{'s' if len(held) != 1 else ''} quarantined (not in "
            f"production): {', '.join(q.key for q in held[:3])}"
            f"{' and more' if len(held) > 3 else ''}; `stockpipe quarantine list` shows why"
        )


def exit_code(status: Dict[str, Any]) -> int:
    """0 when current, 2 when stale, failed, unreadable or never published, 1 when unknown."""
    state = status.get("state")
    if state == CURRENT:
        return 0
    return 1 if state == "unknown" else 2

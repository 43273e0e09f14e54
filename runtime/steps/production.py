"""publish: a timestamped production copy and the prod_latest view, only after passing checks;
then the archives beyond `archive_keep` are dropped (`prune`)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import List, Optional

from ..engines.base import Engine
from ..errors import EngineError, QualityCheckFailed
from ..production import ProductionCheck, record_manifest, view_target
from ..production import verify_production as _verify
from ..settings import Settings, parse_archive_keep
from ..storage import Storage
from . import archive, lineage
from .common import new_run_id, now_utc
from .lineage import Event
from .quality_run import latest_quality

log = logging.getLogger(__name__)

# How many one-second bumps publish tries before it gives up on a free timestamp.
_MAX_STAMP_BUMPS = 120


@dataclass
class PruneResult:
    kept: List[str]
    dropped: List[str]
    deleted_objects: int = 0


@dataclass
class PublishResult:
    table: str
    view: str
    location: str
    rows: int
    partitions: int
    quality_run_id: str = ""
    pruned: List[str] = field(default_factory=list)


def archives(settings: Settings, engine: Engine) -> List[str]:
    """The production archives (`<prefix>_prod_YYYYMMDD_HHMMSS`), newest first."""
    pattern = re.compile(rf"^{re.escape(settings.table_prefix)}_prod_\d{{8}}_\d{{6}}$")
    return sorted((t for t in engine.list_tables() if pattern.match(t)), reverse=True)


def prune(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    *,
    keep: Optional[int] = None,
    current: Optional[str] = None,
) -> PruneResult:
    """Drop all but the newest `keep` archives (default `settings.archive_keep`): each one's table,
    with its partitions, and its files. The copy the prod_latest view reads (`current`, else the
    newest recorded publish) and the table the view selects from are never dropped."""
    keep = settings.archive_keep if keep is None else parse_archive_keep("--keep", keep)
    if current is None:
        current = lineage.read_state(settings, engine, storage).published_table
    protected = {current, view_target(settings, engine)}
    names = archives(settings, engine)
    kept, dropped, deleted = names[:keep], [], 0
    for table in names[keep:]:
        if table in protected:
            kept.append(table)
            continue
        deleted += archive.discard(settings, engine, storage, table)
        dropped.append(table)
    return PruneResult(kept, dropped, deleted)


def _free_table(settings: Settings, engine: Engine, storage: Storage, moment: datetime) -> str:
    for _ in range(_MAX_STAMP_BUMPS):
        table = settings.prod_table(f"{moment:%Y%m%d_%H%M%S}")
        # Never overwrite an archive: a second run in the same second takes the next second.
        if not engine.table_exists(table) and not storage.exists(settings.table_location(table)):
            return table
        moment += timedelta(seconds=1)
    raise EngineError(
        f"no free production table name after {_MAX_STAMP_BUMPS} tries (last {table}); "
        "remove stale archives or retry later"
    )


def publish(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    *,
    now: Optional[datetime] = None,
) -> PublishResult:
    """A timestamped production copy + the prod_latest view, only of the sans-dup table exactly
    as the latest quality run judged it, and only if that run has no failed blocking check
    (otherwise raise QualityCheckFailed, or StaleQualityResult, and touch nothing); then keep
    the newest `archive_keep` archives.

    The copy is the judged files copied into the archive location (a storage copy: no data
    scanned), then registered: CREATE EXTERNAL TABLE and its partitions (catalog statements).
    It is checked (every file at its size, the judged row count read back) and recorded as
    complete before the view moves to it; a failure removes it, and a killed publish's archive
    is removed by the next publish (docs/architecture.md, "Publish")."""
    latest = latest_quality(settings, engine)
    if latest is None:
        raise QualityCheckFailed(
            f"no quality run recorded in {settings.dq_table}; nothing published. "
            "Run `stockpipe workflow --from quality` first"
        )
    if not latest.passed:
        names = ", ".join(f"{c.name} ({c.failing_rows} rows)" for c in latest.failed_errors)
        raise QualityCheckFailed(
            f"blocking quality checks failed in run {latest.run_id}: {names}; nothing published, "
            f"{settings.prod_latest_view} unchanged"
        )
    history = archive.read_log(settings, engine, latest.run_id)
    judged = archive.judged_state(settings, engine, storage, latest.run_id, history)
    view = settings.prod_latest_view
    protected = {view_target(settings, engine), *_recorded_current(settings, engine, storage)}
    archive.clean_unfinished(settings, engine, storage, history, protected)
    moment = now_utc(now)
    table = _free_table(settings, engine, storage, moment)
    run_id = new_run_id(moment)
    # Recorded before the first file lands, so that a killed publish's archive is known as
    # unfinished (and removed) by the next one.
    lineage.append(settings, engine, run_id, moment, [Event("publish_start", table)])
    try:
        location = archive.copy_files(settings, storage, judged, table)
        archive.register(settings, engine, table, judged)
        archive.verify(settings, engine, storage, table, judged)
        # What readers check the copy against later (status, report, checks).
        record_manifest(settings, storage, table, judged.rows, judged.files, judged.splits)
    except Exception:
        try:
            archive.discard(settings, engine, storage, table)
        except Exception:  # never hide the error that got us here; the next publish cleans
            log.warning("could not remove the unfinished archive %s", table)
        raise
    lineage.append(settings, engine, run_id, moment, [Event("publish", table)])
    engine.execute(archive.view_sql(settings, table, judged))
    pruned = prune(settings, engine, storage, current=table)
    return PublishResult(
        table, view, location, judged.rows, len(judged.partitions(settings.partition_column)),
        latest.run_id, pruned.dropped
    )


def _recorded_current(settings: Settings, engine: Engine, storage: Storage) -> List[str]:
    """The newest completed publication, as the lineage table records it (or nothing)."""
    table = lineage.read_state(settings, engine, storage).published_table
    return [table] if table else []


__all__ = ["PruneResult", "PublishResult", "archives", "prune", "publish"]


def verify_production(settings: Settings, engine: Engine, storage: Storage) -> ProductionCheck:
    """runtime.production.verify_production, the published table taken from the lineage table
    when the engine cannot show the view's SQL (Athena has no DESCRIBE of a view's query)."""
    return _verify(settings, engine, storage,
                   recorded=lambda: lineage.read_state(settings, engine, storage).published_table)

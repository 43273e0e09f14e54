"""publish: a timestamped production copy and the prod_latest view, only after passing checks;
then the archives beyond `archive_keep` are dropped (`prune`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import List, Optional

from ..adjustments import refresh_adjusted_view
from ..engines.base import Engine
from ..errors import EngineError, QualityCheckFailed
from ..partitioned import write_partitioned
from ..settings import Settings, parse_archive_keep
from ..sql_files import render
from ..storage import Storage
from . import lineage
from .common import (
    CLUSTER_COL,
    drop_table_and_files,
    new_run_id,
    now_utc,
    production_column_list,
)
from .lineage import Event
from .quality_run import latest_quality

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
    newest recorded publish) is never dropped."""
    keep = settings.archive_keep if keep is None else parse_archive_keep("--keep", keep)
    if current is None:
        current = lineage.read_state(settings, engine, storage).published_table
    names = archives(settings, engine)
    kept, dropped, deleted = names[:keep], [], 0
    for table in names[keep:]:
        if table == current:
            kept.append(table)
            continue
        deleted += drop_table_and_files(settings, engine, storage, table)
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
    """Timestamped production copy + the prod_latest view, only if the latest quality run has no
    failed blocking check (otherwise raise QualityCheckFailed and touch nothing); then keep the
    newest `archive_keep` archives."""
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
    moment = now_utc(now)
    table = _free_table(settings, engine, storage, moment)
    location = settings.table_location(table)
    written = write_partitioned(
        engine, table=table,
        select_sql=render("publish_select.sql", columns=production_column_list(settings),
                          adjusted_view=refresh_adjusted_view(settings, engine)),
        location=location, partition_col=settings.partition_column, cluster_by=CLUSTER_COL,
        storage=storage,
    )
    view = settings.prod_latest_view
    engine.execute(render("publish_view.sql", view=view, prod_table=table))
    lineage.append(settings, engine, new_run_id(moment), moment, [Event("publish", table)])
    pruned = prune(settings, engine, storage, current=table)
    return PublishResult(
        table, view, location, written.rows, written.partitions, latest.run_id, pruned.dropped
    )


__all__ = ["PruneResult", "PublishResult", "archives", "prune", "publish"]

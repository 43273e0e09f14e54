"""The workflow steps, named as in runtime/dag.py: plain functions of (settings, engine, storage)
returning a small result. They build Athena-dialect SQL from runtime/sql/ and never branch on
which engine they hold, so the same code runs in Glue jobs (Athena) and locally (DuckDB).

crawl and transform live in `typed`, dedup in `sans_dup`, quality in `quality_run`, publish and
prune in `production`; the lineage table (what earlier runs consumed and committed) in `lineage`,
reading new raw objects and replacing partitions in `partitions`.
"""

from __future__ import annotations

from .common import count_rows, typed_columns
from .lineage import row_counts
from .production import PruneResult, PublishResult, archives, prune, publish, verify_production
from .quality_run import latest_ingest_window, latest_quality, quality
from .sans_dup import dedup
from .typed import (
    CrawlResult,
    TableResult,
    crawl,
    plan,
    record_commit,
    transform,
    transform_hash,
)

__all__ = [
    "CrawlResult",
    "PruneResult",
    "PublishResult",
    "TableResult",
    "archives",
    "count_rows",
    "crawl",
    "dedup",
    "latest_ingest_window",
    "latest_quality",
    "plan",
    "prune",
    "publish",
    "quality",
    "record_commit",
    "row_counts",
    "transform",
    "transform_hash",
    "typed_columns",
    "verify_production",
]

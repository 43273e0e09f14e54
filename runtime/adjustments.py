"""Split adjustment in the workflow: the raw splits table, the known splits, the adjusted view.

The steps call these; the SQL is in runtime/sql/ (crawl_splits_table.sql, splits_latest.sql,
adjusted_view.sql). Applying the factors in a view over the deduplicated table keeps a split
from rewriting any stored partition: the view is recomputed on every read, quality judges it
and publish copies it (publish writes a whole new archive every run anyway).
"""

from __future__ import annotations

import logging
from typing import Any, List, Tuple

from .settings import DAY_PARTITION_COLUMN, HOUR_PARTITION_COLUMN
from .sql_files import render, sql_uri

log = logging.getLogger(__name__)


def crawl_splits(settings: Any, engine: Any) -> str:
    """Register the raw splits table over splits/ (the crawler's second target in the cloud)."""
    engine.execute(
        render(
            "crawl_splits_table.sql",
            splits_table=settings.splits_table,
            splits_uri=sql_uri(settings.splits_uri),
        )
    )
    return settings.splits_table


def splits_source(settings: Any, engine: Any) -> str:
    """The known splits as a SELECT: from the raw splits table, or none while it is missing (the
    crawler creates it only once a splits object exists)."""
    if engine.table_exists(settings.splits_table):
        return render("splits_latest.sql", splits_table=settings.splits_table)
    return render("splits_none.sql")


def refresh_adjusted_view(settings: Any, engine: Any) -> str:
    """(Re)create the adjusted view over the sans-dup table with the splits known now."""
    engine.execute(
        render(
            "adjusted_view.sql",
            view=settings.adjusted_view,
            splits_source=splits_source(settings, engine),
            sans_dup_table=settings.sans_dup_table,
            partition_columns=", ".join(partition_columns(settings)),
        )
    )
    return settings.adjusted_view


def partition_columns(settings: Any) -> List[str]:
    """The adjusted view's last columns: with day partitions `day_partition` follows
    `day_hour_partition`, as in the tables it reads."""
    if settings.partition_column == DAY_PARTITION_COLUMN:
        return [HOUR_PARTITION_COLUMN, DAY_PARTITION_COLUMN]
    return [HOUR_PARTITION_COLUMN]


def applied_splits_list(settings: Any, engine: Any) -> str:
    """The SELECT of the splits this run applied (the warning check splits_applied counts it)."""
    return render(
        "splits_applied_list.sql",
        splits_source=splits_source(settings, engine),
        sans_dup_table=settings.sans_dup_table,
    )


def log_applied_splits(settings: Any, engine: Any) -> List[Tuple[str, str, float]]:
    """Name the splits this run applied in the log: (ticker, execution date, ratio) each."""
    rows = [
        (str(r[0]), str(r[1]), float(r[2]))
        for r in engine.execute(applied_splits_list(settings, engine)).rows
    ]
    if rows:
        named = ", ".join(f"{t} {d} (ratio {r:g})" for t, d, r in sorted(rows))
        log.warning(
            "splits applied in this run, the history before them is on the new basis: %s",
            named,
            extra={"splits_applied": [list(r) for r in rows]},
        )
    return rows

"""Split adjustment in the workflow: the raw splits table, the known splits, the adjusted view.

The steps call these; the SQL is in runtime/sql/ (crawl_splits_table.sql, splits_latest.sql,
adjusted_view.sql). Applying the factors in a view over the deduplicated table keeps a split
from rewriting any stored partition: the view is recomputed on every read, quality judges it
and publish copies it (publish writes a whole new archive every run anyway).
"""

from __future__ import annotations

from typing import Any

from .sql_files import render, sql_uri


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
        )
    )
    return settings.adjusted_view

"""The production copy as readers see it: the archive table behind the stable view, and the
statements that would take it away from them."""

from __future__ import annotations

import re
from typing import Any, List, Optional

from .errors import StockpipeError


class ProductionProtected(StockpipeError):
    """A statement would break the production view."""


def view_target(settings: Any, engine: Any) -> Optional[str]:
    """The table the production view selects from (None: no view, or an engine that cannot
    show a view's definition)."""
    import sqlglot
    from sqlglot import exp

    describe = getattr(engine, "describe_table", None)
    entry = describe(settings.prod_latest_view) if describe is not None else None
    sql = (entry.properties or {}).get("sql") if entry is not None else None
    if not sql:
        return None
    node = sqlglot.parse_one(sql, read="athena")
    ctes = {c.alias_or_name.lower() for c in node.find_all(exp.CTE)}
    tables = {t.name.lower() for t in node.find_all(exp.Table)} - ctes
    # The view reads an archive and its `_splits` copy (runtime/steps/archive.py): the archive
    # is the table whose name has the archive pattern.
    pattern = re.compile(rf"^{re.escape(settings.table_prefix)}_prod_\d{{8}}_\d{{6}}$")
    named = sorted(t for t in tables if pattern.match(t))
    if len(named) == 1:
        return named[0]
    return next(iter(tables)) if len(tables) == 1 else None


def dropped_tables(sql: str) -> List[str]:
    """The tables a DROP TABLE statement names (lower case); [] for any other statement."""
    import sqlglot
    from sqlglot import exp

    try:
        node = sqlglot.parse_one(sql, read="athena")
    except sqlglot.errors.ParseError:
        return []  # the engine reports the statement's own error
    if not isinstance(node, exp.Drop) or (node.args.get("kind") or "").upper() != "TABLE":
        return []
    return [t.name.lower() for t in node.args.get("tables") or [node.this]]


def refuse_dropping_the_view_target(settings: Any, engine: Any, sql: str) -> None:
    """Raise if `sql` drops the table behind the production view (the view would break while
    every reader still queries it)."""
    names = dropped_tables(sql)
    if not names:
        return
    target = view_target(settings, engine)
    if target is not None and f"{target}_splits" in names:
        target = f"{target}_splits"
    if target in names:
        view = settings.prod_latest_view
        raise ProductionProtected(
            f"{target} is the table behind the view {view}, which production's readers query; "
            f"move the view first (CREATE OR REPLACE VIEW {view} AS SELECT * FROM <another "
            f"stock_aggregate_prod_... table>), then drop {target}"
        )

"""Athena's `"$path"` pseudo-column on the local engine's JSON tables.

In Athena every row of a Hive table knows the object it came from (`"$path"`), and a predicate
`"$path" IN (...)` limits the scan to those objects. Locally a JSON table is a view over a glob of
files; a SELECT that names `"$path"` reads the table through a per-statement temp view instead,
which exposes the file name as `"$path"` and, when the SELECT's WHERE has a top-level conjunct
`"$path" IN ('...')` or `"$path" = '...'`, opens only those files (as Athena's pruning reads
only those objects). `SELECT *` never includes `"$path"`, as in Athena.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Any, Callable, List, Optional

PATH_COLUMN = "$path"


def _is_path(node: Any, exp: Any) -> bool:
    return isinstance(node, exp.Column) and node.name == PATH_COLUMN


def path_files(select: Any) -> Optional[List[str]]:
    """The object paths a SELECT's WHERE limits `"$path"` to, or None when it does not."""
    from sqlglot import exp

    where = select.args.get("where")
    if where is None:
        return None
    conjuncts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
    for term in conjuncts:
        while isinstance(term, exp.Paren):
            term = term.this
        if isinstance(term, exp.In) and _is_path(term.this, exp) and not term.args.get("query"):
            items = term.expressions
            if items and all(isinstance(i, exp.Literal) and i.is_string for i in items):
                return [i.this for i in items]
        if isinstance(term, exp.EQ):
            left, right = term.this, term.expression
            if _is_path(right, exp):
                left, right = right, left
            if _is_path(left, exp) and isinstance(right, exp.Literal) and right.is_string:
                return [right.this]
    return None


def with_path_views(
    node: Any, view_for: Callable[[str, Optional[List[str]]], Optional[str]]
) -> Any:
    """`node` with each table read by a SELECT that names `"$path"` swapped for the view
    `view_for(table, files)` returns (None: not a JSON table, leave it)."""
    from sqlglot import exp

    if not any(_is_path(c, exp) for c in node.find_all(exp.Column)):
        return node
    node = node.copy()
    for select in list(node.find_all(exp.Select)):
        uses = any(
            _is_path(c, exp) and c.parent_select is select for c in select.find_all(exp.Column)
        )
        if not uses:
            continue
        files = path_files(select)
        first = select.args.get("from_") or select.args.get("from")  # key named by version
        sources = [first, *(select.args.get("joins") or [])]
        for source in sources:
            table = source.this if source is not None else None
            if not isinstance(table, exp.Table) or table.args.get("catalog") is not None:
                continue
            view = view_for(table.name.lower(), files)
            if view is None:
                continue
            alias = table.alias or table.name
            table.replace(exp.to_table(view).as_(alias, quoted=True))
    return node


class PathViews:
    """Per-statement temp views of JSON tables with their `"$path"` column. `json_bytes_read`
    adds up the sizes of the files those views opened: the raw bytes Athena would scan."""

    def __init__(self, connection: Any, catalog: Any):
        self._db = connection
        self._catalog = catalog
        self.json_bytes_read = 0

    def swap(self, node: Any) -> Any:
        return with_path_views(node, self._view)

    def _view(self, name: str, paths: Optional[List[str]]) -> Optional[str]:
        from .dialect import q

        entry = self._catalog.entry(name)
        if entry is None or entry.kind != "json":
            return None
        pattern = self._catalog.json_glob(entry)
        if paths is None:
            files = sorted(glob.glob(pattern))
        else:
            # Only the table's own objects, as Athena reads no other: the same folder depth,
            # no hidden name, present on disk.
            depth = len(entry.partitions)
            own = re.compile(
                re.escape(entry.location or "") + rf"(?:[^/]+/){{{depth}}}[^/._][^/]*$"
            )
            files = sorted({p for p in paths if own.match(p) and os.path.isfile(p)})
        self.json_bytes_read += sum(os.path.getsize(f) for f in files)
        view = f"__sp_path_{name}"
        self._db.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {q(view)} AS "
            f"{self._catalog.json_view(entry, files, path_column=PATH_COLUMN)}"
        )
        return view

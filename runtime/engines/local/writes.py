"""The statements that write Parquet: CTAS and INSERT INTO, as Athena runs them (Hive-layout
files under the table location, new file names, nothing overwritten, at most 100 partitions per
statement)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ...errors import EngineError, UnsupportedSQLError, validate_identifier
from ...storage import LocalStorage
from ..base import QueryResult
from .catalog import TableEntry
from .dialect import fix_types, lit, literal_text, q, transpile
from .guard import refuse_outside_lake
from .rules import (
    COMPRESSIONS,
    MAX_OPEN_PARTITIONS,
    PATH_ALREADY_EXISTS,
    already_exists,
    check_columns,
    check_named_columns,
    not_found,
    too_many_partitions,
)


class Writes:
    """CTAS and INSERT INTO on a connection and its catalog. `default_location(table)` places a
    CTAS that names no external_location (None: such a CTAS is refused)."""

    def __init__(
        self,
        connection: Any,
        catalog: Any,
        cache: Any,
        default_location: Optional[Callable[[str], str]] = None,
        paths: Any = None,
    ):
        self._db = connection
        self._paths = paths  # reads of a JSON table's "$path" (paths.PathViews)
        self._catalog = catalog
        self._cache = cache
        self._default_location = default_location
        self._storage = LocalStorage()

    def _transpile(self, node: Any) -> str:
        if self._paths is not None:
            node = self._paths.swap(node)
        return transpile(node, self._db.database)

    def ctas(self, node: Any) -> QueryResult:
        """CREATE TABLE ... WITH (...) AS SELECT: Parquet files at an empty location."""
        from sqlglot import exp

        if isinstance(node.this, exp.Schema):
            raise UnsupportedSQLError(
                "CREATE TABLE t (columns) AS SELECT is not supported: name the columns with "
                "aliases in the SELECT instead"
            )
        name = self._catalog.table_name(node.this)
        if self._catalog.entry(name) is not None:
            if node.args.get("exists"):
                return QueryResult()
            raise already_exists(
                self._db.database,
                name,
                "; drop it first (DROP TABLE keeps its files: empty the location too)",
            )
        props = self._ctas_properties(node, name)
        check_named_columns(node.expression, name)
        sel = self._transpile(node.expression)
        cols = self._db.columns_of(sel)
        parts = props["partitioned_by"]
        check_columns(cols, parts, name)
        location = props["location"]
        if not self._storage.is_empty(location):
            raise EngineError(
                f"{PATH_ALREADY_EXISTS}: Target directory for table '{self._db.database}.{name}' "
                f"already exists: {location}. The CTAS location must be empty: delete the files "
                "there (or choose another location) and retry",
                error_name=PATH_ALREADY_EXISTS,
            )
        data_cols = cols[: len(cols) - len(parts)]
        part_cols = cols[len(cols) - len(parts) :]
        sel, data_cols, part_cols = fix_types(sel, data_cols, part_cols)
        rows = self._write(sel, part_cols, location, props["compression"])
        entry = TableEntry(
            name=name,
            kind="parquet",
            location=location,
            columns=data_cols,
            partitions=part_cols,
            properties={"format": "PARQUET", "compression": props["compression"]},
        )
        self._catalog.register(entry, self._catalog.parquet_view(entry))
        return QueryResult(columns=["rows"], rows=[(rows,)])

    def _ctas_properties(self, node: Any, name: str) -> Dict[str, Any]:
        from sqlglot import exp

        out: Dict[str, Any] = {"location": None, "compression": "snappy", "partitioned_by": []}
        props = node.args.get("properties")
        for prop in props.expressions if props is not None else []:
            if isinstance(prop, exp.FileFormatProperty):
                fmt = prop.name.upper()
                if fmt != "PARQUET":
                    raise UnsupportedSQLError(
                        f"CTAS format {fmt!r} for table {name!r}: the local engine writes "
                        "PARQUET only"
                    )
                continue
            if isinstance(prop, exp.PartitionedByProperty):
                value = prop.this
                items = (
                    value.expressions
                    if isinstance(value, (exp.Array, exp.Tuple, exp.Schema))
                    else [value]
                )
                out["partitioned_by"] = [
                    validate_identifier(literal_text(i).lower(), "partition column") for i in items
                ]
                continue
            if isinstance(prop, exp.LocationProperty):
                out["location"] = self._catalog.location(literal_text(prop.this), name)
                continue
            key = (prop.name if isinstance(prop, exp.Property) else type(prop).__name__).lower()
            value = prop.args.get("value") if isinstance(prop, exp.Property) else None
            if key == "external_location":
                out["location"] = self._catalog.location(literal_text(value), name)
            elif key in ("write_compression", "parquet_compression"):
                codec = literal_text(value).lower()
                if codec not in COMPRESSIONS:
                    raise UnsupportedSQLError(
                        f"write_compression {codec!r} for table {name!r} is not supported; use "
                        f"one of {', '.join(sorted(COMPRESSIONS))}"
                    )
                out["compression"] = COMPRESSIONS[codec]
            elif key == "format":
                fmt = literal_text(value).upper()
                if fmt != "PARQUET":
                    raise UnsupportedSQLError(
                        f"CTAS format {fmt!r} for table {name!r}: the local engine writes "
                        "PARQUET only"
                    )
            else:
                raise UnsupportedSQLError(
                    f"CTAS property {key!r} for table {name!r} is not supported by the local "
                    "engine "
                    "(it honours external_location, format, write_compression, partitioned_by); "
                    "remove it rather than have it silently ignored"
                )
        if out["location"] is None:
            if self._default_location is None:
                raise UnsupportedSQLError(
                    f"CTAS for table {name!r} needs WITH (external_location='...') on the local "
                    "engine when it was not created from Settings"
                )
            out["location"] = self._catalog.location(self._default_location(name), name)
        return out

    def _write(self, sel: str, part_cols: List[Tuple[str, str]], location: str, codec: str) -> int:
        """Write `sel` as Parquet files under `location` (new file names; nothing overwritten)."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
        con = self._db.con
        Path(location).mkdir(parents=True, exist_ok=True)
        if not part_cols:
            target = f"{location}{stamp}_{uuid.uuid4()}.parquet"
            row = con.execute(
                f"COPY ({sel}) TO {lit(target)} (FORMAT PARQUET, COMPRESSION {codec})"
            ).fetchone()
            return int(row[0]) if row else 0
        keys = ", ".join(q(c) for c, _ in part_cols)
        # The partitions are counted from the files the COPY reports, not by evaluating the
        # SELECT twice: a statement over the limit has its new files removed again and fails,
        # as in Athena (which may leave such files behind).
        row = con.execute(
            f"COPY ({sel}) TO {lit(location.rstrip('/'))} (FORMAT PARQUET, "
            f"PARTITION_BY ({keys}), COMPRESSION {codec}, "
            f"FILENAME_PATTERN {lit(stamp + '_{uuid}')}, APPEND, RETURN_FILES true)"
        ).fetchone()
        files = list(row[1] or []) if row else []
        folders = {os.path.dirname(f) for f in files}
        if len(folders) > MAX_OPEN_PARTITIONS:
            remove_written(files, location)
            raise too_many_partitions(len(folders))
        return int(row[0]) if row else 0

    def insert(self, node: Any) -> QueryResult:
        """INSERT INTO a Parquet table: new files beside its old ones."""
        from sqlglot import exp

        target = node.this
        name = self._catalog.table_name(target)
        entry = self._catalog.entry(name)
        if entry is None:
            raise not_found(self._db.database, name, hint="; create it first (CTAS)")
        if entry.kind != "parquet":
            raise UnsupportedSQLError(
                f"INSERT INTO {name}: the local engine appends to Parquet tables only ({name} is "
                f"a {entry.kind} {'view' if entry.kind == 'view' else 'table'})"
            )
        # A table registered outside the lake (by an engine without lake roots) takes no rows.
        refuse_outside_lake(entry.location or "", name, self._catalog.lake_roots)
        if node.args.get("overwrite"):
            raise UnsupportedSQLError(
                "INSERT OVERWRITE is not supported (Athena has no such statement)"
            )
        table_cols = entry.all_columns
        listed = [c for c, _ in table_cols]
        if isinstance(target, exp.Schema) and target.expressions:
            listed = [i.name.lower() for i in target.expressions]
            unknown = [c for c in listed if c not in dict(table_cols)]
            if unknown:
                raise EngineError(f"INSERT INTO {name}: no such column(s) {unknown}")
        sel = self._transpile(node.expression)
        out = self._db.columns_of(sel)
        if len(out) != len(listed):
            raise EngineError(
                f"Insert query has mismatched column count: table {name} expects {len(listed)} "
                f"columns {listed}, the query gives {len(out)} {[c for c, _ in out]}",
                error_name="TYPE_MISMATCH",
            )
        aliases = [f"__sp_c{i}" for i in range(len(out))]
        source = dict(zip(listed, aliases))
        projection = ", ".join(
            f"CAST({q(source[c]) if c in source else 'NULL'} AS {t}) AS {q(c)}"
            for c, t in table_cols
        )
        wrapped = (
            f"SELECT {projection} FROM ({sel}) AS __sp_src({', '.join(q(a) for a in aliases)})"
        )
        self._cache.table_changed(name)
        rows = self._write(
            wrapped,
            entry.partitions,
            entry.location or "",
            entry.properties.get("compression", "snappy"),
        )
        return QueryResult(columns=["rows"], rows=[(rows,)])


def remove_written(files: Sequence[str], location: str) -> None:
    """Delete `files` and the partition folders they leave empty (up to `location`)."""
    root = os.path.abspath(location)
    for f in files:
        try:
            os.remove(f)
        except FileNotFoundError:
            pass
    for folder in sorted({os.path.dirname(os.path.abspath(f)) for f in files}, reverse=True):
        while folder.startswith(root + os.sep) and folder != root:
            try:
                os.rmdir(folder)  # only when empty: another statement's files stay
            except OSError:
                break
            folder = os.path.dirname(folder)


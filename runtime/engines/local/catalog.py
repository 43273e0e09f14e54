"""The local catalog: one row per table or view in `main.__stockpipe_catalog` plus a DuckDB view
over its files (read at query time), both stored in the DuckDB file so another process sees
them. Names are checked against the one database the catalog holds; locations are local
folders."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ...errors import EngineError, UnsupportedSQLError, validate_identifier
from ...storage import local_path
from .dialect import lit, q
from .guard import refuse_outside_lake
from .rules import NOT_FOUND

CATALOG_TABLE = "__stockpipe_catalog"
_GLOB_CHARS = re.compile(r"[*?\[\]{}]")


@dataclass
class TableEntry:
    """One catalog row: a Parquet or JSON table over a location, or a view."""

    name: str
    kind: str  # "parquet" | "json" | "view"
    location: Optional[str] = None
    columns: List[Tuple[str, str]] = field(default_factory=list)  # data columns, DuckDB types
    partitions: List[Tuple[str, str]] = field(default_factory=list)
    properties: Dict[str, Any] = field(default_factory=dict)

    @property
    def all_columns(self) -> List[Tuple[str, str]]:
        return list(self.columns) + list(self.partitions)


class Catalog:
    """Tables and views of one database on a connection. `listener` (the scan cache) hears of
    every table registered (`table_changed`) or forgotten (`table_dropped`)."""

    def __init__(self, connection: Any, listener: Any = None,
                 lake_roots: Optional[List[str]] = None):
        self._db = connection
        self.database = connection.database
        self._listener = listener
        # The folders a table may live in (None: anywhere): see guard.refuse_outside_lake.
        self.lake_roots = lake_roots
        if connection.read_only:
            return  # a writer made the file, and this table with it
        connection.con.execute(
            f"CREATE TABLE IF NOT EXISTS main.{CATALOG_TABLE} ("
            "database VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
            "location VARCHAR, columns VARCHAR, partitions VARCHAR, properties VARCHAR, "
            "created_at TIMESTAMP, PRIMARY KEY (database, name))"
        )

    def names(self) -> List[str]:
        """Names of the tables and views, sorted."""
        rows = self._db.con.execute(
            f"SELECT name FROM main.{CATALOG_TABLE} WHERE database = ? ORDER BY name",
            [self.database],
        ).fetchall()
        return [r[0] for r in rows]

    def parse_name(self, raw: str) -> str:
        parts = [p.strip('`"') for p in raw.split(".")]
        return self.check_name(parts[-1], parts[-2] if len(parts) > 1 else None)

    def table_name(self, table: Any) -> str:
        from sqlglot import exp

        if isinstance(table, exp.Schema):
            table = table.this
        if not isinstance(table, exp.Table):
            raise UnsupportedSQLError(f"expected a table name, got {table.sql('athena')!r}")
        return self.check_name(table.name, table.args.get("db") and table.db)

    def check_name(self, name: str, db: Optional[str]) -> str:
        if db and db.lower() != self.database:
            raise EngineError(
                f"database {db!r} does not exist here: the local catalog holds database "
                f"{self.database!r}",
                error_name=NOT_FOUND,
            )
        return validate_identifier(name.lower() if name else name, "table name")

    def entry(self, name: str) -> Optional[TableEntry]:
        row = self._db.con.execute(
            f"SELECT kind, location, columns, partitions, properties FROM main.{CATALOG_TABLE} "
            "WHERE database = ? AND name = ?",
            [self.database, name],
        ).fetchone()
        if row is None:
            return None
        return TableEntry(
            name=name,
            kind=row[0],
            location=row[1],
            columns=[tuple(c) for c in json.loads(row[2] or "[]")],
            partitions=[tuple(c) for c in json.loads(row[3] or "[]")],
            properties=json.loads(row[4] or "{}"),
        )

    def register(self, entry: TableEntry, view_sql: str, replace: bool = False) -> None:
        if self._listener is not None:  # a new or altered table: its next read checks its files
            self._listener.table_changed(entry.name)
        con = self._db.con
        con.execute("BEGIN TRANSACTION")
        try:
            verb = "CREATE OR REPLACE VIEW" if replace else "CREATE VIEW"
            con.execute(f"{verb} {q(self.database)}.{q(entry.name)} AS {view_sql}")
            con.execute(
                f"DELETE FROM main.{CATALOG_TABLE} WHERE database = ? AND name = ?",
                [self.database, entry.name],
            )
            con.execute(
                f"INSERT INTO main.{CATALOG_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    self.database,
                    entry.name,
                    entry.kind,
                    entry.location,
                    json.dumps(entry.columns),
                    json.dumps(entry.partitions),
                    json.dumps(entry.properties),
                    datetime.now(timezone.utc).replace(tzinfo=None),
                ],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise

    def forget(self, name: str) -> None:
        if self._listener is not None:
            self._listener.table_dropped(name)
        con = self._db.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DROP VIEW IF EXISTS {q(self.database)}.{q(name)}")
            con.execute(
                f"DELETE FROM main.{CATALOG_TABLE} WHERE database = ? AND name = ?",
                [self.database, name],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise

    def location(self, raw: str, table: str) -> str:
        """A local folder for `raw` (path or file:// URI), absolute, with a trailing slash."""
        if raw.startswith("s3://") or "://" in raw and not raw.startswith("file://"):
            raise UnsupportedSQLError(
                f"location {raw!r} for table {table!r} is not on this machine: the local engine "
                "reads and writes the local filesystem only (use a local path, or run on Athena)"
            )
        path = local_path(raw).expanduser().resolve()
        text = str(path)
        if _GLOB_CHARS.search(text) or "=" in text:
            raise UnsupportedSQLError(
                f"location {text!r} for table {table!r} contains one of * ? [ ] {{ }} =, which "
                "would be read as a pattern; choose a plain folder name"
            )
        refuse_outside_lake(text, table, self.lake_roots)
        return text.rstrip("/") + "/"

    def parquet_view(self, entry: TableEntry) -> str:
        # The typed empty branch keeps the view valid (and typed) while the location has no file.
        cols = entry.all_columns
        names = ", ".join(q(c) for c, _ in cols)
        typed = ", ".join(f"CAST(NULL AS {t}) AS {q(c)}" for c, t in cols)
        loc = entry.location or ""
        if entry.partitions:
            glob = loc + "*/" * len(entry.partitions) + "*.parquet"
            hive = "{" + ", ".join(f"{lit(c)}: {lit(t)}" for c, t in entry.partitions) + "}"
            src = (
                f"read_parquet({lit(glob)}, hive_partitioning = true, hive_types = {hive}, "
                "hive_types_autocast = false, allow_empty = true)"
            )
        else:
            src = (
                f"read_parquet({lit(loc + '*.parquet')}, hive_partitioning = false, "
                "allow_empty = true)"
            )
        return (
            f"SELECT {names} FROM (SELECT {typed} WHERE false "
            f"UNION ALL BY NAME SELECT * FROM {src})"
        )

    @staticmethod
    def json_glob(entry: TableEntry) -> str:
        """A JSON table's objects: the files `depth` folders below its location. Athena skips
        objects whose name starts with '.' or '_' (temp and marker files); the glob leaves them
        out of the file list, which costs nothing per row (a regexp on every row's file name
        doubled the cost of a scan)."""
        return (entry.location or "") + "*/" * len(entry.partitions) + "[!._]*"

    def json_view(
        self,
        entry: TableEntry,
        files: Optional[Sequence[str]] = None,
        path_column: Optional[str] = None,
    ) -> str:
        """The DuckDB SELECT of a JSON table over its glob, or over just `files`; with
        `path_column`, each row's file name is that column too (Athena's `"$path"`)."""
        loc = entry.location or ""
        # The empty file keeps the columns typed while no object matches the glob (read_json
        # then has no schema at all); it adds no row. A UNION with a typed empty SELECT did the
        # same but stopped DuckDB from pruning the unused columns, nearly doubling a count(*)
        # (docs/performance.md "Measurements behind code choices").
        listed = [self.json_glob(entry)] if files is None else list(files)
        files_sql = ", ".join(lit(f) for f in [*listed, str(self._db.empty_json_path())])
        struct = "{" + ", ".join(f"{lit(c)}: {lit(t)}" for c, t in entry.columns) + "}"
        ignore = ", ignore_errors = true" if entry.properties.get("ignore_malformed") else ""
        # DuckDB's virtual `filename` column is only computed when a query uses it (a partition
        # column); a table with its own `filename` column gets the file name under another name.
        names = {c for c, _ in entry.columns}
        file_col = "filename" if "filename" not in names else "__sp_file"
        named = "" if file_col == "filename" else f", filename = {lit(file_col)}"
        src = (
            f"read_json([{files_sql}], format = 'newline_delimited', columns = {struct}{named}, "
            f"hive_partitioning = false, allow_empty = true{ignore})"
        )
        outs = [q(c) for c, _ in entry.columns]
        # Folder level i below the prefix is partition i-1, as the Glue crawler names them.
        base = loc.count("/")
        for i, (c, t) in enumerate(entry.partitions, start=1):
            outs.append(f"CAST(split_part({file_col}, '/', {base + i}) AS {t}) AS {q(c)}")
        if path_column is not None:
            outs.append(f"{file_col} AS {q(path_column)}")
        return f"SELECT {', '.join(outs)} FROM {src}"

"""LocalEngine: Athena-dialect SQL on a DuckDB file, with Athena's table semantics.

sqlglot parses the statement (`read="athena"`) and transpiles it to DuckDB; what sqlglot drops
or gets wrong is implemented here (DESIGN 4, FACTS "Local tools"):

- CTAS `WITH (external_location, format, write_compression, partitioned_by)` writes Hive-layout
  Parquet with DuckDB's `COPY ... PARTITION_BY` and registers the table; INSERT INTO appends new
  files; DROP TABLE forgets the table and keeps its files.
- `CREATE EXTERNAL TABLE ... ROW FORMAT SERDE '<json serde>' LOCATION '<prefix>'` reads a
  Firehose-layout prefix (`YYYY/MM/DD/HH/<object>`) with the folder levels as partition_0..n.
- Athena's rules are enforced so a local run fails where the cloud would: the CTAS location must
  be empty, at most 100 partitions per CTAS/INSERT, partition columns last, no
  `timestamp with time zone` column in a table, no unnamed CTAS column.
- Trino semantics that DuckDB lacks: integer `/` (DuckDB's `integer_division` setting), Joda
  `format_datetime`, `AT TIME ZONE`, `CAST(timestamp AS varchar)` with milliseconds, and
  `round(x, n)`, computed as Trino's Math.round(x * 10^n) / 10^n (DuckDB's own round differs
  where the binary product lands on .5).

Every table is a DuckDB view over its files (read at query time) plus a row in
`main.__stockpipe_catalog`, both stored in the DuckDB file, so another process sees them.
duckdb and sqlglot are imported lazily: this module is never imported on the Lambda/Glue path.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from ..errors import (
    EngineError,
    IdentifierError,
    StockpipeError,
    UnsupportedSQLError,
    validate_identifier,
)
from ..settings import DEFAULT_DATABASE
from .base import Engine, QueryResult
from .json_paths import PATH_COLUMN, with_path_views
from .storage import LocalStorage, local_path

CATALOG_TABLE = "__stockpipe_catalog"
# DuckDB's default is 80% of RAM; the scale target is a peak RSS under 4 GB.
MEMORY_LIMIT = "3GB"
# A Parquet table read twice with the same files is copied into a connection-local temp table
# up to this many bytes of Parquet: the quality checks scan the sans-dup table nine times, and
# with thousands of small partition files every scan pays for opening each file again.
SCAN_CACHE_MAX_BYTES = 256 * 1024 * 1024
# Write stages kept as their table's cache, whatever its size: the most a step reads (quality
# reads what transform and dedup wrote): 1.2 GB and 0.26 GB of DuckDB memory at 500x365.
KEPT_STAGES = 2
CACHE_PREFIX = "__sp_cache_"
MAX_OPEN_PARTITIONS = 100  # Athena's limit per CTAS / INSERT INTO (FACTS "Amazon Athena")
TOO_MANY_PARTITIONS = "HIVE_TOO_MANY_OPEN_PARTITIONS"
PATH_ALREADY_EXISTS = "HIVE_PATH_ALREADY_EXISTS"
COLUMN_ORDER_MISMATCH = "HIVE_COLUMN_ORDER_MISMATCH"
NOT_SUPPORTED = "NOT_SUPPORTED"
ALREADY_EXISTS = "AlreadyExistsException"
NOT_FOUND = "EntityNotFoundException"

JSON_SERDES = ("org.openx.data.jsonserde.jsonserde", "org.apache.hive.hcatalog.data.jsonserde")
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.parquethiveserde"
COMPRESSIONS = {
    "snappy": "snappy",
    "gzip": "gzip",
    "zstd": "zstd",
    "lz4": "lz4_raw",
    "none": "uncompressed",
    "uncompressed": "uncompressed",
}
# Glue crawler statistics and harmless markers an external table may carry; anything else in
# TBLPROPERTIES changes how Athena reads the data, so it is refused rather than ignored.
HARMLESS_TBLPROPERTIES = {
    "classification",
    "has_encrypted_data",
    "typeofdata",
    "averagerecordsize",
    "objectcount",
    "recordcount",
    "sizekey",
    "compressiontype",
    "crawlerschemaserializerversion",
    "crawlerschemadeserializerversion",
    "updatedbyjob",
    "updatedbyjobversion",
    "exclusions",
    "areColumnsQuoted".lower(),
}
SCALAR_TYPES = {
    "TEXT": "VARCHAR",
    "VARCHAR": "VARCHAR",
    "CHAR": "VARCHAR",
    "BIGINT": "BIGINT",
    "INT": "INTEGER",
    "SMALLINT": "SMALLINT",
    "TINYINT": "TINYINT",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP",
    "DATE": "DATE",
    "DECIMAL": "DECIMAL",
}
ATHENA_TYPE_NAMES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "float",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}

# Trino helpers, stored in the DuckDB file so views that use them work in any session.
# `typeof` is folded when DuckDB binds, so the CASE costs nothing per row.
_MACROS = (
    # Trino prints timestamp(3) with milliseconds ('2020-01-02 05:00:00.000'); DuckDB drops them.
    "CREATE OR REPLACE MACRO main.__sp_varchar(x) AS CASE "
    "WHEN typeof(x) = 'TIMESTAMP' THEN strftime(TRY_CAST(x AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%g') "
    "WHEN typeof(x) = 'TIMESTAMP WITH TIME ZONE' "
    "THEN strftime(TRY_CAST(x AS TIMESTAMPTZ), '%Y-%m-%d %H:%M:%S.%g') || ' UTC' "
    "ELSE CAST(x AS VARCHAR) END",
    # Trino's to_iso8601: milliseconds, and 'Z' for a UTC timestamp with time zone.
    "CREATE OR REPLACE MACRO main.__sp_iso8601(x) AS CASE "
    "WHEN typeof(x) = 'DATE' THEN strftime(TRY_CAST(x AS DATE), '%Y-%m-%d') "
    "WHEN typeof(x) = 'TIMESTAMP WITH TIME ZONE' "
    "THEN strftime(TRY_CAST(x AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%gZ') "
    "ELSE strftime(TRY_CAST(x AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%g') END",
    # timezone('UTC', x) of a timestamp with time zone, without ICU: the UTC wall clock is the
    # instant's epoch microseconds (0.04 s against 0.40 s for 10 M rows). Infinities, which
    # epoch_us cannot give, keep the ICU path.
    "CREATE OR REPLACE MACRO main.__sp_utc(x) AS CASE "
    "WHEN isfinite(x) THEN make_timestamp(epoch_us(x)) ELSE timezone('UTC', x) END",
)

_SHOW = re.compile(
    r"^show\s+(tables|views)(?:\s+(?:in|from)\s+(\S+))?(?:\s+(?:like\s+)?'([^']*)')?$", re.I | re.S
)
_SHOW_PARTITIONS = re.compile(r"^show\s+partitions\s+(\S+)$", re.I | re.S)
_MSCK = re.compile(r"^msck\s+repair\s+table\s+(\S+)$", re.I | re.S)
_LEADING_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/))*\s*", re.S)
_GLOB_CHARS = re.compile(r"[*?\[\]{}]")


def _q(name: str) -> str:
    """Quote a DuckDB identifier (names are validated before they get here)."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def _head(sql: str, n: int = 160) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= n else one[: n - 3] + "..."


def joda_to_strftime(pattern: str) -> str:
    """Translate a Joda-Time pattern (Trino's format_datetime) into DuckDB strftime."""
    out: List[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:  # '' is a literal quote
                out.append("'")
                i += 2
                continue
            if end < 0:
                raise UnsupportedSQLError(
                    f"format_datetime pattern {pattern!r} has an unclosed quote"
                )
            out.append(pattern[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        if not ch.isalpha():
            out.append("%%" if ch == "%" else ch)
            i += 1
            continue
        j = i
        while j < n and pattern[j] == ch:
            j += 1
        out.append(_joda_field(ch, j - i, pattern))
        i = j
    return "".join(out)


def _joda_field(ch: str, count: int, pattern: str) -> str:
    padded = {"d": "d", "H": "H", "h": "I", "m": "M", "s": "S"}
    if ch in ("y", "Y", "u"):
        return "%y" if count == 2 else "%Y"
    if ch == "M":
        return {1: "%-m", 2: "%m", 3: "%b"}.get(count, "%B")
    if ch in padded and count <= 2:
        return ("%-" if count == 1 else "%") + padded[ch]
    if ch == "S" and count in (3, 6, 9):
        return {3: "%g", 6: "%f", 9: "%n"}[count]
    if ch == "E":
        return "%a" if count <= 3 else "%A"
    if ch == "a" and count == 1:
        return "%p"
    if ch == "D" and count in (1, 3):
        return "%-j" if count == 1 else "%j"
    if ch == "Z" and count == 1:
        return "%z"
    if ch == "z" and count <= 3:
        return "%Z"
    raise UnsupportedSQLError(
        f"format_datetime pattern {pattern!r}: the Joda field {ch * count!r} is not supported by "
        "the local engine; use yyyy, yy, M..MMMM, d, dd, H, HH, h, hh, m, mm, s, ss, SSS, "
        "E, a, D, Z, z"
    )


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


class LocalEngine(Engine):
    """Athena-dialect SQL on a DuckDB file (the local home's catalog)."""

    def __init__(self, settings_or_path: Any, database: Optional[str] = None):
        default_root: Optional[Any] = None
        if hasattr(settings_or_path, "catalog_path"):
            path: Union[str, Path] = settings_or_path.catalog_path
            database = database or settings_or_path.database
            default_root = settings_or_path
        else:
            path = settings_or_path
            if str(path) != ":memory:" and Path(path).is_dir():
                path = Path(path) / "catalog.duckdb"
        if database is None:
            database = DEFAULT_DATABASE
        self.database = validate_identifier(database, "database")
        self.path = str(path)
        self._settings = default_root
        self._lock = threading.RLock()
        self._storage = LocalStorage()
        # Scan cache (see _cached_tables): table -> signature when last read, and table ->
        # (signature, temp table) once materialized.
        self._seen: Dict[str, Tuple[Any, ...]] = {}
        self._cached: Dict[str, Tuple[Tuple[Any, ...], str]] = {}
        # Tables whose cache is their write stage, oldest first (at most KEPT_STAGES).
        self._adopted: List[str] = []
        # Inside consistent_reads: table -> the file signature its first read in the block saw.
        self._pinned: Optional[Dict[str, Tuple[Any, ...]]] = None
        # Bytes of the raw JSON files statements naming `"$path"` opened (what Athena would scan).
        self.json_bytes_read = 0
        self._con = self._connect()

    # ---- connection ------------------------------------------------------------------
    def _connect(self):
        import duckdb

        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(self.path)
        except duckdb.Error as exc:
            held = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", str(exc))
            if held or "Could not set lock" in str(exc):
                # DuckDB allows one process per file; its own text runs to several lines.
                who = f" (PID {held.group(1)})" if held else ""
                raise EngineError(
                    f"the local catalog {self.path} is open in another process{who}; wait for "
                    "it to finish, or close its connection (a notebook's too), then retry"
                ) from exc
            raise EngineError(
                f"cannot open the local catalog {self.path}: {exc}. If another stockpipe process "
                "is using this home, wait for it to finish."
            ) from exc
        # Athena runs in UTC and divides integers as integers (7 / 2 = 3).
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET integer_division = true")
        self._tune(con)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(self.database)}")
        con.execute(f"SET search_path = {_lit(self.database + ',main')}")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS main.{CATALOG_TABLE} ("
            "database VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
            "location VARCHAR, columns VARCHAR, partitions VARCHAR, properties VARCHAR, "
            "created_at TIMESTAMP, PRIMARY KEY (database, name))"
        )
        for macro in _MACROS:
            con.execute(macro)
        return con

    def _tune(self, con: Any) -> None:
        """Speed and memory settings (measured in docs/performance.md); none changes a result."""
        # Athena gives no row order without ORDER BY, so DuckDB need not keep it: COPY and the
        # stage CTAS then run in parallel without buffering rows to restore their order.
        con.execute("SET preserve_insertion_order = false")
        # Quality scans each table many times: keep the Parquet footers instead of re-reading
        # thousands of them per statement.
        con.execute("SET parquet_metadata_cache = true")
        # A bound, so a big dedup window or sort spills to disk instead of growing past the
        # 4 GB target; the spill folder lives next to the catalog, inside the home.
        con.execute(f"SET memory_limit = {_lit(MEMORY_LIMIT)}")
        if self.path != ":memory:":
            spill = Path(self.path + ".tmp")  # DuckDB's own default name for it
            con.execute(f"SET temp_directory = {_lit(str(spill))}")
        # A JSON table's view lists this empty file after its glob so that it keeps its typed
        # columns while the location holds no object yet (see _json_view).
        empty = self._empty_json_path()
        if not empty.exists():
            empty.parent.mkdir(parents=True, exist_ok=True)
            empty.write_bytes(b"")

    def _empty_json_path(self) -> Path:
        if self.path == ":memory:":
            import tempfile

            return Path(tempfile.gettempdir()) / "stockpipe-empty.json"
        return Path(self.path + ".empty.json")

    @property
    def con(self):
        if self._con is None:
            raise EngineError(f"the local engine on {self.path} is closed; create a new one")
        return self._con

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    # ---- public API ----------------------------------------------------------------------
    def execute(self, sql: str) -> QueryResult:
        text = (sql or "").strip().rstrip(";").strip()
        if not text:
            raise EngineError("empty statement: give one Athena SQL statement")
        with self._lock, self._athena_errors(text):
            return self._dispatch(text)

    @contextmanager
    def _athena_errors(self, text: str) -> Iterator[None]:
        """DuckDB and sqlglot errors raised inside, as Athena-style EngineErrors about `text`."""
        import duckdb
        import sqlglot.errors

        try:
            yield
        except StockpipeError:
            raise
        except (duckdb.Error, sqlglot.errors.SqlglotError) as exc:
            raise _athena_error(exc, self.database, text) from exc

    @contextmanager
    def consistent_reads(self) -> Iterator[None]:
        """Each table's files are checked at its first read in the block, not before every
        statement: 57 ms per read of a 4,016-file table, 0.6 s of a quality run. Writes through
        this engine inside the block unpin their table; files changed by anything else are
        seen after the block (the reads inside it keep the state they started with)."""
        with self._lock:
            outer = self._pinned is not None
            if not outer:
                self._pinned = {}
        try:
            yield
        finally:
            if not outer:
                with self._lock:
                    self._pinned = None

    def _unpin(self, name: str) -> None:
        if self._pinned is not None:
            self._pinned.pop(name, None)

    def create_stage(
        self,
        name: str,
        select_sql: str,
        location: str,
        *,
        compression: str = "SNAPPY",
        order_by: Optional[str] = None,
    ) -> None:
        """The stage in memory: a DuckDB temp table of this session (spilled to the temp folder
        past memory_limit), sorted by `order_by` so that each batch's range predicate skips the
        other row groups. Writing it to Parquet and reading it back, as Athena must, cost about a
        third of the transform at 10 M rows; nothing outside this session ever reads it."""
        import sqlglot
        from sqlglot import exp

        validate_identifier(name, "staging table name")
        with self._lock, self._athena_errors(select_sql):
            if self._entry(name) is not None:
                raise EngineError(
                    f"{ALREADY_EXISTS}: Table {self.database}.{name} already exists; drop it "
                    "first (drop_stage)",
                    error_name=ALREADY_EXISTS,
                )
            node = sqlglot.parse_one(select_sql, read="athena")
            if not isinstance(node, exp.Query):
                raise EngineError(f"the stage {name} needs a SELECT, got: {_head(select_sql)}")
            sel = self._transpile(self._cached_tables(_athena_column_names(node)))
            self._check_columns(self._columns_of(sel), [], name)
            order = ""
            if order_by:
                order = f" ORDER BY {_q(validate_identifier(order_by, 'stage order column'))}"
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_q(name)} AS SELECT * FROM ({sel}){order}"
            )

    def drop_stage(
        self, name: str, location: str, storage: Any, *, keep_as: Optional[str] = None
    ) -> None:
        """Drop the in-memory stage, or keep it as the scan cache of `keep_as` (the table it
        was just written to, row for row): the next step reads that table from memory instead
        of opening its thousands of files (dedup reads the typed table, quality both). The
        KEPT_STAGES most recent such tables are kept: during dedup the typed table's cache and
        the new stage exist together anyway, so keeping both into quality adds no peak memory."""
        validate_identifier(name, "staging table name")
        with self._lock:
            if not (keep_as and self._adopt_stage(name, keep_as)):
                self.con.execute(f"DROP TABLE IF EXISTS temp.{_q(name)}")
        # A Parquet stage (a catalog table and files) left by an older version's crashed run.
        super().drop_stage(name, location, storage)

    def _adopt_stage(self, stage: str, table: str) -> bool:
        """Rename the temp table `stage` to `table`'s scan cache, if it has the same columns."""
        entry = self._entry(table)
        exists = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [stage]
        ).fetchone()[0]
        if entry is None or entry.kind != "parquet" or not exists:
            return False
        described = self.con.execute(f"DESCRIBE temp.{_q(stage)}").fetchall()
        stage_cols = [(str(r[0]).lower(), str(r[1]).upper()) for r in described]
        if stage_cols != [(c.lower(), t.upper()) for c, t in entry.all_columns]:
            return False
        sig = _files_signature(entry, max_bytes=None)
        if sig is None:
            return False
        self._unpin(table)
        self._drop_cached(table)
        while len(self._adopted) >= KEPT_STAGES:
            # A pin taken while it was kept (with no size cap) would not match its files'
            # capped signature any more.
            self._unpin(self._adopted[0])
            self._drop_cached(self._adopted[0])
        temp = CACHE_PREFIX + table
        self.con.execute(f"DROP TABLE IF EXISTS temp.{_q(temp)}")
        self.con.execute(f"ALTER TABLE temp.{_q(stage)} RENAME TO {_q(temp)}")
        self._cached[table] = (sig, temp)
        self._seen[table] = sig
        self._adopted.append(table)
        return True

    def list_tables(self) -> List[str]:
        with self._lock:
            rows = self.con.execute(
                f"SELECT name FROM main.{CATALOG_TABLE} WHERE database = ? ORDER BY name",
                [self.database],
            ).fetchall()
        return [r[0] for r in rows]

    def describe_table(self, name: str) -> Optional[TableEntry]:
        """The catalog entry of `name` (None when unknown)."""
        with self._lock:
            return self._entry(validate_identifier(name, "table name"))

    # ---- dispatch ------------------------------------------------------------------------
    def _dispatch(self, text: str) -> QueryResult:
        import sqlglot
        from sqlglot import exp

        bare = _LEADING_COMMENTS.sub("", text)
        m = _SHOW.match(bare)
        if m:
            return self._show(m.group(1).lower(), m.group(2), m.group(3))
        m = _SHOW_PARTITIONS.match(bare)
        if m:
            return self._show_partitions(self._parse_name(m.group(1)))
        m = _MSCK.match(bare)
        if m:
            return self._repair(self._parse_name(m.group(1)))
        statements = [s for s in sqlglot.parse(text, read="athena") if s is not None]
        if len(statements) != 1:
            raise EngineError(
                f"expected exactly one statement, got {len(statements)}: run them one at a time "
                f"[statement: {_head(text)}]"
            )
        node = statements[0]
        if isinstance(node, exp.Create):
            kind = (node.args.get("kind") or "").upper()
            if kind == "TABLE" and node.expression is not None:
                return self._ctas(node)
            if kind == "TABLE":
                return self._create_external(node)
            if kind == "VIEW":
                return self._create_view(node)
        elif isinstance(node, exp.Insert):
            return self._insert(node)
        elif isinstance(node, exp.Drop):
            return self._drop(node)
        elif isinstance(node, exp.Describe):
            return self._describe(node)
        elif isinstance(node, exp.Query):
            return self._select(node)
        elif isinstance(node, exp.Alter):
            return self._alter(node, text)
        raise UnsupportedSQLError(
            f"the local engine does not run this kind of statement ({type(node).__name__}): "
            f"{_head(text)}. It runs SELECT/WITH, CTAS, INSERT INTO, CREATE EXTERNAL TABLE, "
            "CREATE [OR REPLACE] VIEW, DROP TABLE/VIEW, DESCRIBE, SHOW TABLES, MSCK REPAIR TABLE"
        )

    # ---- names and catalog ---------------------------------------------------------------
    def _parse_name(self, raw: str) -> str:
        parts = [p.strip('`"') for p in raw.split(".")]
        return self._check_name(parts[-1], parts[-2] if len(parts) > 1 else None)

    def _table_name(self, table: Any) -> str:
        from sqlglot import exp

        if isinstance(table, exp.Schema):
            table = table.this
        if not isinstance(table, exp.Table):
            raise UnsupportedSQLError(f"expected a table name, got {table.sql('athena')!r}")
        return self._check_name(table.name, table.args.get("db") and table.db)

    def _check_name(self, name: str, db: Optional[str]) -> str:
        if db and db.lower() != self.database:
            raise EngineError(
                f"database {db!r} does not exist here: the local catalog holds database "
                f"{self.database!r}",
                error_name=NOT_FOUND,
            )
        return validate_identifier(name.lower() if name else name, "table name")

    def _entry(self, name: str) -> Optional[TableEntry]:
        row = self.con.execute(
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

    def _register(self, entry: TableEntry, view_sql: str, replace: bool = False) -> None:
        self._unpin(entry.name)  # a new or altered table: its next read checks its files
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            verb = "CREATE OR REPLACE VIEW" if replace else "CREATE VIEW"
            con.execute(f"{verb} {_q(self.database)}.{_q(entry.name)} AS {view_sql}")
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

    def _forget(self, name: str) -> None:
        self._unpin(name)
        self._drop_cached(name)
        self._seen.pop(name, None)
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DROP VIEW IF EXISTS {_q(self.database)}.{_q(name)}")
            con.execute(
                f"DELETE FROM main.{CATALOG_TABLE} WHERE database = ? AND name = ?",
                [self.database, name],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise

    def _location(self, raw: str, table: str) -> str:
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
        return text.rstrip("/") + "/"

    # ---- SQL translation ---------------------------------------------------------------
    def _transpile(self, node: Any) -> str:
        """Athena AST -> DuckDB SQL, closing the gaps sqlglot leaves."""
        from sqlglot import exp
        from sqlglot.errors import ErrorLevel, UnsupportedError

        tree = with_path_views(node, self._path_view).copy()
        # Children first, so a rewritten node wraps already-rewritten arguments.
        for sub in reversed(list(tree.dfs())):
            new = self._rewrite(sub, exp)
            if new is not None and new is not sub:
                if sub is tree:
                    tree = new
                else:
                    sub.replace(new)
        try:
            return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as exc:
            raise UnsupportedSQLError(
                f"the local engine cannot translate part of this statement to DuckDB: {exc}"
            ) from exc

    def _rewrite(self, node: Any, exp: Any) -> Any:
        if isinstance(node, exp.Table):
            catalog = node.args.get("catalog")
            if catalog is not None and catalog.name.lower() == "awsdatacatalog":
                node.set("catalog", None)
            db = node.args.get("db")
            if db is not None and db.name.lower() != self.database and not node.args.get("catalog"):
                raise EngineError(
                    f"database {db.name!r} does not exist here: the local catalog holds "
                    f"database {self.database!r}",
                    error_name=NOT_FOUND,
                )
            return None
        if isinstance(node, exp.Anonymous) and node.name.lower() == "format_datetime":
            args = node.expressions
            if len(args) != 2 or not (isinstance(args[1], exp.Literal) and args[1].is_string):
                raise UnsupportedSQLError(
                    "format_datetime needs a constant Joda pattern as its second argument on the "
                    f"local engine, got {node.sql('athena')!r}"
                )
            fmt = joda_to_strftime(args[1].this)
            return exp.Anonymous(this="strftime", expressions=[args[0], exp.Literal.string(fmt)])
        if isinstance(node, exp.Anonymous) and node.name.lower() == "to_iso8601":
            return exp.Anonymous(this="__sp_iso8601", expressions=node.expressions)
        if isinstance(node, exp.Anonymous) and node.name.lower() == "with_timezone":
            # Trino: the wall-clock timestamp read in `zone`, as timestamp with time zone.
            if len(node.expressions) != 2:
                raise UnsupportedSQLError(f"with_timezone takes 2 arguments: {node.sql('athena')}")
            ts = exp.Cast(this=node.expressions[0], to=exp.DataType.build("TIMESTAMP"))
            return exp.Anonymous(this="timezone", expressions=[node.expressions[1], ts])
        if isinstance(node, exp.ParseDatetime):
            fmt = node.args.get("format")
            if not (isinstance(fmt, exp.Literal) and fmt.is_string):
                raise UnsupportedSQLError(
                    "parse_datetime needs a constant Joda pattern on the local engine, got "
                    f"{node.sql('athena')!r}"
                )
            parsed = exp.Anonymous(
                this="strptime",
                expressions=[node.this, exp.Literal.string(joda_to_strftime(fmt.this))],
            )
            return exp.Cast(this=parsed, to=exp.DataType.build("TIMESTAMPTZ"))
        if isinstance(node, exp.AtTimeZone):
            # Trino: the same instant shown in `zone`. DuckDB: timezone(zone, timestamptz) gives
            # the wall-clock time there; a plain timestamp is first read as UTC (Athena's zone).
            ts = exp.Cast(this=node.this, to=exp.DataType.build("TIMESTAMPTZ"))
            zone = node.args["zone"]
            if isinstance(zone, exp.Literal) and zone.is_string and zone.this.upper() == "UTC":
                return exp.Anonymous(this="__sp_utc", expressions=[ts])
            return exp.Anonymous(this="timezone", expressions=[zone, ts])
        if isinstance(node, exp.Round):
            return self._trino_round(node, exp)
        if isinstance(node, exp.Cast) and node.to.is_type(
            exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR
        ):
            if isinstance(node.this, exp.Literal):
                return None
            return exp.Anonymous(this="__sp_varchar", expressions=[node.this])
        return None

    @staticmethod
    def _trino_round(node: Any, exp: Any) -> Any:
        """round(x, n) as Trino computes it for doubles: Math.round(x * 10^n) / 10^n, mirrored for
        negatives (half away from zero on the binary product). DuckDB's own round(double, n)
        differs on products that land exactly on .5: round(75.145E0, 2) is 75.15 in Trino
        (75.145 * 100 == 7514.5 in binary) but 75.14 in DuckDB."""
        decimals = node.args.get("decimals")
        if decimals is None:
            return None  # round(x): DuckDB's std::round is half away from zero, as Trino's
        if not (isinstance(decimals, exp.Literal) and not decimals.is_string):
            raise UnsupportedSQLError(
                "round(x, n) needs a constant whole number n on the local engine, got "
                f"{node.sql('athena')!r}"
            )
        n = int(decimals.this)
        arg = node.this
        is_decimal = (
            isinstance(arg, exp.Literal) and not arg.is_string and "e" not in arg.this.lower()
        ) or (isinstance(arg, exp.Cast) and arg.to.is_type(exp.DataType.Type.DECIMAL))
        if n < 0 or is_decimal:
            return None  # DuckDB rounds decimals exactly, half up, and keeps the type: as Trino
        factor = exp.Literal.number(10**n)
        scaled = exp.Round(this=exp.Mul(this=exp.Paren(this=node.this.copy()), expression=factor))
        return exp.Paren(this=exp.Div(this=scaled, expression=factor.copy()))

    def _columns_of(self, duck_sql: str) -> List[Tuple[str, str]]:
        return [(r[0], r[1]) for r in self.con.execute(f"DESCRIBE {duck_sql}").fetchall()]

    # ---- statements ----------------------------------------------------------------------
    def _select(self, node: Any) -> QueryResult:
        node = _athena_column_names(node)
        node = self._cached_tables(node)
        cur = self.con.execute(self._transpile(node))
        columns = [d[0] for d in (cur.description or [])]
        return QueryResult(columns=columns, rows=cur.fetchall())

    def _cached_tables(self, node: Any) -> Any:
        """`node` with each Parquet table that was read before with the very same files (path,
        size, mtime) swapped for a temp-table copy of it. The copy is made on the second read
        and used until any file of the table changes, so results never differ from a scan."""
        from sqlglot import exp

        ctes = {c.alias_or_name.lower() for c in node.find_all(exp.CTE)}
        swaps: Dict[int, str] = {}
        for table in node.find_all(exp.Table):
            name = (table.name or "").lower()
            db = table.args.get("db")
            if (
                not name
                or name in ctes
                or table.args.get("catalog") is not None
                or (db is not None and db.name.lower() != self.database)
            ):
                continue
            temp = self._cache_for(name)
            if temp is not None:
                swaps[id(table)] = temp
        if not swaps:
            return node
        node = node.copy()
        for table in list(node.find_all(exp.Table)):
            name = (table.name or "").lower()
            if name in ctes or table.args.get("catalog") is not None:
                continue
            db = table.args.get("db")
            if db is not None and db.name.lower() != self.database:
                continue
            cached = self._cached.get(name)
            if cached is None:
                continue
            alias = table.alias or name
            table.replace(exp.to_table(cached[1]).as_(alias, quoted=True))
        return node

    def _cache_for(self, name: str) -> Optional[str]:
        """The temp table holding `name`'s current rows, made now if this is its second read."""
        try:
            validate_identifier(name, "table name")
        except IdentifierError:
            return None
        entry = self._entry(name)
        if entry is None or entry.kind != "parquet" or not entry.location:
            self._seen.pop(name, None)
            self._drop_cached(name)
            return None
        # A table kept from its write stage stays cached whatever its size.
        cap = None if name in self._adopted else SCAN_CACHE_MAX_BYTES
        sig = self._pinned.get(name) if self._pinned is not None else None
        if sig is None:
            sig = _files_signature(entry, max_bytes=cap)
            if sig is not None and self._pinned is not None:
                self._pinned[name] = sig
        if sig is None:
            self._seen.pop(name, None)
            self._drop_cached(name)
            return None
        cached = self._cached.get(name)
        if cached is not None and cached[0] == sig:
            return cached[1]
        self._drop_cached(name)
        if self._seen.get(name) != sig:
            self._seen[name] = sig
            return None
        temp = CACHE_PREFIX + name
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_q(temp)} AS "
            f"SELECT * FROM {_q(self.database)}.{_q(name)}"
        )
        if _files_signature(entry, max_bytes=cap) != sig:  # changed while we copied
            self.con.execute(f"DROP TABLE IF EXISTS temp.{_q(temp)}")
            return None
        self._cached[name] = (sig, temp)
        return temp

    def _drop_cached(self, name: str) -> None:
        if name in self._adopted:
            self._adopted.remove(name)
        cached = self._cached.pop(name, None)
        if cached is not None:
            self.con.execute(f"DROP TABLE IF EXISTS temp.{_q(cached[1])}")

    def _ctas(self, node: Any) -> QueryResult:
        from sqlglot import exp

        if isinstance(node.this, exp.Schema):
            raise UnsupportedSQLError(
                "CREATE TABLE t (columns) AS SELECT is not supported: name the columns with "
                "aliases in the SELECT instead"
            )
        name = self._table_name(node.this)
        if self._entry(name) is not None:
            if node.args.get("exists"):
                return QueryResult()
            raise EngineError(
                f"{ALREADY_EXISTS}: Table {self.database}.{name} already exists; drop it first "
                "(DROP TABLE keeps its files: empty the location too)",
                error_name=ALREADY_EXISTS,
            )
        props = self._ctas_properties(node, name)
        self._check_named_columns(node.expression, name)
        sel = self._transpile(node.expression)
        cols = self._columns_of(sel)
        parts = props["partitioned_by"]
        self._check_columns(cols, parts, name)
        location = props["location"]
        if not self._storage.is_empty(location):
            raise EngineError(
                f"{PATH_ALREADY_EXISTS}: Target directory for table '{self.database}.{name}' "
                f"already exists: {location}. The CTAS location must be empty: delete the files "
                "there (or choose another location) and retry",
                error_name=PATH_ALREADY_EXISTS,
            )
        data_cols = cols[: len(cols) - len(parts)]
        part_cols = cols[len(cols) - len(parts) :]
        sel, data_cols, part_cols = self._fix_types(sel, data_cols, part_cols)
        rows = self._write(sel, part_cols, location, props["compression"])
        entry = TableEntry(
            name=name,
            kind="parquet",
            location=location,
            columns=data_cols,
            partitions=part_cols,
            properties={"format": "PARQUET", "compression": props["compression"]},
        )
        self._register(entry, self._parquet_view(entry))
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
                    validate_identifier(_literal_text(i).lower(), "partition column") for i in items
                ]
                continue
            if isinstance(prop, exp.LocationProperty):
                out["location"] = self._location(_literal_text(prop.this), name)
                continue
            key = (prop.name if isinstance(prop, exp.Property) else type(prop).__name__).lower()
            value = prop.args.get("value") if isinstance(prop, exp.Property) else None
            if key == "external_location":
                out["location"] = self._location(_literal_text(value), name)
            elif key in ("write_compression", "parquet_compression"):
                codec = _literal_text(value).lower()
                if codec not in COMPRESSIONS:
                    raise UnsupportedSQLError(
                        f"write_compression {codec!r} for table {name!r} is not supported; use "
                        f"one of {', '.join(sorted(COMPRESSIONS))}"
                    )
                out["compression"] = COMPRESSIONS[codec]
            elif key == "format":
                fmt = _literal_text(value).upper()
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
            if self._settings is None:
                raise UnsupportedSQLError(
                    f"CTAS for table {name!r} needs WITH (external_location='...') on the local "
                    "engine when it was not created from Settings"
                )
            out["location"] = self._location(self._settings.table_location(name), name)
        return out

    def _check_named_columns(self, query: Any, name: str) -> None:
        from sqlglot import exp

        select = query if isinstance(query, exp.Select) else query.find(exp.Select)
        if select is None:
            return
        for i, item in enumerate(select.expressions, start=1):
            if not isinstance(item, (exp.Alias, exp.Column, exp.Star)):
                raise EngineError(
                    f"{NOT_SUPPORTED}: Column name not specified at position {i} in CTAS for "
                    f"table {name!r}: give it an alias ({_head(item.sql('athena'), 60)} AS name)",
                    error_name=NOT_SUPPORTED,
                )

    def _check_columns(self, cols: List[Tuple[str, str]], parts: Sequence[str], name: str) -> None:
        names = [c.lower() for c, _ in cols]
        seen = set()
        for c in names:
            if c in seen:
                raise EngineError(
                    f"Column name {c!r} appears twice in the result for table {name!r}; alias one",
                    error_name=NOT_SUPPORTED,
                )
            seen.add(c)
            try:
                validate_identifier(c, "column name")
            except IdentifierError as exc:
                raise EngineError(f"table {name!r}: {exc}") from exc
        if parts and (len(parts) >= len(names) or names[len(names) - len(parts) :] != list(parts)):
            raise EngineError(
                f"{COLUMN_ORDER_MISMATCH}: Partition keys must be the last columns in the table "
                f"and in the same order as the table properties: {list(parts)} (table {name!r} "
                f"has columns {names})",
                error_name=COLUMN_ORDER_MISMATCH,
            )
        for c, t in cols:
            if "TIME ZONE" in t.upper():
                raise EngineError(
                    f"{NOT_SUPPORTED}: Unsupported Hive type: timestamp(3) with time zone "
                    f"(column {c!r} of table {name!r}); CAST it AS timestamp",
                    error_name=NOT_SUPPORTED,
                )

    def _fix_types(self, sel: str, data_cols, part_cols):
        """Athena has no 128-bit or unsigned integers: DuckDB's sum(bigint) etc. become bigint."""
        replace = []
        fixed = []
        for c, t in list(data_cols) + list(part_cols):
            if t.upper() in ("HUGEINT", "UHUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
                replace.append(f"CAST({_q(c)} AS BIGINT) AS {_q(c)}")
                t = "BIGINT"
            fixed.append((c.lower(), t))
        if replace:
            sel = f"SELECT * REPLACE ({', '.join(replace)}) FROM ({sel})"
        n = len(data_cols)
        return sel, fixed[:n], fixed[n:]

    def _write(self, sel: str, part_cols: List[Tuple[str, str]], location: str, codec: str) -> int:
        """Write `sel` as Parquet files under `location` (new file names; nothing overwritten)."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
        con = self.con
        Path(location).mkdir(parents=True, exist_ok=True)
        if not part_cols:
            target = f"{location}{stamp}_{uuid.uuid4()}.parquet"
            row = con.execute(
                f"COPY ({sel}) TO {_lit(target)} (FORMAT PARQUET, COMPRESSION {codec})"
            ).fetchone()
            return int(row[0]) if row else 0
        keys = ", ".join(_q(c) for c, _ in part_cols)
        # The partitions are counted from the files the COPY reports, not by evaluating the
        # SELECT twice: a statement over the limit has its new files removed again and fails,
        # as in Athena (which may leave such files behind).
        row = con.execute(
            f"COPY ({sel}) TO {_lit(location.rstrip('/'))} (FORMAT PARQUET, "
            f"PARTITION_BY ({keys}), COMPRESSION {codec}, "
            f"FILENAME_PATTERN {_lit(stamp + '_{uuid}')}, APPEND, RETURN_FILES true)"
        ).fetchone()
        files = list(row[1] or []) if row else []
        folders = {os.path.dirname(f) for f in files}
        if len(folders) > MAX_OPEN_PARTITIONS:
            _remove_written(files, location)
            raise EngineError(
                f"{TOO_MANY_PARTITIONS}: Exceeded limit of {MAX_OPEN_PARTITIONS} open writers "
                f"for partitions/buckets ({len(folders)} partitions in one statement; write at "
                f"most {MAX_OPEN_PARTITIONS} per statement: a CTAS of the first "
                f"{MAX_OPEN_PARTITIONS}, then INSERT INTO batches of at most "
                f"{MAX_OPEN_PARTITIONS} (Athena's documented workaround; runtime.engines."
                "partitioned.write_partitioned does it))",
                error_name=TOO_MANY_PARTITIONS,
            )
        return int(row[0]) if row else 0

    def _parquet_view(self, entry: TableEntry) -> str:
        # The typed empty branch keeps the view valid (and typed) while the location has no file.
        cols = entry.all_columns
        names = ", ".join(_q(c) for c, _ in cols)
        typed = ", ".join(f"CAST(NULL AS {t}) AS {_q(c)}" for c, t in cols)
        loc = entry.location or ""
        if entry.partitions:
            glob = loc + "*/" * len(entry.partitions) + "*.parquet"
            hive = "{" + ", ".join(f"{_lit(c)}: {_lit(t)}" for c, t in entry.partitions) + "}"
            src = (
                f"read_parquet({_lit(glob)}, hive_partitioning = true, hive_types = {hive}, "
                "hive_types_autocast = false, allow_empty = true)"
            )
        else:
            src = (
                f"read_parquet({_lit(loc + '*.parquet')}, hive_partitioning = false, "
                "allow_empty = true)"
            )
        return (
            f"SELECT {names} FROM (SELECT {typed} WHERE false "
            f"UNION ALL BY NAME SELECT * FROM {src})"
        )

    def _json_view(self, entry: TableEntry, paths: Optional[Sequence[str]] = None) -> str:
        """The DuckDB SELECT of a JSON table; with `paths`, over just those files and with the
        file name as the `"$path"` column (see json_paths)."""
        loc = entry.location or ""
        # Athena skips objects whose name starts with '.' or '_' (temp and marker files); the
        # glob leaves them out of the file list, which costs nothing per row (a regexp on every
        # row's file name doubled the cost of a scan at 10 M rows).
        glob = self._json_glob(entry)
        # The empty file keeps the columns typed while no object matches the glob (read_json
        # then has no schema at all); it adds no row. A UNION with a typed empty SELECT did the
        # same but stopped DuckDB from pruning the unused columns (2.0 s against 1.1 s for a
        # count(*) of 10 M rows).
        listed = [glob] if paths is None else list(paths)
        files = "[" + ", ".join(_lit(f) for f in [*listed, str(self._empty_json_path())]) + "]"
        struct = "{" + ", ".join(f"{_lit(c)}: {_lit(t)}" for c, t in entry.columns) + "}"
        ignore = ", ignore_errors = true" if entry.properties.get("ignore_malformed") else ""
        # DuckDB's virtual `filename` column is only computed when a query uses it (a partition
        # column); a table with its own `filename` column gets the file name under another name.
        names = {c for c, _ in entry.columns}
        file_col = "filename" if "filename" not in names else "__sp_file"
        named = "" if file_col == "filename" else f", filename = {_lit(file_col)}"
        src = (
            f"read_json({files}, format = 'newline_delimited', columns = {struct}{named}, "
            f"hive_partitioning = false, allow_empty = true{ignore})"
        )
        outs = [_q(c) for c, _ in entry.columns]
        # Folder level i below the prefix is partition i-1, as the Glue crawler names them.
        base = loc.count("/")
        for i, (c, t) in enumerate(entry.partitions, start=1):
            outs.append(f"CAST(split_part({file_col}, '/', {base + i}) AS {t}) AS {_q(c)}")
        if paths is not None:
            outs.append(f"{file_col} AS {_q(PATH_COLUMN)}")
        return f"SELECT {', '.join(outs)} FROM {src}"

    @staticmethod
    def _json_glob(entry: TableEntry) -> str:
        return (entry.location or "") + "*/" * len(entry.partitions) + "[!._]*"

    def _path_view(self, name: str, paths: Optional[List[str]]) -> Optional[str]:
        """A temp view of the JSON table `name` with its `"$path"` column, over the files
        `paths` names (those of the table that exist) or, when None, all of the table's."""
        import glob as globbing

        entry = self._entry(name)
        if entry is None or entry.kind != "json":
            return None
        if paths is None:
            files = sorted(globbing.glob(self._json_glob(entry)))
        else:
            depth = len(entry.partitions)
            pattern = re.compile(
                re.escape(entry.location or "") + rf"(?:[^/]+/){{{depth}}}[^/._][^/]*$"
            )
            files = sorted({p for p in paths if pattern.match(p) and os.path.isfile(p)})
        self.json_bytes_read += sum(os.path.getsize(f) for f in files)
        view = f"__sp_path_{name}"
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {_q(view)} AS {self._json_view(entry, files)}"
        )
        return view

    def _create_external(self, node: Any) -> QueryResult:
        from sqlglot import exp

        schema = node.this
        name = self._table_name(schema)
        props = node.args.get("properties")
        items = list(props.expressions) if props is not None else []
        if not any(isinstance(p, exp.ExternalProperty) for p in items):
            raise UnsupportedSQLError(
                f"CREATE TABLE {name} without AS SELECT must be CREATE EXTERNAL TABLE (as in "
                "Athena); the local engine has no managed tables"
            )
        if self._entry(name) is not None:
            if node.args.get("exists"):
                return QueryResult()
            raise EngineError(
                f"{ALREADY_EXISTS}: Table {self.database}.{name} already exists",
                error_name=ALREADY_EXISTS,
            )
        if not isinstance(schema, exp.Schema) or not schema.expressions:
            raise EngineError(f"CREATE EXTERNAL TABLE {name} needs a column list")
        columns = [self._column_def(c, name) for c in schema.expressions]
        partitions: List[Tuple[str, str]] = []
        serde = serde_name = None
        fmt = None
        location = None
        options: Dict[str, Any] = {}
        for prop in items:
            if isinstance(prop, exp.ExternalProperty):
                continue
            if isinstance(prop, exp.PartitionedByProperty):
                partitions = [self._column_def(c, name) for c in prop.this.expressions]
            elif isinstance(prop, exp.RowFormatSerdeProperty):
                serde_name = _literal_text(prop.this)
                serde = serde_name.lower()
                sp = prop.args.get("serde_properties")
                for kv in sp.expressions if sp is not None else []:
                    key, value = _literal_text(kv.this).lower(), _literal_text(kv.args.get("value"))
                    if key == "ignore.malformed.json":
                        options["ignore_malformed"] = value.lower() == "true"
                    elif key in ("case.insensitive", "dots.in.keys") and value.lower() in (
                        "true",
                        "false",
                    ):
                        if key == "dots.in.keys" and value.lower() == "true":
                            raise UnsupportedSQLError(
                                f"SERDEPROPERTIES 'dots.in.keys'='true' on {name!r}"
                            )
                    else:
                        raise UnsupportedSQLError(
                            f"SERDEPROPERTIES {key!r} on table {name!r} is not supported "
                            "by the local engine"
                        )
            elif isinstance(prop, exp.FileFormatProperty):
                fmt = prop.name.upper()
            elif isinstance(prop, exp.LocationProperty):
                location = self._location(_literal_text(prop.this), name)
            elif isinstance(prop, exp.Property):
                key = prop.name.lower()
                if key not in HARMLESS_TBLPROPERTIES:
                    raise UnsupportedSQLError(
                        f"TBLPROPERTIES {key!r} on table {name!r} is not supported by "
                        "the local engine"
                    )
            else:
                raise UnsupportedSQLError(
                    f"{prop.sql('athena')!r} on table {name!r} is not supported by the local engine"
                )
        if location is None:
            raise EngineError(f"CREATE EXTERNAL TABLE {name} needs LOCATION '<prefix>'")
        names = [c for c, _ in columns + partitions]
        if len(set(names)) != len(names):
            raise EngineError(f"table {name!r} declares a column twice: {names}")
        if serde in JSON_SERDES and fmt in (None, "TEXTFILE"):
            entry = TableEntry(
                name, "json", location, columns, partitions, {**options, "serde": serde}
            )
            view = self._json_view(entry)
        elif fmt == "PARQUET" or serde == PARQUET_SERDE:
            entry = TableEntry(
                name, "parquet", location, columns, partitions, {"format": "PARQUET"}
            )
            view = self._parquet_view(entry)
        else:
            raise UnsupportedSQLError(
                f"external table {name!r} with serde {serde_name!r} and format {fmt!r} is not "
                "supported: "
                "the local engine reads JSON (org.openx.data.jsonserde.JsonSerDe) and PARQUET"
            )
        self._register(entry, view)
        return QueryResult()

    def _column_def(self, coldef: Any, table: str) -> Tuple[str, str]:
        name = coldef.name.lower()
        try:
            validate_identifier(name, "column name")
        except IdentifierError as exc:
            raise EngineError(f"table {table!r}: {exc}") from exc
        kind = coldef.args.get("kind")
        base = kind.this.name if kind is not None else ""
        if base not in SCALAR_TYPES:
            raise UnsupportedSQLError(
                f"column {name!r} of table {table!r} has type "
                f"{kind.sql('athena') if kind is not None else '?'}; the local engine supports "
                "string, varchar, bigint, int, smallint, tinyint, double, float, boolean, "
                "timestamp, date, decimal(p,s)"
            )
        duck = SCALAR_TYPES[base]
        if duck == "DECIMAL":
            duck = kind.sql("duckdb").replace(" ", "")
        return name, duck

    def _insert(self, node: Any) -> QueryResult:
        from sqlglot import exp

        target = node.this
        name = self._table_name(target)
        entry = self._entry(name)
        if entry is None:
            raise EngineError(
                f"{NOT_FOUND}: Table {self.database}.{name} does not exist; create it first (CTAS)",
                error_name=NOT_FOUND,
            )
        if entry.kind != "parquet":
            raise UnsupportedSQLError(
                f"INSERT INTO {name}: the local engine appends to Parquet tables only ({name} is "
                f"a {entry.kind} {'view' if entry.kind == 'view' else 'table'})"
            )
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
        out = self._columns_of(sel)
        if len(out) != len(listed):
            raise EngineError(
                f"Insert query has mismatched column count: table {name} expects {len(listed)} "
                f"columns {listed}, the query gives {len(out)} {[c for c, _ in out]}",
                error_name="TYPE_MISMATCH",
            )
        aliases = [f"__sp_c{i}" for i in range(len(out))]
        source = dict(zip(listed, aliases))
        projection = ", ".join(
            f"CAST({_q(source[c]) if c in source else 'NULL'} AS {t}) AS {_q(c)}"
            for c, t in table_cols
        )
        wrapped = (
            f"SELECT {projection} FROM ({sel}) AS __sp_src({', '.join(_q(a) for a in aliases)})"
        )
        self._unpin(name)
        rows = self._write(
            wrapped,
            entry.partitions,
            entry.location or "",
            entry.properties.get("compression", "snappy"),
        )
        return QueryResult(columns=["rows"], rows=[(rows,)])

    def _drop(self, node: Any) -> QueryResult:
        kind = (node.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            raise UnsupportedSQLError(f"DROP {kind} is not supported by the local engine")
        for table in node.args.get("tables") or [node.this]:
            name = self._table_name(table)
            entry = self._entry(name)
            if entry is None:
                if node.args.get("exists"):
                    continue
                raise EngineError(
                    f"{NOT_FOUND}: {kind.title()} {self.database}.{name} does not exist",
                    error_name=NOT_FOUND,
                )
            if (kind == "VIEW") != (entry.kind == "view"):
                raise EngineError(
                    f"{name} is a {'view' if entry.kind == 'view' else 'table'}: use DROP "
                    f"{'VIEW' if entry.kind == 'view' else 'TABLE'}"
                )
            self._forget(name)  # metadata only: the files stay, as in Athena
        return QueryResult()

    def _create_view(self, node: Any) -> QueryResult:
        name = self._table_name(node.this)
        entry = self._entry(name)
        if entry is not None and entry.kind != "view":
            raise EngineError(
                f"{name} is a table, not a view; choose another name", error_name=ALREADY_EXISTS
            )
        if entry is not None and not node.args.get("replace"):
            raise EngineError(
                f"{ALREADY_EXISTS}: View {self.database}.{name} already exists; use "
                "CREATE OR REPLACE VIEW",
                error_name=ALREADY_EXISTS,
            )
        sel = self._transpile(node.expression)
        cols = self._columns_of(sel)
        view = TableEntry(name, "view", None, cols, [], {"sql": node.expression.sql("athena")})
        self._register(view, sel, replace=True)
        return QueryResult()

    def _describe(self, node: Any) -> QueryResult:
        name = self._table_name(node.this)
        entry = self._entry(name)
        if entry is None:
            raise EngineError(
                f"{NOT_FOUND}: Table {self.database}.{name} does not exist", error_name=NOT_FOUND
            )
        cols = (
            entry.columns
            if entry.kind != "view"
            else self._columns_of(f"SELECT * FROM {_q(self.database)}.{_q(name)}")
        )
        rows = [(c, _athena_type(t), "") for c, t in cols]
        rows += [(c, _athena_type(t), "partition key") for c, t in entry.partitions]
        return QueryResult(columns=["col_name", "data_type", "comment"], rows=rows)

    def _show(self, what: str, db: Optional[str], pattern: Optional[str]) -> QueryResult:
        if db:
            self._check_name("x", db.strip('`"'))
        names = []
        for name in self.list_tables():
            entry = self._entry(name)
            if what == "views" and entry is not None and entry.kind != "view":
                continue
            names.append(name)
        if pattern:
            # Athena's SHOW TABLES pattern: '*' is any run of characters, '|' separates choices.
            alts = [re.escape(p.strip().lower()).replace(r"\*", ".*") for p in pattern.split("|")]
            rx = re.compile("^(?:" + "|".join(alts) + ")$")
            names = [n for n in names if rx.match(n)]
        return QueryResult(columns=["tab_name"], rows=[(n,) for n in names])

    def _show_partitions(self, name: str) -> QueryResult:
        entry = self._require_table(name)
        if not entry.partitions:
            raise EngineError(
                f"Table {self.database}.{name} is not partitioned", error_name=NOT_SUPPORTED
            )
        keys = [c for c, _ in entry.partitions]
        expr = " || '/' || ".join(f"{_lit(c + '=')} || CAST({_q(c)} AS VARCHAR)" for c in keys)
        rows = self.con.execute(
            f"SELECT DISTINCT {expr} AS p FROM {_q(self.database)}.{_q(name)} ORDER BY p"
        ).fetchall()
        return QueryResult(columns=["partition"], rows=rows)

    def _require_table(self, name: str) -> TableEntry:
        entry = self._entry(name)
        if entry is None or entry.kind == "view":
            raise EngineError(
                f"{NOT_FOUND}: Table {self.database}.{name} does not exist", error_name=NOT_FOUND
            )
        return entry

    def _repair(self, name: str) -> QueryResult:
        # Partitions are folders read at query time, so there is nothing to load; the table
        # must exist, as in Athena. Its new folders are seen by the next read, in a
        # consistent_reads block too.
        self._require_table(name)
        self._unpin(name)
        return QueryResult()

    def _alter(self, node: Any, text: str) -> QueryResult:
        name = self._table_name(node.this)
        bare = _LEADING_COMMENTS.sub("", text)
        drop = re.match(r"^alter\s+table\s+\S+\s+drop\s+(if\s+exists\s+)?partition\b", bare, re.I)
        if drop:
            return self._drop_partitions(name, bare, bool(drop.group(1)))
        if not re.match(
            r"^alter\s+table\s+\S+\s+add\s+(if\s+not\s+exists\s+)?partition\b", bare, re.I
        ):
            raise UnsupportedSQLError(
                f"ALTER TABLE {name}: only ADD [IF NOT EXISTS] PARTITION and DROP [IF EXISTS] "
                "PARTITION are supported locally"
            )
        entry = self._require_table(name)
        for m in re.finditer(r"\blocation\s+'([^']*)'", text, re.I):
            where = self._location(m.group(1), name)
            if not where.startswith(entry.location or ""):
                raise UnsupportedSQLError(
                    f"ALTER TABLE {name} ADD PARTITION LOCATION {m.group(1)!r} lies outside the "
                    f"table location {entry.location}; the local engine reads partitions from "
                    "folders under the table location only"
                )
        # Partitions are folders read at query time: nothing to add, but the next read must
        # look at the files again, in a consistent_reads block too.
        self._unpin(name)
        return QueryResult()

    def _drop_partitions(self, name: str, text: str, if_exists: bool) -> QueryResult:
        """ALTER TABLE DROP PARTITION. A partition here is its folder's files, which Athena's
        DROP leaves in place and a later INSERT into the same partition reads again; so, to
        fail where that would go wrong in the cloud, the files must be deleted first."""
        entry = self._require_table(name)
        keys = [c for c, _ in entry.partitions]
        specs = _PARTITION_SPEC.findall(text)
        if not keys or not specs:
            raise EngineError(
                f"ALTER TABLE {name} DROP PARTITION needs PARTITION (column = 'value') of a "
                f"partitioned table (partition columns: {keys or 'none'})",
                error_name=NOT_SUPPORTED,
            )
        for spec in specs:
            items = [_SPEC_ITEM.match(part) for part in spec.split(",")]
            if any(m is None for m in items) or [m.group(1).lower() for m in items] != keys:
                raise EngineError(
                    f"ALTER TABLE {name} DROP PARTITION ({spec}): name every partition column "
                    f"{keys} with a quoted value, in order",
                    error_name=NOT_SUPPORTED,
                )
            folder = (entry.location or "") + "/".join(
                f"{m.group(1).lower()}={m.group(2).replace(chr(39) * 2, chr(39))}" for m in items
            )
            files = self._storage.list(folder + "/")
            if files:
                raise EngineError(
                    f"ALTER TABLE {name} DROP PARTITION ({spec}): its {len(files)} files are "
                    f"still in {folder}/; Athena keeps them and a later INSERT into this "
                    "partition would read them again: delete them first",
                    error_name=NOT_SUPPORTED,
                )
            if not if_exists and not os.path.isdir(folder):
                raise EngineError(
                    f"{NOT_FOUND}: Partition ({spec}) of {self.database}.{name} does not exist",
                    error_name=NOT_FOUND,
                )
        self._unpin(name)
        self._drop_cached(name)
        self._seen.pop(name, None)
        return QueryResult()


_PARTITION_SPEC = re.compile(r"partition\s*\(([^)]*)\)", re.I)
_SPEC_ITEM = re.compile(r"^\s*`?(\w+)`?\s*=\s*'((?:[^']|'')*)'\s*$")


def _remove_written(files: Sequence[str], location: str) -> None:
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


def _files_signature(
    entry: TableEntry, max_bytes: Optional[int] = SCAN_CACHE_MAX_BYTES
) -> Optional[Tuple[Any, ...]]:
    """What identifies a Parquet table's current rows: its definition and every data file's
    path, size and modification time. None when it is empty or bigger than `max_bytes`."""
    root = entry.location or ""
    files = []
    total = 0
    # scandir, not os.walk: every read of a cached table checks this, and a table of 4,016
    # partition folders took 0.12 s per check with os.walk.
    folders = [root.rstrip("/") or "/"]
    while folders:
        try:
            listing = os.scandir(folders.pop())
        except (FileNotFoundError, NotADirectoryError):
            continue
        with listing:
            for item in listing:
                if item.is_dir(follow_symlinks=False):
                    folders.append(item.path)
                elif item.name.endswith(".parquet"):
                    st = item.stat()
                    total += st.st_size
                    if max_bytes is not None and total > max_bytes:
                        return None
                    files.append((item.path, st.st_size, st.st_mtime_ns))
    if not files:
        return None
    files.sort()
    return (root, json.dumps(entry.all_columns), tuple(files))


_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist")
_MISSING_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')
_CANDIDATES = re.compile(r"Candidate bindings: (.*?)(?:\n|LINE \d|$)", re.S)


def _athena_error(exc: Exception, database: str, text: str) -> EngineError:
    """DuckDB's message under Athena's error name for the two errors an analyst meets most (a
    mistyped table or column); DuckDB's own guesses ('Did you mean pg_attrdef') mislead here."""
    message = str(exc)
    table = _MISSING_TABLE.search(message)
    if table:
        return EngineError(
            f"TABLE_NOT_FOUND: Table '{database}.{table.group(1)}' does not exist; "
            f"`stockpipe tables` lists the catalog [statement: {_head(text)}]",
            error_name="TABLE_NOT_FOUND",
        )
    column = _MISSING_COLUMN.search(message)
    if column:
        found = _CANDIDATES.search(message)
        hint = f" (similar: {' '.join(found.group(1).split())})" if found else ""
        return EngineError(
            f"COLUMN_NOT_FOUND: Column '{column.group(1)}' cannot be resolved{hint} "
            f"[statement: {_head(text)}]",
            error_name="COLUMN_NOT_FOUND",
        )
    return EngineError(f"{message} [statement: {_head(text)}]")


def _athena_column_names(node: Any) -> Any:
    """Athena names an unaliased expression `_col<position>` (`SELECT ticker, count(*)` gives
    `ticker, _col1`); DuckDB would say `count_star()`. Applied to the outermost SELECT (the
    first branch of a UNION) unless it has a `*`, whose expansion would shift the positions."""
    from sqlglot import exp

    select = node
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return node
    items = select.expressions
    if any(isinstance(i, exp.Star) or (isinstance(i, exp.Column) and i.is_star) for i in items):
        return node
    if all(isinstance(i, (exp.Alias, exp.Column)) for i in items):
        return node
    node = node.copy()
    select = node
    while isinstance(select, exp.SetOperation):
        select = select.this
    select.set("expressions", [
        i if isinstance(i, (exp.Alias, exp.Column)) else exp.alias_(i, f"_col{pos}", quoted=True)
        for pos, i in enumerate(select.expressions)
    ])
    return node


def _literal_text(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, (exp.Var, exp.Identifier)):
        return node.name
    if node is None:
        raise EngineError("a property is missing its value")
    return node.sql("athena").strip("'")


def _athena_type(duck: str) -> str:
    upper = duck.upper()
    if upper.startswith("DECIMAL"):
        return duck.lower().replace(" ", "")
    return ATHENA_TYPE_NAMES.get(upper, duck.lower())

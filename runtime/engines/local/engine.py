"""LocalEngine: the facade. It opens the connection, hands it to its parts (catalog, scan cache,
statement handlers), and sends each statement to the part that runs it."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence, Union

from ...errors import EngineError, StockpipeError, UnsupportedSQLError, validate_identifier
from ...settings import DEFAULT_DATABASE, Settings
from ..base import Engine, QueryResult
from . import trino_zones
from .cache import SCAN_CACHE_MAX_BYTES, SCAN_CACHE_MIN_FILES, CacheStats, ScanCache
from .catalog import Catalog, TableEntry
from .connection import Connection
from .dialect import athena_column_names, q, transpile, transpile_query
from .guard import lake_roots, refuse_host_access, refuse_write
from .paths import PathViews
from .rules import already_exists, athena_error, check_columns, head
from .statements import Statements
from .writes import Writes

_SHOW = re.compile(
    r"^show\s+(tables|views)(?:\s+(?:in|from)\s+(\S+))?(?:\s+(?:like\s+)?'([^']*)')?$", re.I | re.S
)
_SHOW_PARTITIONS = re.compile(r"^show\s+partitions\s+(\S+)$", re.I | re.S)
# ALTER TABLE ... ADD/DROP PARTITION: matched here, because sqlglot parses an ADD of several
# partitions (valid Athena) only as an opaque command.
_ALTER_TABLE = re.compile(r"^alter\s+table\s+(\S+)\s", re.I)
_MSCK = re.compile(r"^msck\s+repair\s+table\s+(\S+)$", re.I | re.S)
_LEADING_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/))*\s*", re.S)


class LocalEngine(Engine):
    """Athena-dialect SQL on a DuckDB file (the local home's catalog).

    `path` is the DuckDB file (a folder means `<folder>/catalog.duckdb`, ":memory:" none);
    `default_location(table)` places a CTAS that names no external_location; tables of at most
    `scan_cache_bytes` of Parquet in at least `scan_cache_min_files` files are read from memory
    while their files stay the same; a table
    location outside `lake_roots` (folders; None: no limit) is refused, as are DuckDB's table
    functions (guard.py)."""

    def __init__(
        self,
        path: Union[str, PathLike],
        database: str = DEFAULT_DATABASE,
        default_location: Optional[Callable[[str], str]] = None,
        *,
        scan_cache_bytes: Optional[int] = SCAN_CACHE_MAX_BYTES,
        scan_cache_min_files: int = SCAN_CACHE_MIN_FILES,
        lake_roots: Optional[Sequence[str]] = None,
        read_only: bool = False,
    ):
        if not isinstance(path, (str, PathLike)):
            raise TypeError(
                f"LocalEngine takes the catalog's path, got {type(path).__name__}; "
                "use LocalEngine.from_settings(settings) to open a home's catalog"
            )
        if str(path) != ":memory:" and Path(path).is_dir():
            path = Path(path) / "catalog.duckdb"
        self.database = validate_identifier(database, "database")
        self.path = str(path)
        self._lock = threading.RLock()
        self._db = Connection(self.path, self.database, read_only=read_only)
        self._cache = ScanCache(self._db, scan_cache_bytes, scan_cache_min_files)
        self._catalog = Catalog(
            self._db,
            listener=self._cache,
            lake_roots=None if lake_roots is None else [str(r) for r in lake_roots],
        )
        self._paths = PathViews(self._db, self._catalog)
        self._writes = Writes(
            self._db, self._catalog, self._cache, default_location, paths=self._paths
        )
        self._statements = Statements(self._db, self._catalog, self._cache)

    @classmethod
    def from_settings(cls, settings: Settings, read_only: bool = False) -> LocalEngine:
        """The engine on a home's catalog; a CTAS without a location writes where the settings
        place that table. `read_only` for commands that only read: the catalog file is not
        written (a full disk does not stop them), and statements that would write fail."""
        return cls(
            settings.catalog_path,
            database=settings.database,
            default_location=settings.table_location,
            lake_roots=lake_roots(settings),
            read_only=read_only,
        )

    @property
    def con(self) -> Any:
        """The DuckDB connection (an EngineError once the engine is closed)."""
        return self._db.con

    @property
    def cache_stats(self) -> CacheStats:
        """What the scan cache holds and did so far (see docs/performance.md)."""
        with self._lock:
            return self._cache.stats

    @property
    def json_bytes_read(self) -> int:
        """Bytes of the raw JSON files that statements naming `"$path"` opened (see paths)."""
        return self._paths.json_bytes_read

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- the Engine interface ------------------------------------------------------------
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
            raise athena_error(exc, self.database, text) from exc

    @contextmanager
    def consistent_reads(self) -> Iterator[None]:
        """Each table's files are checked at its first read in the block, not before every
        statement (the listing is what a quality run spends most on a many-file table; see
        docs/performance.md). Writes through
        this engine inside the block unpin their table; files changed by anything else are
        seen after the block (the reads inside it keep the state they started with)."""
        with self._lock:
            outer = self._cache.begin_block()
        try:
            yield
        finally:
            if outer:
                with self._lock:
                    self._cache.end_block()

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
        other row groups. Writing it to Parquet and reading it back, as Athena must, is the cost
        this avoids (docs/performance.md); nothing outside this session ever reads it."""
        import sqlglot
        from sqlglot import exp

        validate_identifier(name, "staging table name")
        with self._lock, self._athena_errors(select_sql):
            if self._catalog.entry(name) is not None:
                raise already_exists(self.database, name, "; drop it first (drop_stage)")
            node = sqlglot.parse_one(select_sql, read="athena")
            if not isinstance(node, exp.Query):
                raise EngineError(f"the stage {name} needs a SELECT, got: {head(select_sql)}")
            read = self._cache.swap_tables(
                athena_column_names(self._paths.swap(node)), self._catalog.entry
            )
            sel = transpile(read, self.database)
            check_columns(self._db.columns_of(sel), [], name)
            order = ""
            if order_by:
                order = f" ORDER BY {q(validate_identifier(order_by, 'stage order column'))}"
            self._db.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {q(name)} AS SELECT * FROM ({sel}){order}"
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
            kept = keep_as and self._cache.adopt(name, self._catalog.entry(keep_as))
            if not kept:
                self._db.con.execute(f"DROP TABLE IF EXISTS temp.{q(name)}")
        # A Parquet stage (a catalog table and files) left by an older version's crashed run.
        super().drop_stage(name, location, storage)

    def list_tables(self) -> List[str]:
        with self._lock:
            return self._catalog.names()

    def describe_table(self, name: str) -> Optional[TableEntry]:
        """The catalog entry of `name` (None when unknown)."""
        with self._lock:
            return self._catalog.entry(validate_identifier(name, "table name"))

    # ---- dispatch ------------------------------------------------------------------------
    def _dispatch(self, text: str) -> QueryResult:
        import sqlglot
        from sqlglot import exp

        if self._db.read_only:
            refuse_write(text, self.path)  # before any file is written
        bare = _LEADING_COMMENTS.sub("", text)
        statements = self._statements
        m = _SHOW.match(bare)
        if m:
            return statements.show(m.group(1).lower(), m.group(2), m.group(3))
        m = _SHOW_PARTITIONS.match(bare)
        if m:
            return statements.show_partitions(self._catalog.parse_name(m.group(1)))
        m = _MSCK.match(bare)
        if m:
            return statements.repair(self._catalog.parse_name(m.group(1)))
        m = _ALTER_TABLE.match(bare)
        if m:
            return statements.alter(self._catalog.parse_name(m.group(1)), text)
        parsed = [s for s in sqlglot.parse(text, read="athena") if s is not None]
        if len(parsed) != 1:
            raise EngineError(
                f"expected exactly one statement, got {len(parsed)}: run them one at a time "
                f"[statement: {head(text)}]"
            )
        node = parsed[0]
        refuse_host_access(node, self.database, text)
        if isinstance(node, exp.Create):
            kind = (node.args.get("kind") or "").upper()
            if kind == "TABLE" and node.expression is not None:
                return self._writes.ctas(node)
            if kind == "TABLE":
                return statements.create_external(node)
            if kind == "VIEW":
                return statements.create_view(node)
        elif isinstance(node, exp.Insert):
            return self._writes.insert(node)
        elif isinstance(node, exp.Drop):
            return statements.drop(node)
        elif isinstance(node, exp.Describe):
            return statements.describe(node)
        elif isinstance(node, exp.Query):
            return self._select(node)
        raise UnsupportedSQLError(
            f"the local engine does not run this kind of statement ({type(node).__name__}): "
            f"{head(text)}. It runs SELECT/WITH, CTAS, INSERT INTO, CREATE EXTERNAL TABLE, "
            "CREATE [OR REPLACE] VIEW, DROP TABLE/VIEW, DESCRIBE, SHOW TABLES, MSCK REPAIR TABLE"
        )

    def _select(self, node: Any) -> QueryResult:
        node = self._cache.swap_tables(
            athena_column_names(self._paths.swap(node)), self._catalog.entry
        )
        sql, zones = transpile_query(node, self.database, in_place=True)
        cur = self._db.con.execute(sql)
        columns = [d[0] for d in (cur.description or [])]
        return QueryResult(columns=columns, rows=trino_zones.apply_zones(cur.fetchall(), zones))

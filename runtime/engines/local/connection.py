"""The DuckDB connection of the local engine, set up to answer as Athena would: UTC, integer
division, Trino's helper macros, and the speed and memory settings measured in
docs/performance.md. duckdb is imported when a connection opens, never at module import."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, List, Tuple

from ...errors import EngineError
from .dialect import MACROS, lit, q

# DuckDB's default is 80% of RAM; the scale target is a peak RSS under 4 GB.
MEMORY_LIMIT = "3GB"


class Connection:
    """The one DuckDB connection an engine and its parts share (opened here, closed once).

    `read_only` opens the file without writing a byte to it (readers work on a full disk and
    beside other readers); with no catalog file yet, a reader gets an empty in-memory one."""

    def __init__(self, path: str, database: str, read_only: bool = False):
        self.path = path
        self.database = database
        self.read_only = read_only and path != ":memory:" and Path(path).is_file()
        if read_only and not self.read_only:
            self.path = ":memory:"
        self._con: Any = self._connect()

    def _connect(self):
        import duckdb

        if self.path != ":memory:" and not self.read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(self.path, read_only=self.read_only)
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
        if not self.read_only:
            # A read-only file already holds them: every catalog file is made by a writer.
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {q(self.database)}")
            for macro in MACROS:
                con.execute(macro)
        con.execute(f"SET search_path = {lit(self.database + ',main')}")
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
        con.execute(f"SET memory_limit = {lit(MEMORY_LIMIT)}")
        if self.path != ":memory:":
            spill = Path(self.path + ".tmp")  # DuckDB's own default name for it
            con.execute(f"SET temp_directory = {lit(str(spill))}")
        # A JSON table's view lists this empty file after its glob so that it keeps its typed
        # columns while the location holds no object yet (see catalog.json_view).
        empty = self.empty_json_path()
        if not empty.exists():
            try:
                empty.parent.mkdir(parents=True, exist_ok=True)
                empty.write_bytes(b"")
            except OSError:
                if not self.read_only:  # a reader on a full disk does without it
                    raise

    def empty_json_path(self) -> Path:
        """An empty file that JSON views list after their glob (kept next to the catalog).

        Absolute: the views keep the path as written, and a reader in another folder (a
        notebook's kernel runs in notebooks/) must find it too. A missing file is not an error
        for read_json with allow_empty, but with no file at all it ignores the declared columns
        and the view ends up with one column named `empty`."""
        if self.path == ":memory:":
            import tempfile

            return Path(tempfile.gettempdir()).resolve() / "stockpipe-empty.json"
        return Path(self.path + ".empty.json").resolve()

    @property
    def con(self) -> Any:
        """The open DuckDB connection (an EngineError once closed)."""
        if self._con is None:
            raise EngineError(f"the local engine on {self.path} is closed; create a new one")
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def columns_of(self, duck_sql: str) -> List[Tuple[str, str]]:
        """Name and DuckDB type of each column `duck_sql` returns (it is not run)."""
        return [(r[0], r[1]) for r in self.con.execute(f"DESCRIBE {duck_sql}").fetchall()]

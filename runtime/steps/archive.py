"""Publish's parts: the fingerprint of the sans-dup table that quality judged, the archive made
by copying that table's files (no data scanned), its registration in the catalog, the checks
of the copy, and the clean-up of what a killed publish left (docs/architecture.md, "Publish").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..engines.base import Engine
from ..errors import EngineError, QualityCheckFailed, StorageError, validate_identifier
from ..settings import Settings
from ..sql_files import render, sql_uri
from ..storage import Storage
from .common import count_rows, text_literal, typed_columns
from .partitions import batches, partition_literal

# The typed (sans-dup, production) columns' types as a Hive DDL names them; the archive is
# registered with them (CREATE EXTERNAL TABLE) over the copied files.
COLUMN_TYPES = {
    "ticker": "string", "bar_time": "timestamp", "bar_time_ms": "bigint", "open": "double",
    "high": "double", "low": "double", "close": "double", "volume": "double", "vwap": "double",
    "transactions": "bigint", "ingested_at": "timestamp", "day_hour_partition": "string",
    "day_partition": "string",
}
RERUN_QUALITY = (
    "run `stockpipe workflow --from quality` (or the whole workflow) to judge the table as it "
    "is now, then publish"
)


class StaleQualityResult(QualityCheckFailed):
    """The sans-dup table is not the state the latest quality run judged: nothing published."""

    def __init__(self, message: str):
        super().__init__(message)
        self.hint = RERUN_QUALITY


@dataclass(frozen=True)
class Fingerprint:
    """What quality judged: the sans-dup table's data files (path under its location, size,
    tag) and its row count. Any write to the table (dedup, an INSERT) changes its files."""

    rows: int
    files: Tuple[Tuple[str, int, str], ...]

    @property
    def digest(self) -> str:
        body = json.dumps([self.rows, [list(f) for f in self.files]], separators=(",", ":"))
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def partitions(self, column: str) -> List[str]:
        """The partition values of the files (their folder `column=value/`)."""
        values: Dict[str, None] = {}
        for path, _size, _tag in self.files:
            folder = path.split("/", 1)[0]
            if "/" not in path or not folder.startswith(column + "="):
                raise EngineError(
                    f"file {path!r} of the table does not lie in a {column}=<value>/ folder; "
                    "publish copies partitioned files only"
                )
            values[partition_literal(folder[len(column) + 1:])[1:-1]] = None
        return sorted(values)


def data_files(storage: Storage, location: str) -> Tuple[Tuple[str, int, str], ...]:
    """The table's data files under `location`: path below it, size, tag. Objects whose name
    starts with '.' or '_' are skipped, as Athena skips them."""
    location = location.rstrip("/") + "/"
    out = []
    for info in storage.list_info(location):
        path = info.uri[len(location):]
        if info.uri.startswith(location) and not path.rsplit("/", 1)[-1].startswith((".", "_")):
            out.append((path, int(info.size), info.tag))
    return tuple(sorted(out))


def fingerprint(settings: Settings, engine: Engine, storage: Storage,
                rows: Optional[int] = None) -> Fingerprint:
    """The sans-dup table's fingerprint (`rows` when the caller already counted them)."""
    files = data_files(storage, settings.table_location(settings.sans_dup_table))
    if rows is None:
        rows = count_rows(engine, settings.sans_dup_table)
    return Fingerprint(int(rows), files)


@dataclass
class PublishLog:
    """What the lineage table says about publishing: the latest quality run's fingerprint
    (digest, rows, files) and which archives a publish started or completed."""

    digest: Optional[str] = None
    rows: Optional[int] = None
    files: Optional[int] = None
    started: Set[str] = None  # type: ignore[assignment]
    completed: Set[str] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.started = set(self.started or ())
        self.completed = set(self.completed or ())


def read_log(settings: Settings, engine: Engine, quality_run_id: str) -> PublishLog:
    log = PublishLog()
    if not engine.table_exists(settings.lineage_table):
        return log
    rows = engine.execute(render(
        "lineage_publications.sql", lineage_table=settings.lineage_table,
        sans_dup_table=settings.sans_dup_table,
        quality_run_id=text_literal(quality_run_id, "quality run id")[1:-1],
    )).rows
    for event, table, detail, source_rows, written_rows in rows:
        if event == "quality":
            log.digest, log.rows = str(detail), int(source_rows or 0)
            log.files = int(written_rows or 0)
        elif event == "publish_start":
            log.started.add(str(table))
        elif event == "publish":
            log.completed.add(str(table))
    return log


def judged_state(settings: Settings, storage: Storage, quality_run_id: str,
                 log: PublishLog) -> Tuple[str, ...]:
    """The sans-dup files as quality run `quality_run_id` judged them; raise StaleQualityResult
    when that run recorded no fingerprint or the table changed since."""
    table = settings.sans_dup_table
    if log.digest is None:
        raise StaleQualityResult(
            f"quality run {quality_run_id} recorded no fingerprint of {table} (a run killed "
            f"before it finished, or an older version); nothing published, "
            f"{settings.prod_latest_view} unchanged; {RERUN_QUALITY}"
        )
    files = data_files(storage, settings.table_location(table))
    now = Fingerprint(int(log.rows or 0), files)
    if now.digest != log.digest:
        raise StaleQualityResult(
            f"{table} changed after quality run {quality_run_id} judged it ({log.rows} rows in "
            f"{log.files} files then, {len(files)} files now: a dedup or transform ran or was "
            f"killed since, or rows were written by hand); nothing published, "
            f"{settings.prod_latest_view} unchanged; {RERUN_QUALITY}"
        )
    return tuple(files)


def copy_files(settings: Settings, storage: Storage, files: Iterable[Tuple[str, int, str]],
               table: str) -> str:
    """Copy the sans-dup files to the archive `table`'s location (same paths below it)."""
    source = settings.table_location(settings.sans_dup_table).rstrip("/") + "/"
    target = settings.table_location(table).rstrip("/") + "/"
    for path, _size, _tag in files:
        storage.copy(source + path, target + path)
    return target


def register(settings: Settings, engine: Engine, table: str, location: str,
             values: Sequence[str]) -> int:
    """CREATE EXTERNAL TABLE over the copied files, then its partitions, at most 100 per
    ALTER TABLE (catalog statements only: no data scanned). Returns statements sent."""
    validate_identifier(table, "table name")
    column = settings.partition_column
    columns = [c for c in typed_columns(settings) if c != column]
    engine.execute(render(
        "publish_archive_table.sql", table=table, location=sql_uri(location),
        columns=",\n  ".join(f"{validate_identifier(c, 'column name')} {COLUMN_TYPES[c]}"
                             for c in columns),
        partition_column=f"{validate_identifier(column, 'partition column')} "
                         f"{COLUMN_TYPES[column]}",
    ))
    statements = 1
    for batch in batches(values):
        specs = " ".join(
            f"PARTITION ({column} = {partition_literal(v)}) "
            f"LOCATION '{sql_uri(location)}{column}={v}/'"
            for v in batch
        )
        engine.execute(f"ALTER TABLE {table} ADD IF NOT EXISTS {specs}")
        statements += 1
    return statements


def verify(settings: Settings, engine: Engine, storage: Storage, table: str,
           files: Sequence[Tuple[str, int, str]], rows: int) -> None:
    """The archive holds every file of the judged state at its size, and reading all of them
    gives the judged row count (a damaged file fails the count)."""
    got = {path: size for path, size, _tag in data_files(storage, settings.table_location(table))}
    want = {path: size for path, size, _tag in files}
    if got != want:
        missing = sorted(set(want) - set(got)) or sorted(p for p in want if got[p] != want[p])
        raise StorageError(
            f"the copy {table} differs from the judged {settings.sans_dup_table}: "
            f"{len(got)} files, expected {len(want)} (first difference: "
            f"{(missing or sorted(set(got) - set(want)))[0]}); nothing published"
        )
    counted = count_rows(engine, table)
    if counted != rows:
        raise EngineError(
            f"the copy {table} reads {counted} rows, but quality judged {rows}; nothing "
            "published"
        )


def discard(settings: Settings, engine: Engine, storage: Storage, table: str,
            tables: Optional[Sequence[str]] = None) -> None:
    """Forget the archive `table` (when registered) and delete its files."""
    if table in (engine.list_tables() if tables is None else tables):
        engine.execute(render("drop_table.sql", table=validate_identifier(table, "table name")))
    location = settings.table_location(table)
    if storage.exists(location):
        storage.delete_prefix(location)


def clean_unfinished(settings: Settings, engine: Engine, storage: Storage, log: PublishLog,
                     protected: Iterable[Optional[str]]) -> List[str]:
    """Remove what killed publishes left: archives a publish started but never completed,
    registered or not, except the `protected` ones (the view's target). Returns their names."""
    keep = {p for p in protected if p}
    tables = engine.list_tables()
    removed = []
    for table in sorted(log.started - log.completed - keep):
        if table in tables or storage.exists(settings.table_location(table)):
            discard(settings, engine, storage, table, tables)
            removed.append(table)
    return removed


__all__ = [
    "COLUMN_TYPES", "Fingerprint", "PublishLog", "StaleQualityResult", "clean_unfinished",
    "copy_files", "data_files", "discard", "fingerprint", "judged_state", "read_log",
    "register", "verify",
]

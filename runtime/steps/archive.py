"""Publish's parts: the fingerprint of the sans-dup table that quality judged, the archive made
by copying that table's files (no data scanned), its registration in the catalog, the checks
of the copy, and the clean-up of what a killed publish left (docs/architecture.md, "Publish").
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..adjustments import partition_columns
from ..engines.base import Engine
from ..errors import EngineError, QualityCheckFailed, StorageError, validate_identifier
from ..partitioned import ATHENA_MAX_PARTITIONS
from ..settings import Settings
from ..sql_files import render, sql_uri
from ..storage import Storage
from .common import count_rows, text_literal, typed_columns
from .partitions import partition_literal

# The typed (sans-dup, production) columns' types as a Hive DDL names them; the archive is
# registered with them (CREATE EXTERNAL TABLE) over the copied files.
COLUMN_TYPES = {
    "ticker": "string", "bar_time": "timestamp", "bar_time_ms": "bigint", "open": "double",
    "high": "double", "low": "double", "close": "double", "volume": "double", "vwap": "double",
    "transactions": "bigint", "ingested_at": "timestamp", "adjusted_as_of": "date",
    "day_hour_partition": "string", "day_partition": "string",
}
# The copy of the judged splits table beside an archive: `<archive>` + this suffix. The pair is
# one archive: made, verified, pruned and cleaned together.
SPLITS_SUFFIX = "_splits"
# The splits objects' folders under splits/ (YYYY/MM/DD/HH), the raw splits table's partitions.
_SPLITS_FOLDER = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")
RERUN_QUALITY = (
    "run `stockpipe workflow --from quality` (or the whole workflow) to judge the table as it "
    "is now, then publish"
)


class StaleQualityResult(QualityCheckFailed):
    """The sans-dup table is not the state the latest quality run judged: nothing published."""

    def __init__(self, message: str):
        super().__init__(message)
        self.hint = RERUN_QUALITY


Files = Tuple[Tuple[str, int, str], ...]


@dataclass(frozen=True)
class Fingerprint:
    """What quality judged: the sans-dup table's data files (path under its location, size,
    tag) and its row count, and the split objects the adjusted view applied (None when there
    is no splits table). Any write to the table (dedup, an INSERT) changes its files."""

    rows: int
    files: Files
    splits: Optional[Files] = None

    @property
    def digest(self) -> str:
        splits = None if self.splits is None else [list(f) for f in self.splits]
        body = json.dumps([self.rows, [list(f) for f in self.files], splits],
                          separators=(",", ":"))
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


def judged_splits(settings: Settings, engine: Engine, storage: Storage) -> Optional[Files]:
    """The split objects the adjusted view reads (None while the splits table is missing: the
    view then applies no split, see runtime/adjustments.py)."""
    if not engine.table_exists(settings.splits_table):
        return None
    return data_files(storage, settings.splits_uri)


def fingerprint(settings: Settings, engine: Engine, storage: Storage,
                rows: Optional[int] = None) -> Fingerprint:
    """The sans-dup table's fingerprint (`rows` when the caller already counted them)."""
    files = data_files(storage, settings.table_location(settings.sans_dup_table))
    splits = judged_splits(settings, engine, storage)
    if rows is None:
        rows = count_rows(engine, settings.sans_dup_table)
    return Fingerprint(int(rows), files, splits)


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


def judged_state(settings: Settings, engine: Engine, storage: Storage, quality_run_id: str,
                 log: PublishLog) -> Fingerprint:
    """The sans-dup files (and split objects) as quality run `quality_run_id` judged them;
    raise StaleQualityResult when that run recorded no fingerprint or they changed since."""
    table = settings.sans_dup_table
    if log.digest is None:
        raise StaleQualityResult(
            f"quality run {quality_run_id} recorded no fingerprint of {table} (a run killed "
            f"before it finished, or an older version); nothing published, "
            f"{settings.prod_latest_view} unchanged; {RERUN_QUALITY}"
        )
    now = fingerprint(settings, engine, storage, rows=int(log.rows or 0))
    if now.digest != log.digest:
        raise StaleQualityResult(
            f"{table} changed after quality run {quality_run_id} judged it ({log.rows} rows in "
            f"{log.files} files then, {len(now.files)} files now: a dedup or transform ran or "
            f"was killed since, rows were written by hand, or new splits landed); nothing "
            f"published, {settings.prod_latest_view} unchanged; {RERUN_QUALITY}"
        )
    return now


def copy_files(settings: Settings, storage: Storage, judged: Fingerprint, table: str) -> str:
    """Copy the judged sans-dup files to the archive `table`'s location (same paths below it),
    and the judged split objects to its `_splits` companion's."""
    pairs = [(settings.table_location(settings.sans_dup_table), settings.table_location(table),
              judged.files)]
    if judged.splits is not None:
        pairs.append((settings.splits_uri, settings.table_location(table + SPLITS_SUFFIX),
                      judged.splits))
    for source, target, files in pairs:
        source, target = source.rstrip("/") + "/", target.rstrip("/") + "/"
        for path, _size, _tag in files:
            storage.copy(source + path, target + path)
    return settings.table_location(table)


def register(settings: Settings, engine: Engine, table: str, judged: Fingerprint) -> int:
    """CREATE EXTERNAL TABLE over the copied files, then its partitions, at most 100 per
    ALTER TABLE (catalog statements only: no data scanned); the same for the splits copy.
    Returns statements sent."""
    validate_identifier(table, "table name")
    location = sql_uri(settings.table_location(table))
    column = settings.partition_column
    columns = [c for c in typed_columns(settings) if c != column]
    engine.execute(render(
        "publish_archive_table.sql", table=table, location=location,
        columns=",\n  ".join(f"{validate_identifier(c, 'column name')} {COLUMN_TYPES[c]}"
                             for c in columns),
        partition_column=f"{validate_identifier(column, 'partition column')} "
                         f"{COLUMN_TYPES[column]}",
    ))
    specs = [f"PARTITION ({column} = {partition_literal(v)}) LOCATION '{location}{column}={v}/'"
             for v in judged.partitions(column)]
    statements = 1 + _add_partitions(engine, table, specs)
    if judged.splits is not None:
        splits = validate_identifier(table + SPLITS_SUFFIX, "table name")
        splits_location = sql_uri(settings.table_location(splits))
        engine.execute(render("crawl_splits_table.sql", splits_table=splits,
                              splits_uri=splits_location))
        specs = []
        for folder in sorted({_splits_folder(path) for path, _s, _t in judged.splits}):
            keys = ", ".join(f"partition_{i} = '{v}'" for i, v in enumerate(folder))
            specs.append(f"PARTITION ({keys}) "
                         f"LOCATION '{splits_location}{'/'.join(folder)}/'")
        statements += 1 + _add_partitions(engine, splits, specs)
    return statements


def _splits_folder(path: str) -> Tuple[str, ...]:
    m = _SPLITS_FOLDER.match(path)
    if m is None:
        raise EngineError(
            f"split object {path!r} is not in the YYYY/MM/DD/HH/<object> layout under splits/; "
            "publish copies that layout only"
        )
    return m.groups()


def _add_partitions(engine: Engine, table: str, specs: Sequence[str]) -> int:
    chunks = [specs[i:i + ATHENA_MAX_PARTITIONS] for i in range(0, len(specs),
                                                                 ATHENA_MAX_PARTITIONS)]
    for chunk in chunks:
        engine.execute(f"ALTER TABLE {table} ADD IF NOT EXISTS " + " ".join(chunk))
    return len(chunks)


def view_sql(settings: Settings, table: str, judged: Fingerprint) -> str:
    """The production view over the archive pair: the adjusted view (the latest known splits
    applied, as-traded values beside), reading the archive and its splits copy."""
    if judged.splits is None:
        splits_source = render("splits_none.sql")
    else:
        splits_source = render("splits_latest.sql", splits_table=table + SPLITS_SUFFIX)
    return render(
        "adjusted_view.sql", view=settings.prod_latest_view, splits_source=splits_source,
        sans_dup_table=table, partition_columns=", ".join(partition_columns(settings)),
    )


def verify(settings: Settings, engine: Engine, storage: Storage, table: str,
           judged: Fingerprint) -> None:
    """The archive holds every judged file at its size, reading all of them gives the judged
    row count (a damaged file fails the count), and its splits copy likewise holds every judged
    split object and can be read."""
    _same_files(settings, storage, table, judged.files)
    counted = count_rows(engine, table)
    if counted != judged.rows:
        raise EngineError(
            f"the copy {table} reads {counted} rows, but quality judged {judged.rows}; nothing "
            "published"
        )
    if judged.splits is not None:
        _same_files(settings, storage, table + SPLITS_SUFFIX, judged.splits)
        count_rows(engine, table + SPLITS_SUFFIX)  # every object parses


def _same_files(settings: Settings, storage: Storage, table: str, files: Files) -> None:
    got = {path: size for path, size, _tag in data_files(storage, settings.table_location(table))}
    want = {path: size for path, size, _tag in files}
    if got != want:
        missing = sorted(set(want) - set(got)) or sorted(p for p in want if got[p] != want[p])
        raise StorageError(
            f"the copy {table} differs from what quality judged: {len(got)} files, expected "
            f"{len(want)} (first difference: {(missing or sorted(set(got) - set(want)))[0]}); "
            "nothing published"
        )


def discard(settings: Settings, engine: Engine, storage: Storage, table: str,
            tables: Optional[Sequence[str]] = None) -> int:
    """Forget the archive `table` and its splits copy (when registered) and delete their
    files; returns the objects deleted."""
    tables = engine.list_tables() if tables is None else tables
    deleted = 0
    for name in (table, table + SPLITS_SUFFIX):
        if name in tables:
            engine.execute(render("drop_table.sql",
                                  table=validate_identifier(name, "table name")))
        location = settings.table_location(name)
        if storage.exists(location):
            deleted += storage.delete_prefix(location)
    return deleted


def clean_unfinished(settings: Settings, engine: Engine, storage: Storage, log: PublishLog,
                     protected: Iterable[Optional[str]]) -> List[str]:
    """Remove what killed publishes left: archives a publish started but never completed,
    registered or not, except the `protected` ones (the view's target). Returns their names."""
    keep = {p for p in protected if p}
    tables = engine.list_tables()
    removed = []
    for table in sorted(log.started - log.completed - keep):
        pair = (table, table + SPLITS_SUFFIX)
        if any(t in tables or storage.exists(settings.table_location(t)) for t in pair):
            discard(settings, engine, storage, table, tables)
            removed.append(table)
    return removed


__all__ = [
    "COLUMN_TYPES", "SPLITS_SUFFIX", "Fingerprint", "PublishLog", "StaleQualityResult",
    "clean_unfinished", "copy_files", "data_files", "discard", "fingerprint", "judged_splits",
    "judged_state", "read_log", "register", "verify", "view_sql",
]

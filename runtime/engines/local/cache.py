"""The scan cache: a Parquet table of many files read twice with the very same files is copied
into a temp table of the connection, and read from memory until any of its files changes.

The quality checks scan the sans-dup table nine times, and with thousands of small partition
files every scan pays for opening each file again. A copy is only used while the table's files
(path, size, mtime) are what they were when it was made, so results never differ from a scan.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from ...errors import IdentifierError, validate_identifier
from .dialect import q

# Tables are copied up to this many bytes of Parquet (a kept write stage has no cap).
SCAN_CACHE_MAX_BYTES = 256 * 1024 * 1024
# ... and only from this many data files on: the copy saves opening every file again, and below
# a thousand files a scan costs about what the copy does (docs/performance.md, "scan cache"),
# while most reads of a daily run's quality touch a few partitions or need only row counts.
SCAN_CACHE_MIN_FILES = 1000
# Write stages kept as their table's cache, whatever its size: the most a step reads (quality
# reads what transform and dedup wrote; their memory is in docs/performance.md).
KEPT_STAGES = 2
CACHE_PREFIX = "__sp_cache_"

Signature = Tuple[Any, ...]
EntryOf = Callable[[str], Any]  # table name -> its catalog entry (None when unknown)


@dataclass(frozen=True)
class CacheStats:
    """What the scan cache holds and did since the engine opened (for profiling a run)."""

    cached: Tuple[str, ...]  # tables read from an in-memory copy while their files stay the same
    kept: Tuple[str, ...]  # of those, the write stages kept as the copy, oldest first
    copies: int  # copies made
    hits: int  # table reads served from a copy
    file_checks: int  # listings of a table's files to see whether they changed


def files_signature(entry: Any, max_bytes: Optional[int]) -> Optional[Signature]:
    """What identifies a Parquet table's current rows: its definition and every data file's
    path, size and modification time. None when it is empty or bigger than `max_bytes`."""
    root = entry.location or ""
    files = []
    total = 0
    # scandir, not os.walk: every read of a cached table checks this, and os.walk made that
    # check slow for thousands of partition folders (docs/performance.md).
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


class ScanCache:
    """Temp-table copies of Parquet tables on one connection. The catalog tells it when a table
    changes or goes (`table_changed`, `table_dropped`); callers hold the engine's lock."""

    def __init__(self, connection: Any, max_bytes: Optional[int] = SCAN_CACHE_MAX_BYTES,
                 min_files: int = SCAN_CACHE_MIN_FILES):
        self._db = connection
        self.max_bytes = max_bytes
        self.min_files = min_files
        # table -> signature when last read, and table -> (signature, temp table) once copied.
        self._seen: Dict[str, Signature] = {}
        self._cached: Dict[str, Tuple[Signature, str]] = {}
        # Tables whose copy is their write stage, oldest first (at most KEPT_STAGES).
        self._kept: List[str] = []
        # Inside a consistent_reads block: table -> the signature its first read in it saw.
        self._pinned: Optional[Dict[str, Signature]] = None
        self._copies = self._hits = self._checks = 0

    @property
    def stats(self) -> CacheStats:
        return CacheStats(
            cached=tuple(sorted(self._cached)),
            kept=tuple(self._kept),
            copies=self._copies,
            hits=self._hits,
            file_checks=self._checks,
        )

    # ---- consistent reads --------------------------------------------------------------------
    def begin_block(self) -> bool:
        """Start pinning each table at its first read; True when this opened the outermost block
        (only that one's end_block stops pinning)."""
        if self._pinned is not None:
            return False
        self._pinned = {}
        return True

    def end_block(self) -> None:
        self._pinned = None

    def table_changed(self, name: str) -> None:
        """`name` was written, created or told about new files: its next read checks them."""
        if self._pinned is not None:
            self._pinned.pop(name, None)

    def table_dropped(self, name: str) -> None:
        self.table_changed(name)
        self._drop_copy(name)
        self._seen.pop(name, None)

    # ---- reads -------------------------------------------------------------------------------
    def swap_tables(self, node: Any, entry_of: EntryOf) -> Any:
        """`node` with each Parquet table that was read before with the very same files swapped
        for its temp-table copy. The copy is made on the second read and used until any file of
        the table changes."""
        from sqlglot import exp

        database = self._db.database
        ctes = {c.alias_or_name.lower() for c in node.find_all(exp.CTE)}
        swaps: Dict[int, str] = {}
        for table in node.find_all(exp.Table):
            name = (table.name or "").lower()
            db = table.args.get("db")
            if (
                not name
                or name in ctes
                or table.args.get("catalog") is not None
                or (db is not None and db.name.lower() != database)
            ):
                continue
            temp = self._copy_for(name, entry_of)
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
            if db is not None and db.name.lower() != database:
                continue
            cached = self._cached.get(name)
            if cached is None:
                continue
            alias = table.alias or name
            table.replace(exp.to_table(cached[1]).as_(alias, quoted=True))
        return node

    def _signature(self, entry: Any, max_bytes: Optional[int]) -> Optional[Signature]:
        self._checks += 1
        return files_signature(entry, max_bytes)

    def _copy_for(self, name: str, entry_of: EntryOf) -> Optional[str]:
        """The temp table holding `name`'s current rows, made now if this is its second read."""
        try:
            validate_identifier(name, "table name")
        except IdentifierError:
            return None
        entry = entry_of(name)
        if entry is None or entry.kind != "parquet" or not entry.location:
            self._seen.pop(name, None)
            self._drop_copy(name)
            return None
        # A table kept from its write stage stays cached whatever its size.
        cap = None if name in self._kept else self.max_bytes
        sig = self._pinned.get(name) if self._pinned is not None else None
        if sig is None:
            sig = self._signature(entry, cap)
            if sig is not None and self._pinned is not None:
                self._pinned[name] = sig
        if sig is None:
            self._seen.pop(name, None)
            self._drop_copy(name)
            return None
        cached = self._cached.get(name)
        if cached is not None and cached[0] == sig:
            self._hits += 1
            return cached[1]
        self._drop_copy(name)
        if self._seen.get(name) != sig:
            self._seen[name] = sig
            return None
        if len(sig[2]) < self.min_files:
            return None
        temp = CACHE_PREFIX + name
        con = self._db.con
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {q(temp)} AS "
            f"SELECT * FROM {q(self._db.database)}.{q(name)}"
        )
        self._copies += 1
        if self._signature(entry, cap) != sig:  # changed while we copied
            con.execute(f"DROP TABLE IF EXISTS temp.{q(temp)}")
            return None
        self._cached[name] = (sig, temp)
        self._hits += 1
        return temp

    def _drop_copy(self, name: str) -> None:
        if name in self._kept:
            self._kept.remove(name)
        cached = self._cached.pop(name, None)
        if cached is not None:
            self._db.con.execute(f"DROP TABLE IF EXISTS temp.{q(cached[1])}")

    # ---- write stages ------------------------------------------------------------------------
    def adopt(self, stage: str, entry: Any) -> bool:
        """Rename the temp table `stage` to the copy of the table `entry` (which was just written
        from it, row for row), if it has the same columns. The KEPT_STAGES latest are kept."""
        con = self._db.con
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [stage]
        ).fetchone()[0]
        if entry is None or entry.kind != "parquet" or not exists:
            return False
        described = con.execute(f"DESCRIBE temp.{q(stage)}").fetchall()
        stage_cols = [(str(r[0]).lower(), str(r[1]).upper()) for r in described]
        if stage_cols != [(c.lower(), t.upper()) for c, t in entry.all_columns]:
            return False
        sig = self._signature(entry, None)
        if sig is None:
            return False
        table = entry.name
        self.table_changed(table)
        self._drop_copy(table)
        while len(self._kept) >= KEPT_STAGES:
            # A pin taken while it was kept (with no size cap) would not match its files'
            # capped signature any more.
            self.table_changed(self._kept[0])
            self._drop_copy(self._kept[0])
        temp = CACHE_PREFIX + table
        con.execute(f"DROP TABLE IF EXISTS temp.{q(temp)}")
        con.execute(f"ALTER TABLE temp.{q(stage)} RENAME TO {q(temp)}")
        self._cached[table] = (sig, temp)
        self._seen[table] = sig
        self._kept.append(table)
        return True

"""Raw objects to read and partitions to replace: the two halves of an incremental run.

Replacing a partition is what dbt-athena's `insert_overwrite` does on a Hive table: delete the
partition's files, drop it from the catalog, INSERT its new rows, at most 100 partitions per
statement (Athena's limit). It is not atomic; every caller can redo it from a source that
survives a crash (see docs/architecture.md, "Incremental runs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

from ..engines.base import Engine
from ..errors import ConfigError, EngineError, validate_identifier
from ..partitioned import ATHENA_MAX_PARTITIONS
from ..settings import Settings
from ..storage import Storage
from .common import text_literal

# Firehose's key layout under the raw prefix: YYYY/MM/DD/HH/<object> (the crawler's
# partition_0..3 are the four folders).
_RAW_KEY = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/([^/]+)$")
# A partition value that is also a safe folder name (ours are YYYY-MM-DD[-HH]).
_PARTITION_VALUE = re.compile(r"^[0-9A-Za-z_.:-]{1,100}$")
# Raw objects named in one statement: keeps the statement far below Athena's 256 KB of text.
OBJECTS_PER_STATEMENT = 500


@dataclass(frozen=True)
class RawObject:
    key: str  # under the raw prefix: YYYY/MM/DD/HH/<name>
    uri: str  # what Athena's "$path" (and storage) calls it
    size: int = -1


def raw_listing(settings: Settings, storage: Storage) -> Tuple[List[RawObject], List[str]]:
    """(every raw object in the Firehose layout, oldest arrival first; the keys of the others).
    Hidden objects (names starting with '.' or '_') are in neither, as Athena skips them; an
    object at another folder depth is not read by the raw table, so the caller reports it."""
    prefix = settings.raw_uri
    out, misplaced = [], []
    for uri in storage.list(prefix):
        if not uri.startswith(prefix):
            continue
        key = uri[len(prefix):]
        if key.rsplit("/", 1)[-1].startswith((".", "_")):
            continue
        if _RAW_KEY.match(key) is None:
            misplaced.append(key)
            continue
        out.append(RawObject(key, uri))
    return out, misplaced


def raw_objects(settings: Settings, storage: Storage) -> List[RawObject]:
    """Every raw object in the Firehose layout, oldest arrival first (see raw_listing)."""
    return raw_listing(settings, storage)[0]


def object_key(settings: Settings, path: str) -> str:
    """The key under the raw prefix of a `"$path"` value."""
    prefix = settings.raw_uri
    if not path.startswith(prefix):
        raise EngineError(
            f"raw object {path!r} does not lie under the raw prefix {prefix!r}; "
            "the raw table's location must be the raw prefix"
        )
    return path[len(prefix):]


def objects_predicate(objects: Sequence[RawObject]) -> str:
    """`"$path" IN (...)` AND the objects' arrival partitions, so the scan is pruned to them."""
    if not objects:
        return "false"
    folders: Dict[Tuple[str, ...], None] = {}
    for obj in objects:
        m = _RAW_KEY.match(obj.key)
        if m is None:
            raise ConfigError(f"raw object key {obj.key!r} is not in the YYYY/MM/DD/HH/ layout")
        folders[m.groups()[:4]] = None
    paths = ", ".join(text_literal(o.uri, "raw object") for o in objects)
    hours = " OR ".join(
        "(" + " AND ".join(f"partition_{i} = '{v}'" for i, v in enumerate(f)) + ")"
        for f in folders
    )
    return f'"$path" IN ({paths})\n    AND ({hours})'


def partition_literals(values: Sequence[str]) -> str:
    return ", ".join(partition_literal(v) for v in values)


def is_partition_value(value: object) -> bool:
    """A value that can stand in SQL as a partition literal (and in a folder name)."""
    return isinstance(value, str) and bool(_PARTITION_VALUE.match(value))


def partition_literal(value: str) -> str:
    if not is_partition_value(value):
        raise ConfigError(f"partition value {value!r} is not a plain YYYY-MM-DD[-HH] value")
    return f"'{value}'"


def in_partitions(column: str, values: Sequence[str]) -> str:
    """`column IN (...)` for a list of partition values (false when empty)."""
    validate_identifier(column, "partition column")
    return f"{column} IN ({partition_literals(values)})" if values else "false"


def batches(values: Sequence[str], size: int = ATHENA_MAX_PARTITIONS) -> List[List[str]]:
    ordered = sorted(values)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def replace_partitions(
    engine: Engine,
    storage: Storage,
    *,
    table: str,
    location: str,
    partition_col: str,
    values: Sequence[str],
    select_for: Callable[[List[str]], str],
) -> Tuple[int, int]:
    """Replace the partitions `values` of `table` with the rows `select_for(batch)` gives, in
    batches of at most 100: delete the batch's files, drop its partitions, INSERT. Safe to redo
    after a crash at any point. Returns (rows inserted, statements sent)."""
    validate_identifier(table, "table name")
    validate_identifier(partition_col, "partition column")
    location = location.rstrip("/") + "/"
    rows = statements = 0
    for batch in batches(values):
        for value in batch:
            storage.delete_prefix(f"{location}{partition_col}={partition_literal(value)[1:-1]}/")
        specs = ", ".join(f"PARTITION ({partition_col} = {partition_literal(v)})" for v in batch)
        engine.execute(f"ALTER TABLE {table} DROP IF EXISTS {specs}")
        result = engine.execute(f"INSERT INTO {table}\n{select_for(batch)}")
        rows += int(result.scalar() or 0) if result.columns == ["rows"] else 0
        statements += 2
    return rows, statements

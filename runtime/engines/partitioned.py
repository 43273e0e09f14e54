"""Write a partitioned table of any size within Athena's 100-partitions-per-statement limit.

Athena's documented workaround (FACTS "Amazon Athena"): one CTAS, then INSERT INTO batches of at
most 100 partition values each. The source SELECT is evaluated once, into an unpartitioned
staging table next to the target, and the batches read the stage; the stage is dropped and its
files deleted afterwards, and cleaned first when a previous run crashed half way.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, List, Optional, Sequence

from ..errors import ConfigError, validate_identifier
from .base import Engine
from .storage import Storage, storage_for

log = logging.getLogger(__name__)

ATHENA_MAX_PARTITIONS = 100
STAGE_SUFFIX = "__stage"
_WORD = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class WriteResult:
    """Rows in the written table (counted), distinct partition values, CTAS + INSERT statements."""

    rows: int
    partitions: int
    statements: int


def write_partitioned(
    engine: Engine,
    *,
    table: str,
    select_sql: str,
    location: str,
    partition_col: str = "day_hour_partition",
    storage: Optional[Storage] = None,
    fmt: str = "PARQUET",
    compression: str = "SNAPPY",
    max_partitions: int = ATHENA_MAX_PARTITIONS,
) -> WriteResult:
    """CTAS `table` at `location` from `select_sql` (partition column last), in batches of at
    most `max_partitions` partition values; the target table must not exist and its location must
    be empty (callers reset them)."""
    validate_identifier(table, "table name")
    validate_identifier(partition_col, "partition column")
    stage = validate_identifier(table + STAGE_SUFFIX, "staging table name")
    if not isinstance(max_partitions, int) or not 1 <= max_partitions <= ATHENA_MAX_PARTITIONS:
        raise ConfigError(
            f"max_partitions must be a whole number from 1 to {ATHENA_MAX_PARTITIONS}, "
            f"got {max_partitions!r}"
        )
    for what, value in (("format", fmt), ("compression", compression)):
        if not isinstance(value, str) or not _WORD.match(value):
            raise ConfigError(
                f"{what} must be a single word such as PARQUET or SNAPPY, got {value!r}"
            )
    if not isinstance(location, str) or not location.strip() or "'" in location:
        raise ConfigError(
            f"location must be a non-empty path or URI without quotes, got {location!r}"
        )
    if not isinstance(select_sql, str) or not select_sql.strip():
        raise ConfigError("select_sql must be a SELECT statement, got an empty string")
    select_sql = select_sql.strip().rstrip(";").strip()
    location = location.rstrip("/") + "/"
    stage_location = location.rstrip("/") + STAGE_SUFFIX + "/"
    storage = storage or storage_for(location)

    # Sorting the stage by the partition column lets each batch's range predicate skip the other
    # row groups, so the batches together read the stage about once. Only engines that ask for
    # it sort: Athena's final ORDER BY runs on a single node, and its batches prune anyway.
    stage_select = select_sql
    if getattr(engine, "prefers_sorted_stage", False):
        stage_select = f"SELECT * FROM ({select_sql}) ORDER BY {partition_col}"

    # A crashed run may have left the stage behind: forget it and delete its files first.
    _drop_stage(engine, storage, stage, stage_location)
    try:
        engine.execute(
            f"CREATE TABLE {stage} WITH (external_location = '{stage_location}', "
            f"format = 'PARQUET', write_compression = '{compression}') AS {stage_select}"
        )
        values = [
            row[0]
            for row in engine.execute(
                f"SELECT DISTINCT {partition_col} FROM {stage} ORDER BY 1"
            ).rows
        ]
        batches: List[Sequence[Any]] = [
            values[i : i + max_partitions] for i in range(0, len(values), max_partitions)
        ] or [[]]
        props = (
            f"external_location = '{location}', format = '{fmt}', "
            f"write_compression = '{compression}', partitioned_by = ARRAY['{partition_col}']"
        )
        written: Optional[int] = 0
        for i, batch in enumerate(batches):
            where = _predicate(partition_col, batch)
            if i == 0:
                result = engine.execute(
                    f"CREATE TABLE {table} WITH ({props}) AS SELECT * FROM {stage} WHERE {where}"
                )
            else:
                result = engine.execute(f"INSERT INTO {table} SELECT * FROM {stage} WHERE {where}")
            written = _add_written(written, result)
        # Both engines report the rows each CTAS/INSERT wrote; counting the new table again
        # would open every file it has (0.7 s for 4,016 files locally). Count only when a
        # statement did not say.
        rows = (
            written
            if written is not None
            else engine.execute(f"SELECT count(*) FROM {table}").scalar()
        )
    finally:
        try:
            _drop_stage(engine, storage, stage, stage_location)
        except Exception:  # never hide the error that got us here
            log.warning("could not clean the staging table %s at %s", stage, stage_location)
    return WriteResult(rows=int(rows or 0), partitions=len(values), statements=len(batches))


def _add_written(total: Optional[int], result: Any) -> Optional[int]:
    """`total` plus the row count a CTAS/INSERT reported (None once one reports none)."""
    rows = getattr(result, "rows", None)
    columns = getattr(result, "columns", None)
    if total is None or columns != ["rows"] or not rows or not isinstance(rows[0][0], int):
        return None
    return total + int(rows[0][0])


def _drop_stage(engine: Engine, storage: Storage, stage: str, stage_location: str) -> None:
    engine.execute(f"DROP TABLE IF EXISTS {stage}")
    storage.delete_prefix(stage_location)


def _predicate(column: str, values: Sequence[Any]) -> str:
    """The rows of one batch: a consecutive slice of the sorted distinct values is exactly
    `column BETWEEN first AND last` (a range prunes Parquet row groups of the sorted stage on
    both engines, where an IN list of 100 values may not); NULL is a partition too."""
    present = [v for v in values if v is not None]
    parts = []
    if present:
        lo, hi = _literal(present[0]), _literal(present[-1])
        parts.append(f"{column} = {lo}" if lo == hi else f"{column} BETWEEN {lo} AND {hi}")
    if len(present) != len(values):
        parts.append(f"{column} IS NULL")
    return " OR ".join(parts) if parts else "false"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return repr(value) if not isinstance(value, Decimal) else str(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"

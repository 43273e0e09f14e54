"""Write a partitioned table of any size within Athena's 100-partitions-per-statement limit.

Athena's documented workaround for its 100-partition limit
(HIVE_TOO_MANY_OPEN_PARTITIONS): one CTAS, then INSERT INTO batches of at
most 100 partition values each. The source SELECT is evaluated once, into an unpartitioned
staging table (`Engine.create_stage`: Parquet next to the target on Athena, memory on the local
engine), and the batches read the stage; the stage is dropped and its files deleted afterwards,
and cleaned first when a previous run crashed half way.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .engines.base import Engine
from .errors import ConfigError, validate_identifier
from .storage import Storage, storage_for

log = logging.getLogger(__name__)

ATHENA_MAX_PARTITIONS = 100
STAGE_SUFFIX = "__stage"
_WORD = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class WriteResult:
    """Rows in the written table, distinct partition values, CTAS + INSERT statements, and the
    rows the source SELECT gave (evaluated once, into the stage)."""

    rows: int
    partitions: int
    statements: int
    source_rows: int = -1
    # The stage's rows per value of the `count_by` column (empty when none was asked for).
    counts: Dict[Any, int] = field(default_factory=dict, compare=False)


def write_partitioned(
    engine: Engine,
    *,
    table: str,
    select_sql: str,
    location: str,
    partition_col: str = "day_hour_partition",
    cluster_by: Optional[str] = None,
    sort_stage: bool = True,
    storage: Optional[Storage] = None,
    fmt: str = "PARQUET",
    compression: str = "SNAPPY",
    max_partitions: int = ATHENA_MAX_PARTITIONS,
    columns: Optional[Sequence[str]] = None,
    count_by: Optional[str] = None,
) -> WriteResult:
    """CTAS `table` at `location` from `select_sql` (partition column last), in batches of at
    most `max_partitions` partition values; the target table must not exist and its location must
    be empty (callers reset them).

    `cluster_by` names a column whose order is also the partition column's order and that is
    cheaper to sort (bar_time_ms for day_hour_partition: an integer instead of a string); the
    stage is clustered by it, else by the partition column. It only affects speed: every batch
    selects its rows with an exact predicate on the partition column.

    `sort_stage=False` leaves the stage in the SELECT's own order, for a SELECT whose rows already
    come in runs of neighbouring cluster values (transform: each raw object holds one ticker's
    bars after another's, in time order): the batches read such a stage as fast as a sorted one,
    while rows in hash order (a window's output) make them slower, so dedup keeps the sort
    (measured in docs/performance.md).

    `columns` names the stage columns the table gets (default: all), so the SELECT may carry
    more, such as `count_by`, whose rows per value are returned in `counts` (transform counts
    the rows of each raw object this way, from the stage instead of a second scan)."""
    validate_identifier(table, "table name")
    validate_identifier(partition_col, "partition column")
    cluster = validate_identifier(cluster_by or partition_col, "cluster column")
    stage = validate_identifier(table + STAGE_SUFFIX, "staging table name")
    projection = (
        ", ".join(validate_identifier(c, "column name") for c in columns) if columns else "*"
    )
    if count_by is not None:
        validate_identifier(count_by, "count column")
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

    # A crashed run may have left the stage behind: forget it and delete its files first.
    engine.drop_stage(stage, stage_location, storage)
    keep_as: Optional[str] = None
    try:
        # Clustered in partition order (where the engine sorts at all), each batch's range
        # predicate skips the other row groups: the batches together read the stage about once.
        engine.create_stage(
            stage,
            select_sql,
            stage_location,
            compression=compression,
            order_by=cluster if sort_stage else None,
        )
        # Each partition value with its row count and the range of the cluster column in it. A
        # batch also selects that range, which an engine whose statistics keep only a prefix of
        # strings (DuckDB's in-memory zonemaps: 8 bytes, a month of YYYY-MM-DD-HH) can prune
        # on. The range is redundant (every row of the batch lies in it): it never changes
        # which rows a batch reads.
        spans = engine.execute(
            f"SELECT {partition_col}, count(*), min({cluster}), max({cluster}), "
            f"count(*) = count({cluster}) FROM {stage} GROUP BY 1 ORDER BY 1"
        ).rows
        values = [row[0] for row in spans]
        source_rows = sum(int(row[1]) for row in spans)
        ranges: List[Optional[Tuple[Any, Any]]] = [
            (row[2], row[3]) if row[4] and cluster != partition_col else None for row in spans
        ]
        batches = [
            range(i, min(i + max_partitions, len(spans)))
            for i in range(0, len(spans), max_partitions)
        ] or [range(0)]
        props = (
            f"external_location = '{location}', format = '{fmt}', "
            f"write_compression = '{compression}', partitioned_by = ARRAY['{partition_col}']"
        )
        written: Optional[int] = 0
        for i, batch in enumerate(batches):
            where = _predicate(partition_col, [values[j] for j in batch])
            where = _with_cluster_range(where, cluster, [ranges[j] for j in batch])
            if i == 0:
                result = engine.execute(
                    f"CREATE TABLE {table} WITH ({props}) AS "
                    f"SELECT {projection} FROM {stage} WHERE {where}"
                )
            else:
                result = engine.execute(
                    f"INSERT INTO {table} SELECT {projection} FROM {stage} WHERE {where}"
                )
            written = _add_written(written, result)
        # Both engines report the rows each CTAS/INSERT wrote; counting the new table again
        # would open every file it has (docs/performance.md "Measurements behind code
        # choices"). Count only when a statement did not say.
        rows = (
            written
            if written is not None
            else engine.execute(f"SELECT count(*) FROM {table}").scalar()
        )
        counts: Dict[Any, int] = {}
        if count_by is not None:
            counts = {
                row[0]: int(row[1])
                for row in engine.execute(
                    f"SELECT {count_by}, count(*) FROM {stage} GROUP BY 1"
                ).rows
            }
        # Every stage row was written exactly once (and no partition value is NULL, which
        # engines spell differently in folder names): the stage now holds exactly the table's
        # rows, and an engine may keep it as the table's cached copy for the next step.
        if int(rows or 0) == source_rows and None not in values and projection == "*":
            keep_as = table
    finally:
        try:
            engine.drop_stage(stage, stage_location, storage, keep_as=keep_as)
        except Exception:  # never hide the error that got us here
            log.warning("could not clean the staging table %s at %s", stage, stage_location)
    return WriteResult(
        rows=int(rows or 0),
        partitions=len(values),
        statements=len(batches),
        source_rows=source_rows,
        counts=counts,
    )


def _add_written(total: Optional[int], result: Any) -> Optional[int]:
    """`total` plus the row count a CTAS/INSERT reported (None once one reports none)."""
    rows = getattr(result, "rows", None)
    columns = getattr(result, "columns", None)
    if total is None or columns != ["rows"] or not rows or not isinstance(rows[0][0], int):
        return None
    return total + int(rows[0][0])


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


def _with_cluster_range(
    where: str, cluster: str, spans: Sequence[Optional[Tuple[Any, Any]]]
) -> str:
    """`where` AND the cluster column's range over the batch's partitions, when every partition
    in it has one (a NULL cluster value anywhere would fall outside any range)."""
    known = [span for span in spans if span is not None and None not in span]
    if not spans or len(known) != len(spans):
        return where
    lo = min(span[0] for span in known)
    hi = max(span[1] for span in known)
    return f"({where}) AND {cluster} BETWEEN {_literal(lo)} AND {_literal(hi)}"


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

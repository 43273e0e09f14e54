"""What the steps share: the typed columns, run ids, literals placed in SQL, history appends."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import List, Optional

from ..adjustments import partition_columns
from ..engines.base import Engine
from ..errors import ConfigError, validate_identifier
from ..settings import DAY_PARTITION_COLUMN, Settings
from ..sql_files import render, sql_uri
from ..storage import Storage

# The typed table's columns before the partition column (docs/architecture.md, "Tables").
DATA_COLUMNS = (
    "ticker", "bar_time", "bar_time_ms", "open", "high", "low", "close", "volume", "vwap",
    "transactions", "ingested_at", "adjusted_as_of", "day_hour_partition",
)
# The production archive's columns (the adjusted view's) before the partition column(s).
PRODUCTION_COLUMNS = (
    "ticker", "bar_time", "bar_time_ms", "open", "high", "low", "close", "volume", "vwap",
    "transactions", "ingested_at", "open_traded", "high_traded", "low_traded", "close_traded",
    "volume_traded", "vwap_traded", "split_factor",
)
# The bar start in ms sorts rows in partition order too (exchange-time hours never run
# backwards: the repeated 01 hour of the DST change keeps its place), and an integer sorts
# faster than the string: write_partitioned clusters its stage by it.
CLUSTER_COL = "bar_time_ms"
_RUN_ID = re.compile(r"^[0-9A-Za-z-]{1,200}$")
# A value placed in a SQL string literal: no quote, backslash or control character.
_TEXT = re.compile(r"^[^'\\\x00-\x1f]{0,1024}$")


def now_utc(now: Optional[datetime] = None) -> datetime:
    moment = now or datetime.now(timezone.utc)
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def typed_columns(settings: Settings) -> List[str]:
    """The typed (and sans-dup, and production) table's columns, partition column last: with
    day partitions `day_partition` follows `day_hour_partition`, which then is a plain column."""
    columns = list(DATA_COLUMNS)
    if settings.partition_column == DAY_PARTITION_COLUMN:
        columns.append(DAY_PARTITION_COLUMN)
    return columns


def column_list(settings: Settings) -> str:
    return ", ".join(validate_identifier(c, "column name") for c in typed_columns(settings))


def production_column_list(settings: Settings) -> str:
    """The production archive's columns, partition column(s) last as in the adjusted view."""
    columns = list(PRODUCTION_COLUMNS) + partition_columns(settings)
    return ", ".join(validate_identifier(c, "column name") for c in columns)


def text_literal(value: object, what: str) -> str:
    """`'value'` for SQL, refusing what cannot be placed there safely (named in the error)."""
    text = str(value)
    if not _TEXT.match(text):
        raise ConfigError(
            f"{what} {text!r} cannot be placed in SQL (quotes, backslashes and control "
            "characters are refused, at most 1,024 characters); rename it"
        )
    return f"'{text}'"


def new_run_id(moment: datetime, previous: Optional[str] = None) -> str:
    """A run id that sorts by time and after `previous` (a clock that went back, another host)."""
    run_id = f"{moment:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:8]}"
    if previous and run_id <= str(previous):
        run_id = f"{previous}-{uuid.uuid4().hex[:8]}"
    if not _RUN_ID.match(run_id):
        raise ConfigError(f"run id {run_id!r} cannot be placed in SQL")
    return run_id


def without_header(sql: str) -> str:
    """`sql` without its leading comment lines (a SQL file's header), to embed it in a CTAS."""
    lines = sql.strip().splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return "\n".join(lines)


def count_rows(engine: Engine, table: str) -> int:
    """`SELECT count(*)` of a table or view."""
    validate_identifier(table, "table name")
    return int(engine.execute(render("count_rows.sql", table=table)).scalar() or 0)


def append_rows(
    settings: Settings, engine: Engine, kind: str, table: str, values: str, exists: bool
) -> None:
    """Append VALUES rows to a history table (`kind` dq or lineage): INSERT INTO when it
    `exists`, else a CTAS that creates it (the files `<kind>_insert.sql`, `<kind>_create.sql`)."""
    slot = {f"{kind}_table": table}
    if exists:
        engine.execute(render(f"{kind}_insert.sql", values=values, **slot))
    else:
        location = sql_uri(settings.table_location(table))
        engine.execute(render(f"{kind}_create.sql", location=location, values=values, **slot))


def drop_table_and_files(settings: Settings, engine: Engine, storage: Storage, table: str) -> int:
    """DROP TABLE (metadata only, as in Athena) and delete its files; returns objects deleted."""
    engine.execute(render("drop_table.sql", table=validate_identifier(table, "table name")))
    return storage.delete_prefix(settings.table_location(table))

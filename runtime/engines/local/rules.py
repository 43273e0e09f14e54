"""Athena's rules that the local engine enforces, and the error names it reports them under, so
that a local run fails where the cloud would (docs/architecture.md, "Engines")."""

from __future__ import annotations

import re
from typing import Any, List, Sequence, Tuple

from ...errors import EngineError, IdentifierError, validate_identifier
from . import athena_refusals

MAX_OPEN_PARTITIONS = 100  # Athena's limit per CTAS / INSERT INTO
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

_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist")
_MISSING_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')
_CANDIDATES = re.compile(r"Candidate bindings: (.*?)(?:\n|LINE \d|$)", re.S)


def head(sql: str, n: int = 160) -> str:
    """`sql` on one line, cut to `n` characters: the statement as an error message quotes it."""
    one = " ".join(sql.split())
    return one if len(one) <= n else one[: n - 3] + "..."


def athena_error(exc: Exception, database: str, text: str) -> EngineError:
    """DuckDB's message under Athena's error name for the two errors an analyst meets most (a
    mistyped table or column); DuckDB's own guesses ('Did you mean pg_attrdef') mislead here."""
    message = str(exc)
    refusal = athena_refusals.from_engine_error(message)
    if refusal is not None:
        return refusal
    table = _MISSING_TABLE.search(message)
    if table:
        return EngineError(
            f"TABLE_NOT_FOUND: Table '{database}.{table.group(1)}' does not exist; "
            f"`stockpipe tables` lists the catalog [statement: {head(text)}]",
            error_name="TABLE_NOT_FOUND",
        )
    column = _MISSING_COLUMN.search(message)
    if column:
        found = _CANDIDATES.search(message)
        hint = f" (similar: {' '.join(found.group(1).split())})" if found else ""
        return EngineError(
            f"COLUMN_NOT_FOUND: Column '{column.group(1)}' cannot be resolved{hint} "
            f"[statement: {head(text)}]",
            error_name="COLUMN_NOT_FOUND",
        )
    return EngineError(f"{message} [statement: {head(text)}]")


def already_exists(database: str, name: str, hint: str = "") -> EngineError:
    return EngineError(
        f"{ALREADY_EXISTS}: Table {database}.{name} already exists{hint}",
        error_name=ALREADY_EXISTS,
    )


def not_found(database: str, name: str, kind: str = "Table", hint: str = "") -> EngineError:
    return EngineError(
        f"{NOT_FOUND}: {kind} {database}.{name} does not exist{hint}", error_name=NOT_FOUND
    )


def check_named_columns(query: Any, name: str) -> None:
    """Athena refuses a CTAS whose SELECT has an expression without an alias."""
    from sqlglot import exp

    select = query if isinstance(query, exp.Select) else query.find(exp.Select)
    if select is None:
        return
    for i, item in enumerate(select.expressions, start=1):
        if not isinstance(item, (exp.Alias, exp.Column, exp.Star)):
            raise EngineError(
                f"{NOT_SUPPORTED}: Column name not specified at position {i} in CTAS for "
                f"table {name!r}: give it an alias ({head(item.sql('athena'), 60)} AS name)",
                error_name=NOT_SUPPORTED,
            )


def check_columns(cols: List[Tuple[str, str]], parts: Sequence[str], name: str) -> None:
    """A table's columns as Athena accepts them: unique valid names, the partition columns last
    and in order, no `timestamp with time zone`."""
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


def too_many_partitions(count: int) -> EngineError:
    return EngineError(
        f"{TOO_MANY_PARTITIONS}: Exceeded limit of {MAX_OPEN_PARTITIONS} open writers "
        f"for partitions/buckets ({count} partitions in one statement; write at "
        f"most {MAX_OPEN_PARTITIONS} per statement: a CTAS of the first "
        f"{MAX_OPEN_PARTITIONS}, then INSERT INTO batches of at most "
        f"{MAX_OPEN_PARTITIONS} (Athena's documented workaround; runtime."
        "partitioned.write_partitioned does it))",
        error_name=TOO_MANY_PARTITIONS,
    )

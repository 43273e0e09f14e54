"""What DuckDB would run but Athena refuses, refused under Athena's error names: DuckDB's table
functions (read_csv('/etc/passwd'), read_text, read_parquet, glob, duckdb_settings(), ...), file
names used as tables (DuckDB reads `FROM "data.csv"` as a file), and table locations outside
the lake (in the cloud the ETL role may use the lake's buckets only).

`stockpipe query` runs any statement an analyst types, so without this the local engine would
read and write anywhere the user's account can."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, List, Optional, Sequence

from ...errors import EngineError
from .rules import head

FUNCTION_NOT_FOUND = "FUNCTION_NOT_FOUND"
TABLE_NOT_FOUND = "TABLE_NOT_FOUND"
PERMISSION_DENIED = "PERMISSION_DENIED"
# DuckDB functions that read files or describe the host; none exists in Athena.
_HOST_FUNCTIONS = re.compile(
    r"^(read_\w+|glob|parquet_\w+|sniff_csv|duckdb_\w+|pragma_\w+|getenv|current_setting|"
    r"which_secret|iceberg_\w+|delta_scan|sqlite_\w+|postgres_\w+|mysql_\w+|query_table|"
    r"query)$",
    re.I,
)
# A table name Athena accepts (Hive's $-suffixed metadata tables included); DuckDB would read a
# name such as "/etc/passwd" or "data.csv" as a file.
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_$]+$")


def _function_name(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.name)
    return node.sql_name() if hasattr(node, "sql_name") else type(node).__name__


def refuse_host_access(node: Any, database: str, text: str) -> None:
    """Raise if the parsed statement `node` reads anything but catalog tables."""
    from sqlglot import exp

    for table in node.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            inner = table.this
            if isinstance(inner, exp.Anonymous) and inner.name.upper() == "TABLE":
                inner = inner.expressions[0] if inner.expressions else inner
            raise EngineError(
                f"{FUNCTION_NOT_FOUND}: Table function '{_function_name(inner).lower()}' not "
                "registered: Athena reads the catalog's tables (`stockpipe tables` lists them), "
                f"not files [statement: {head(text)}]",
                error_name=FUNCTION_NOT_FOUND,
            )
        if table.find_ancestor(exp.Query) is None:
            continue  # the statement's own target: its name is validated where it is used
        for part in (table.this, table.args.get("db"), table.args.get("catalog")):
            if isinstance(part, exp.Identifier) and not _TABLE_NAME.match(part.name):
                raise EngineError(
                    f"{TABLE_NOT_FOUND}: Table '{database}.{part.name}' does not exist; "
                    f"`stockpipe tables` lists the catalog [statement: {head(text)}]",
                    error_name=TABLE_NOT_FOUND,
                )
    for func in node.find_all(exp.Func):
        name = _function_name(func)
        if isinstance(func, (exp.ReadCSV, exp.ReadParquet)) or _HOST_FUNCTIONS.match(name):
            raise EngineError(
                f"{FUNCTION_NOT_FOUND}: Function '{name.lower()}' not registered "
                f"[statement: {head(text)}]",
                error_name=FUNCTION_NOT_FOUND,
            )


_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/))*\s*", re.S)
_READS = re.compile(r"^(?:\(\s*)*(select|with|values|show|describe|desc|explain)\b", re.I)


def reads_only(sql: str) -> bool:
    """True for a statement that only reads (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN):
    one a read-only catalog can run."""
    return bool(_READS.match(_COMMENTS.sub("", sql or "")))


def refuse_write(text: str, path: str) -> None:
    """Raise unless `text` only reads: the engine holds its catalog read-only."""
    if not reads_only(text):
        raise EngineError(
            f"this statement writes, but the catalog {path} was opened read-only (for a "
            f"command that only reads) [statement: {head(text)}]"
        )


def lake_roots(settings: Any) -> List[str]:
    """The folders a home's tables may live in: the lake, and the raw, curated and archive
    prefixes where settings move them elsewhere (resolved, so a symbolic link cannot widen
    them)."""
    from ...storage import local_path

    roots = [str(settings.lake_dir.resolve())]
    raw_parent = settings.raw_uri.rstrip("/").rsplit("/", 1)[0]  # raw/ and rejects/
    for uri in (raw_parent, settings.curated_uri, settings.archive_uri):
        if "://" not in uri or uri.startswith("file://"):
            root = str(local_path(uri).expanduser().resolve())
            if not inside(root, roots):
                roots.append(root)
    return roots


def inside(location: str, roots: Sequence[str]) -> bool:
    """True if the folder `location` (absolute, resolved) is one of `roots` or under one."""
    path = Path(location)
    return any(path == Path(root) or Path(root) in path.parents for root in roots)


def refuse_outside_lake(location: str, table: str, roots: Optional[Sequence[str]]) -> None:
    """Raise unless `location` lies in the lake (`roots` None: no restriction)."""
    if roots is None or inside(location, roots):
        return
    raise EngineError(
        f"{PERMISSION_DENIED}: Access Denied: location {location!r} of table {table!r} is "
        f"outside the lake ({', '.join(roots)}); tables live under the lake, as in the cloud "
        "where the ETL role may use only the lake's buckets",
        error_name=PERMISSION_DENIED,
    )

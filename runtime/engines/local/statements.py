"""The statements that change or read the catalog without writing data: CREATE EXTERNAL TABLE,
DROP, CREATE VIEW, DESCRIBE, SHOW TABLES/VIEWS/PARTITIONS, ALTER TABLE ADD PARTITION and MSCK
REPAIR TABLE, each refused where Athena would refuse it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ...errors import EngineError, IdentifierError, UnsupportedSQLError, validate_identifier
from ..base import QueryResult
from .catalog import TableEntry
from .dialect import SCALAR_TYPES, athena_type, lit, literal_text, q, transpile
from .rules import (
    ALREADY_EXISTS,
    HARMLESS_TBLPROPERTIES,
    JSON_SERDES,
    NOT_FOUND,
    NOT_SUPPORTED,
    PARQUET_SERDE,
    already_exists,
    not_found,
)

_LEADING_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/))*\s*", re.S)
_PARTITION_SPEC = re.compile(r"partition\s*\(([^)]*)\)", re.I)
_SPEC_ITEM = re.compile(r"^\s*`?(\w+)`?\s*=\s*'((?:[^']|'')*)'\s*$")


class Statements:
    """Catalog statements on a connection; the scan cache hears of tables told about new files."""

    def __init__(self, connection: Any, catalog: Any, cache: Any):
        self._db = connection
        self._catalog = catalog
        self._cache = cache

    def _transpile(self, node: Any) -> str:
        return transpile(node, self._db.database)

    def create_external(self, node: Any) -> QueryResult:
        from sqlglot import exp

        schema = node.this
        name = self._catalog.table_name(schema)
        props = node.args.get("properties")
        items = list(props.expressions) if props is not None else []
        if not any(isinstance(p, exp.ExternalProperty) for p in items):
            raise UnsupportedSQLError(
                f"CREATE TABLE {name} without AS SELECT must be CREATE EXTERNAL TABLE (as in "
                "Athena); the local engine has no managed tables"
            )
        if self._catalog.entry(name) is not None:
            if node.args.get("exists"):
                return QueryResult()
            raise already_exists(self._db.database, name)
        if not isinstance(schema, exp.Schema) or not schema.expressions:
            raise EngineError(f"CREATE EXTERNAL TABLE {name} needs a column list")
        columns = [self._column_def(c, name) for c in schema.expressions]
        partitions: List[Tuple[str, str]] = []
        serde = serde_name = None
        fmt = None
        location = None
        options: Dict[str, Any] = {}
        for prop in items:
            if isinstance(prop, exp.ExternalProperty):
                continue
            if isinstance(prop, exp.PartitionedByProperty):
                partitions = [self._column_def(c, name) for c in prop.this.expressions]
            elif isinstance(prop, exp.RowFormatSerdeProperty):
                serde_name = literal_text(prop.this)
                serde = serde_name.lower()
                sp = prop.args.get("serde_properties")
                for kv in sp.expressions if sp is not None else []:
                    key, value = literal_text(kv.this).lower(), literal_text(kv.args.get("value"))
                    if key == "ignore.malformed.json":
                        options["ignore_malformed"] = value.lower() == "true"
                    elif key in ("case.insensitive", "dots.in.keys") and value.lower() in (
                        "true",
                        "false",
                    ):
                        if key == "dots.in.keys" and value.lower() == "true":
                            raise UnsupportedSQLError(
                                f"SERDEPROPERTIES 'dots.in.keys'='true' on {name!r}"
                            )
                    else:
                        raise UnsupportedSQLError(
                            f"SERDEPROPERTIES {key!r} on table {name!r} is not supported "
                            "by the local engine"
                        )
            elif isinstance(prop, exp.FileFormatProperty):
                fmt = prop.name.upper()
            elif isinstance(prop, exp.LocationProperty):
                location = self._catalog.location(literal_text(prop.this), name)
            elif isinstance(prop, exp.Property):
                key = prop.name.lower()
                if key not in HARMLESS_TBLPROPERTIES:
                    raise UnsupportedSQLError(
                        f"TBLPROPERTIES {key!r} on table {name!r} is not supported by "
                        "the local engine"
                    )
            else:
                raise UnsupportedSQLError(
                    f"{prop.sql('athena')!r} on table {name!r} is not supported by the local engine"
                )
        if location is None:
            raise EngineError(f"CREATE EXTERNAL TABLE {name} needs LOCATION '<prefix>'")
        names = [c for c, _ in columns + partitions]
        if len(set(names)) != len(names):
            raise EngineError(f"table {name!r} declares a column twice: {names}")
        if serde in JSON_SERDES and fmt in (None, "TEXTFILE"):
            entry = TableEntry(
                name, "json", location, columns, partitions, {**options, "serde": serde}
            )
            view = self._catalog.json_view(entry)
        elif fmt == "PARQUET" or serde == PARQUET_SERDE:
            entry = TableEntry(
                name, "parquet", location, columns, partitions, {"format": "PARQUET"}
            )
            view = self._catalog.parquet_view(entry)
        else:
            raise UnsupportedSQLError(
                f"external table {name!r} with serde {serde_name!r} and format {fmt!r} is not "
                "supported: "
                "the local engine reads JSON (org.openx.data.jsonserde.JsonSerDe) and PARQUET"
            )
        self._catalog.register(entry, view)
        return QueryResult()

    def _column_def(self, coldef: Any, table: str) -> Tuple[str, str]:
        name = coldef.name.lower()
        try:
            validate_identifier(name, "column name")
        except IdentifierError as exc:
            raise EngineError(f"table {table!r}: {exc}") from exc
        kind = coldef.args.get("kind")
        base = kind.this.name if kind is not None else ""
        if base not in SCALAR_TYPES:
            raise UnsupportedSQLError(
                f"column {name!r} of table {table!r} has type "
                f"{kind.sql('athena') if kind is not None else '?'}; the local engine supports "
                "string, varchar, bigint, int, smallint, tinyint, double, float, boolean, "
                "timestamp, date, decimal(p,s)"
            )
        duck = SCALAR_TYPES[base]
        if duck == "DECIMAL":
            duck = kind.sql("duckdb").replace(" ", "")
        return name, duck

    def drop(self, node: Any) -> QueryResult:
        kind = (node.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            raise UnsupportedSQLError(f"DROP {kind} is not supported by the local engine")
        for table in node.args.get("tables") or [node.this]:
            name = self._catalog.table_name(table)
            entry = self._catalog.entry(name)
            if entry is None:
                if node.args.get("exists"):
                    continue
                raise not_found(self._db.database, name, kind=kind.title())
            if (kind == "VIEW") != (entry.kind == "view"):
                raise EngineError(
                    f"{name} is a {'view' if entry.kind == 'view' else 'table'}: use DROP "
                    f"{'VIEW' if entry.kind == 'view' else 'TABLE'}"
                )
            self._catalog.forget(name)  # metadata only: the files stay, as in Athena
        return QueryResult()

    def create_view(self, node: Any) -> QueryResult:
        name = self._catalog.table_name(node.this)
        entry = self._catalog.entry(name)
        if entry is not None and entry.kind != "view":
            raise EngineError(
                f"{name} is a table, not a view; choose another name", error_name=ALREADY_EXISTS
            )
        if entry is not None and not node.args.get("replace"):
            raise EngineError(
                f"{ALREADY_EXISTS}: View {self._db.database}.{name} already exists; use "
                "CREATE OR REPLACE VIEW",
                error_name=ALREADY_EXISTS,
            )
        sel = self._transpile(node.expression)
        cols = self._db.columns_of(sel)
        view = TableEntry(name, "view", None, cols, [], {"sql": node.expression.sql("athena")})
        self._catalog.register(view, sel, replace=True)
        return QueryResult()

    def describe(self, node: Any) -> QueryResult:
        name = self._catalog.table_name(node.this)
        entry = self._catalog.entry(name)
        if entry is None:
            raise not_found(self._db.database, name)
        cols = (
            entry.columns
            if entry.kind != "view"
            else self._db.columns_of(f"SELECT * FROM {q(self._db.database)}.{q(name)}")
        )
        rows = [(c, athena_type(t), "") for c, t in cols]
        rows += [(c, athena_type(t), "partition key") for c, t in entry.partitions]
        return QueryResult(columns=["col_name", "data_type", "comment"], rows=rows)

    def show(self, what: str, db: Optional[str], pattern: Optional[str]) -> QueryResult:
        if db:
            self._catalog.check_name("x", db.strip('`"'))
        names = []
        for name in self._catalog.names():
            entry = self._catalog.entry(name)
            if what == "views" and entry is not None and entry.kind != "view":
                continue
            names.append(name)
        if pattern:
            # Athena's SHOW TABLES pattern: '*' is any run of characters, '|' separates choices.
            alts = [re.escape(p.strip().lower()).replace(r"\*", ".*") for p in pattern.split("|")]
            rx = re.compile("^(?:" + "|".join(alts) + ")$")
            names = [n for n in names if rx.match(n)]
        return QueryResult(columns=["tab_name"], rows=[(n,) for n in names])

    def show_partitions(self, name: str) -> QueryResult:
        entry = self.require_table(name)
        if not entry.partitions:
            raise EngineError(
                f"Table {self._db.database}.{name} is not partitioned", error_name=NOT_SUPPORTED
            )
        keys = [c for c, _ in entry.partitions]
        expr = " || '/' || ".join(f"{lit(c + '=')} || CAST({q(c)} AS VARCHAR)" for c in keys)
        rows = self._db.con.execute(
            f"SELECT DISTINCT {expr} AS p FROM {q(self._db.database)}.{q(name)} ORDER BY p"
        ).fetchall()
        return QueryResult(columns=["partition"], rows=rows)

    def require_table(self, name: str) -> TableEntry:
        entry = self._catalog.entry(name)
        if entry is None or entry.kind == "view":
            raise not_found(self._db.database, name)
        return entry

    def repair(self, name: str) -> QueryResult:
        # Partitions are folders read at query time, so there is nothing to load; the table
        # must exist, as in Athena. Its new folders are seen by the next read, in a
        # consistent_reads block too.
        self.require_table(name)
        self._cache.table_changed(name)
        return QueryResult()

    def alter(self, name: str, text: str) -> QueryResult:
        text = _LEADING_COMMENTS.sub("", text)
        drop = re.match(r"^alter\s+table\s+\S+\s+drop\s+(if\s+exists\s+)?partition\b", text,
                        re.I)
        if drop:
            return self._drop_partitions(name, text, bool(drop.group(1)))
        if not re.match(
            r"^alter\s+table\s+\S+\s+add\s+(if\s+not\s+exists\s+)?partition\b", text, re.I
        ):
            raise UnsupportedSQLError(
                f"ALTER TABLE {name}: only ADD [IF NOT EXISTS] PARTITION and DROP [IF EXISTS] "
                "PARTITION are supported locally"
            )
        entry = self.require_table(name)
        keys = [c for c, _ in entry.partitions]
        for m in re.finditer(r"\blocation\s+'([^']*)'", text, re.I):
            # A partition's folder is `<table location><column>=<value>/`: the '=' that a
            # table location may not hold is the Hive layout here.
            raw = m.group(1).rstrip("/")
            base, _, folder = raw.rpartition("/")
            column = folder.split("=", 1)[0].lower()
            if len(keys) == 1 and "=" in folder and column == keys[0]:
                where = self._catalog.location(base, name) + folder + "/"
            else:
                where = self._catalog.location(m.group(1), name)
            if not where.startswith(entry.location or ""):
                raise UnsupportedSQLError(
                    f"ALTER TABLE {name} ADD PARTITION LOCATION {m.group(1)!r} lies outside the "
                    f"table location {entry.location}; the local engine reads partitions from "
                    "folders under the table location only"
                )
        # Partitions are folders read at query time: nothing to add, but the next read must
        # look at the files again, in a consistent_reads block too.
        self._cache.table_changed(name)
        return QueryResult()

    def _drop_partitions(self, name: str, text: str, if_exists: bool) -> QueryResult:
        """ALTER TABLE DROP PARTITION. A partition here is its folder's files, which Athena's
        DROP leaves in place and a later INSERT into the same partition reads again; so, to fail
        where that would go wrong in the cloud, the files must be deleted first."""
        entry = self.require_table(name)
        keys = [c for c, _ in entry.partitions]
        specs = _PARTITION_SPEC.findall(text)
        if not keys or not specs:
            raise EngineError(
                f"ALTER TABLE {name} DROP PARTITION needs PARTITION (column = 'value') of a "
                f"partitioned table (partition columns: {keys or 'none'})",
                error_name=NOT_SUPPORTED,
            )
        for spec in specs:
            items = [_SPEC_ITEM.match(part) for part in spec.split(",")]
            if any(m is None for m in items) or [m.group(1).lower() for m in items] != keys:
                raise EngineError(
                    f"ALTER TABLE {name} DROP PARTITION ({spec}): name every partition column "
                    f"{keys} with a quoted value, in order",
                    error_name=NOT_SUPPORTED,
                )
            folder = Path((entry.location or "") + "/".join(
                f"{m.group(1).lower()}={m.group(2).replace(chr(39) * 2, chr(39))}" for m in items
            ))
            files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
            if files:
                raise EngineError(
                    f"ALTER TABLE {name} DROP PARTITION ({spec}): its {len(files)} files are "
                    f"still in {folder}; Athena keeps them and a later INSERT into this "
                    "partition would read them again: delete them first",
                    error_name=NOT_SUPPORTED,
                )
            if not if_exists and not folder.is_dir():
                raise EngineError(
                    f"{NOT_FOUND}: Partition ({spec}) of {self._db.database}.{name} does not "
                    "exist",
                    error_name=NOT_FOUND,
                )
        self._cache.table_dropped(name)
        return QueryResult()

"""The Athena dialect on DuckDB: sqlglot parses Trino SQL (`read="athena"`) and writes DuckDB;
what sqlglot drops or gets wrong is rewritten here (docs/architecture.md, "Engines"):

- integer `/` (DuckDB's `integer_division` setting, set on the connection);
- Joda `format_datetime` / `parse_datetime` patterns, `to_iso8601`, `with_timezone`;
- `AT TIME ZONE`, and `CAST(timestamp AS varchar)` with milliseconds;
- `round(x, n)` computed as Trino's Math.round(x * 10^n) / 10^n (DuckDB's own round differs
  where the binary product lands on .5);
- Athena's `_col<n>` names for unaliased expressions, and its type names in DESCRIBE.
- everything else the ported Trino tests showed DuckDB answers differently (zones of timestamps
  with time zone, dates that stay dates, decimals, MySQL date formats, string edges) in
  trino_functions and its modules, which refuse what they cannot make exact
  (athena_refusals; docs/sql-conformance.md).

sqlglot is imported inside the functions: this module is never imported on the Lambda/Glue path.
"""

from __future__ import annotations

from typing import Any, List, Sequence, Tuple

from ...errors import EngineError, UnsupportedSQLError
from . import athena_refusals, trino_floats, trino_functions, trino_scalars, trino_zones
from .rules import NOT_FOUND

SCALAR_TYPES = {
    "TEXT": "VARCHAR",
    "VARCHAR": "VARCHAR",
    "CHAR": "VARCHAR",
    "BIGINT": "BIGINT",
    "INT": "INTEGER",
    "SMALLINT": "SMALLINT",
    "TINYINT": "TINYINT",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP",
    "DATE": "DATE",
    "DECIMAL": "DECIMAL",
}
ATHENA_TYPE_NAMES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "float",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
}

# Trino helpers, stored in the DuckDB file so views that use them work in any session.
# `typeof` is folded when DuckDB binds, so the CASE costs nothing per row.
MACROS = trino_floats.MACROS + (  # first: __sp_varchar uses them
    # Trino prints timestamp(3) with milliseconds ('2020-01-02 05:00:00.000'); DuckDB drops them.
    "CREATE OR REPLACE MACRO main.__sp_varchar(x) AS CASE "
    "WHEN typeof(x) = 'TIMESTAMP' THEN strftime(TRY_CAST(x AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%g') "
    "WHEN typeof(x) = 'TIMESTAMP WITH TIME ZONE' "
    "THEN strftime(TRY_CAST(x AS TIMESTAMPTZ), '%Y-%m-%d %H:%M:%S.%g') || ' UTC' "
    # Trino writes doubles and reals in scientific notation ('2.0E0'; trino_floats).
    "WHEN typeof(x) = 'DOUBLE' THEN main.__sp_double_text(TRY_CAST(x AS DOUBLE)) "
    "WHEN typeof(x) = 'FLOAT' THEN main.__sp_real_text(TRY_CAST(x AS FLOAT)) "
    "ELSE CAST(x AS VARCHAR) END",
    # Trino's to_iso8601: milliseconds, and 'Z' for a UTC timestamp with time zone.
    "CREATE OR REPLACE MACRO main.__sp_iso8601(x) AS CASE "
    "WHEN typeof(x) = 'DATE' THEN strftime(TRY_CAST(x AS DATE), '%Y-%m-%d') "
    "WHEN typeof(x) = 'TIMESTAMP WITH TIME ZONE' "
    "THEN strftime(TRY_CAST(x AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%gZ') "
    "ELSE strftime(TRY_CAST(x AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%g') END",
    # timezone('UTC', x) of a timestamp with time zone, without ICU: the UTC wall clock is the
    # instant's epoch microseconds, ten times faster (docs/performance.md "Measurements behind
    # code choices"). Infinities, which epoch_us cannot give, keep the ICU path.
    "CREATE OR REPLACE MACRO main.__sp_utc(x) AS CASE "
    "WHEN isfinite(x) THEN make_timestamp(epoch_us(x)) ELSE timezone('UTC', x) END",
) + trino_scalars.MACROS  # Trino's semantics where DuckDB's differ (docs/sql-conformance.md)


def q(name: str) -> str:
    """Quote a DuckDB identifier (names are validated before they get here)."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def joda_to_strftime(pattern: str) -> str:
    """Translate a Joda-Time pattern (Trino's format_datetime) into DuckDB strftime."""
    out: List[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:  # '' is a literal quote
                out.append("'")
                i += 2
                continue
            if end < 0:
                raise UnsupportedSQLError(
                    f"format_datetime pattern {pattern!r} has an unclosed quote"
                )
            out.append(pattern[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        if not ch.isalpha():
            out.append("%%" if ch == "%" else ch)
            i += 1
            continue
        j = i
        while j < n and pattern[j] == ch:
            j += 1
        out.append(_joda_field(ch, j - i, pattern))
        i = j
    return "".join(out)


def _joda_field(ch: str, count: int, pattern: str) -> str:
    padded = {"d": "d", "H": "H", "h": "I", "m": "M", "s": "S"}
    if ch in ("y", "Y", "u"):
        return "%y" if count == 2 else "%Y"
    if ch == "M":
        return {1: "%-m", 2: "%m", 3: "%b"}.get(count, "%B")
    if ch in padded and count <= 2:
        return ("%-" if count == 1 else "%") + padded[ch]
    if ch == "S" and count in (3, 6, 9):
        return {3: "%g", 6: "%f", 9: "%n"}[count]
    if ch == "E":
        return "%a" if count <= 3 else "%A"
    if ch == "a" and count == 1:
        return "%p"
    if ch == "D" and count in (1, 3):
        return "%-j" if count == 1 else "%j"
    if ch == "Z" and count == 1:
        return "%z"
    if ch == "z" and count <= 3:
        return "%Z"
    raise UnsupportedSQLError(
        f"format_datetime pattern {pattern!r}: the Joda field {ch * count!r} is not supported by "
        "the local engine; use yyyy, yy, M..MMMM, d, dd, H, HH, h, hh, m, mm, s, ss, SSS, "
        "E, a, D, Z, z"
    )



def transpile(node: Any, database: str) -> str:
    """Athena AST -> DuckDB SQL, closing the gaps sqlglot leaves."""
    return transpile_query(node, database)[0]


def transpile_query(node: Any, database: str, *, in_place: bool = False) -> Tuple[str, List[Any]]:
    """transpile, and the zone of each result column that is a timestamp with time zone outside
    UTC (trino_zones.apply_zones shows the fetched values in it, as Athena does). `in_place`
    rewrites `node` itself, for a caller that has no further use for it (a copy of a large
    statement's tree costs more than its translation)."""
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, UnsupportedError

    tree = node if in_place else node.copy()
    # Children first, so a rewritten node wraps already-rewritten arguments.
    for sub in reversed(list(tree.dfs())):
        new = _rewrite(sub, exp, database)
        if new is not None and new is not sub:
            if sub is tree:
                tree = new
            else:
                sub.replace(new)
    zones = trino_zones.result_zones(exp, tree)
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE), zones
    except UnsupportedError as exc:
        raise UnsupportedSQLError(
            f"the local engine cannot translate part of this statement to DuckDB: {exc}"
        ) from exc


def _rewrite(node: Any, exp: Any, database: str) -> Any:
    if isinstance(node, exp.Table):
        catalog = node.args.get("catalog")
        if catalog is not None and catalog.name.lower() == "awsdatacatalog":
            node.set("catalog", None)
        db = node.args.get("db")
        if db is not None and db.name.lower() != database and not node.args.get("catalog"):
            raise EngineError(
                f"database {db.name!r} does not exist here: the local catalog holds "
                f"database {database!r}",
                error_name=NOT_FOUND,
            )
        return None
    athena_refusals.check(node, exp)
    trino = (
        trino_scalars.round_decimals(node, exp)
        if isinstance(node, exp.Round)
        else trino_functions.rewrite(node, exp)
    )
    if trino is not None:
        return trino
    if isinstance(node, exp.Anonymous) and node.name.lower() == "format_datetime":
        args = node.expressions
        if len(args) != 2 or not (isinstance(args[1], exp.Literal) and args[1].is_string):
            raise UnsupportedSQLError(
                "format_datetime needs a constant Joda pattern as its second argument on the "
                f"local engine, got {node.sql('athena')!r}"
            )
        fmt = joda_to_strftime(args[1].this)
        return exp.Anonymous(this="strftime", expressions=[args[0], exp.Literal.string(fmt)])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "to_iso8601":
        return exp.Anonymous(this="__sp_iso8601", expressions=node.expressions)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "with_timezone":
        # Trino: the wall-clock timestamp read in `zone`, as timestamp with time zone.
        if len(node.expressions) != 2:
            raise UnsupportedSQLError(f"with_timezone takes 2 arguments: {node.sql('athena')}")
        ts = exp.Cast(this=node.expressions[0], to=exp.DataType.build("TIMESTAMP"))
        return exp.Anonymous(this="timezone", expressions=[node.expressions[1], ts])
    if isinstance(node, exp.ParseDatetime):
        fmt = node.args.get("format")
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            raise UnsupportedSQLError(
                "parse_datetime needs a constant Joda pattern on the local engine, got "
                f"{node.sql('athena')!r}"
            )
        parsed = exp.Anonymous(
            this="strptime",
            expressions=[node.this, exp.Literal.string(joda_to_strftime(fmt.this))],
        )
        return exp.Cast(this=parsed, to=exp.DataType.build("TIMESTAMPTZ"))
    if isinstance(node, exp.AtTimeZone):
        # Trino: the same instant shown in `zone`. DuckDB: timezone(zone, timestamptz) gives
        # the wall-clock time there; a plain timestamp is first read as UTC (Athena's zone).
        ts = exp.Cast(this=node.this, to=exp.DataType.build("TIMESTAMPTZ"))
        zone = node.args["zone"]
        if isinstance(zone, exp.Literal) and zone.is_string and zone.this.upper() == "UTC":
            return exp.Anonymous(this="__sp_utc", expressions=[ts])
        return exp.Anonymous(this="timezone", expressions=[zone, ts])
    if isinstance(node, exp.Round):
        return _trino_round(node, exp)
    if isinstance(node, (exp.ArgMin, exp.ArgMax)) and node.args.get("count") is None:
        # Trino's min_by/max_by give x of the row with the extreme y even when that x is NULL;
        # DuckDB's arg_min/arg_max skip rows whose x is NULL, its *_null forms keep them.
        name = "arg_min_null" if isinstance(node, exp.ArgMin) else "arg_max_null"
        return exp.Anonymous(this=name, expressions=[node.this, node.expression])
    if isinstance(node, exp.Cast) and node.to.is_type(
        exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR
    ):
        if isinstance(node.this, exp.Literal) and node.this.is_string:
            return None  # a number literal may be a double ('1.5E0'), which Trino writes its way
        if isinstance(node.this, exp.Null):
            # NULL has no text in any type. DuckDB inlines the macro at every use, and the rows
            # of a VALUES list (lineage, check history) each hold such casts: a 400-row INSERT
            # took a minute to bind with the macro and takes milliseconds without it.
            return None
        return exp.Anonymous(this="__sp_varchar", expressions=[node.this])
    return None


def _trino_round(node: Any, exp: Any) -> Any:
    """round(x, n) as Trino computes it for doubles: Math.round(x * 10^n) / 10^n, mirrored for
    negatives (half away from zero on the binary product). DuckDB's own round(double, n)
    differs on products that land exactly on .5: round(75.145E0, 2) is 75.15 in Trino
    (75.145 * 100 == 7514.5 in binary) but 75.14 in DuckDB."""
    decimals = node.args.get("decimals")
    if decimals is None:
        return None  # round(x): DuckDB's std::round is half away from zero, as Trino's
    if not (isinstance(decimals, exp.Literal) and not decimals.is_string):
        raise UnsupportedSQLError(
            "round(x, n) needs a constant whole number n on the local engine, got "
            f"{node.sql('athena')!r}"
        )
    n = int(decimals.this)
    arg = node.this
    is_decimal = (
        isinstance(arg, exp.Literal) and not arg.is_string and "e" not in arg.this.lower()
    ) or (isinstance(arg, exp.Cast) and arg.to.is_type(exp.DataType.Type.DECIMAL))
    if n < 0 or is_decimal:
        return None  # DuckDB rounds decimals exactly, half up, and keeps the type: as Trino
    factor = exp.Literal.number(10**n)
    scaled = exp.Round(this=exp.Mul(this=exp.Paren(this=node.this.copy()), expression=factor))
    return exp.Paren(this=exp.Div(this=scaled, expression=factor.copy()))


def athena_column_names(node: Any) -> Any:
    """Athena names an unaliased expression `_col<position>` (`SELECT ticker, count(*)` gives
    `ticker, _col1`); DuckDB would say `count_star()`. Applied to the outermost SELECT (the
    first branch of a UNION) unless it has a `*`, whose expansion would shift the positions."""
    from sqlglot import exp

    select = node
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return node
    items = select.expressions
    if any(isinstance(i, exp.Star) or (isinstance(i, exp.Column) and i.is_star) for i in items):
        return node
    if all(isinstance(i, (exp.Alias, exp.Column)) for i in items):
        return node
    node = node.copy()
    select = node
    while isinstance(select, exp.SetOperation):
        select = select.this
    select.set("expressions", [
        i if isinstance(i, (exp.Alias, exp.Column)) else exp.alias_(i, f"_col{pos}", quoted=True)
        for pos, i in enumerate(select.expressions)
    ])
    return node


def literal_text(node: Any) -> str:
    """The text of a property value: a string literal, a bare word or an identifier."""
    from sqlglot import exp

    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, (exp.Var, exp.Identifier)):
        return node.name
    if node is None:
        raise EngineError("a property is missing its value")
    return node.sql("athena").strip("'")


def athena_type(duck: str) -> str:
    """The name Athena's DESCRIBE gives a DuckDB type (string, bigint, decimal(p,s), ...)."""
    upper = duck.upper()
    if upper.startswith("DECIMAL"):
        return duck.lower().replace(" ", "")
    return ATHENA_TYPE_NAMES.get(upper, duck.lower())


def fix_types(
    sel: str, data_cols: Sequence[Tuple[str, str]], part_cols: Sequence[Tuple[str, str]]
) -> Tuple[str, List[Tuple[str, str]], List[Tuple[str, str]]]:
    """Athena has no 128-bit or unsigned integers: DuckDB's sum(bigint) etc. become bigint."""
    replace = []
    fixed = []
    for c, t in list(data_cols) + list(part_cols):
        if t.upper() in ("HUGEINT", "UHUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
            replace.append(f"CAST({q(c)} AS BIGINT) AS {q(c)}")
            t = "BIGINT"
        fixed.append((c.lower(), t))
    if replace:
        sel = f"SELECT * REPLACE ({', '.join(replace)}) FROM ({sel})"
    n = len(data_cols)
    return sel, fixed[:n], fixed[n:]

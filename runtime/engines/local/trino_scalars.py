"""Trino's numeric and string edge cases for the local engine's rewrite (see trino_functions):
DECIMAL literal types, round(x, n), ceil of whole numbers, double division by zero, interval
fields, char(n), and string functions whose DuckDB namesakes differ at the edges."""

from __future__ import annotations

import re
from typing import Any, Optional

from ...errors import UnsupportedSQLError
from .athena_refusals import refuse

_DECIMAL = re.compile(r"^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$")


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def const_int(exp: Any, node: Any) -> Optional[int]:
    """A whole-number constant: 2, -1, INTEGER '-1', (3); None otherwise."""
    if isinstance(node, exp.Paren):
        return const_int(exp, node.this)
    if isinstance(node, exp.Neg):
        inner = const_int(exp, node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
        node = node.this
    if isinstance(node, exp.Literal) and re.fullmatch(r"[+-]?\d+", str(node.this).strip()):
        return int(str(node.this).strip())
    return None


def is_null(exp: Any, node: Any) -> bool:
    return isinstance(node, exp.Null) or (
        isinstance(node, exp.Cast) and isinstance(node.this, exp.Null)
    )


def decimal_literal(exp: Any, node: Any) -> Optional[Any]:
    """DECIMAL '12.50' is decimal(4,2) in Trino; DuckDB's bare DECIMAL is (18,3)."""
    text = str(node.this.this)
    m = _DECIMAL.match(text)
    if not m:
        raise UnsupportedSQLError(f"DECIMAL {sql_string(text)} is not a decimal number")
    whole, frac = m.group(2).lstrip("0"), m.group(3) or ""
    scale = len(frac)
    precision = max(len(whole) + scale, 1)
    if precision > 38:
        refuse("DECIMAL literal", f"DECIMAL {sql_string(text)} has more than 38 digits")
    cast = exp.Cast(this=node.this, to=exp.DataType.build(f"DECIMAL({precision}, {scale})"))
    cast.meta["sp_decimal"] = (precision, scale)
    return cast


def _decimal_type(exp: Any, node: Any) -> Optional[tuple]:
    if node._meta and node.meta.get("sp_decimal"):
        return node.meta["sp_decimal"]
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DECIMAL):
        params = [const_int(exp, p.this) for p in node.to.expressions]
        if len(params) == 2 and None not in params:
            return tuple(params)
    return None


def round_decimals(node: Any, exp: Any) -> Optional[Any]:
    """round(x, n) where the engine's own rule (Math.round of the scaled double) is not Trino's:
    a NULL or typed constant n, a negative n, or a decimal x, whose scale Trino keeps."""
    decimals = node.args.get("decimals")
    if decimals is None:
        return None
    if is_null(exp, decimals):
        return exp.Null()
    n = const_int(exp, decimals)
    if n is None:
        return None
    node.set("decimals", exp.Literal.number(n))
    typed = _decimal_type(exp, node.this)
    if typed is not None:
        precision, scale = typed
        return exp.Cast(this=node.copy(), to=exp.DataType.build(
            f"DECIMAL({min(precision + 1, 38)}, {scale})"))
    if isinstance(node.this, exp.Cast) and node.this.to.is_type(exp.DataType.Type.FLOAT) and n >= 0:
        # Trino rounds a real through a double: the scaled float32 would lose digits.
        factor = exp.Literal.number(10**n)
        wide = exp.Cast(this=node.this, to=exp.DataType.build("DOUBLE"))
        scaled = exp.Round(this=exp.Mul(this=exp.Paren(this=wide), expression=factor))
        return exp.Cast(this=exp.Paren(this=exp.Div(this=scaled, expression=factor.copy())),
                        to=exp.DataType.build("FLOAT"))
    if n < 0:
        return node  # DuckDB rounds whole numbers to tens, hundreds... as Trino, overflow included
    return None


# Typed overloads, stored with the engine's other macros: ceil() of a whole number keeps its
# type in Trino; DuckDB's ceil of an integer is a double.
MACROS = (
    "CREATE OR REPLACE MACRO main.__sp_ceil(x TINYINT) AS x, (x SMALLINT) AS x, "
    "(x INTEGER) AS x, (x BIGINT) AS x, (x DOUBLE) AS ceil(x), (x FLOAT) AS ceil(x)",
    # Date arithmetic on a date column stays a date (see trino_functions._keep_date).
    "CREATE OR REPLACE MACRO main.__sp_keep_date(d DATE, r, hourly) AS CASE WHEN hourly THEN "
    "error('Cannot add hour, minutes or seconds to a date') ELSE CAST(r AS DATE) END, "
    "(d TIMESTAMP, r, hourly) AS r, (d TIMESTAMPTZ, r, hourly) AS r, (d TIME, r, hourly) AS r, "
    "(d INTERVAL, r, hourly) AS r",
    "CREATE OR REPLACE MACRO main.__sp_floor(x TINYINT) AS x, (x SMALLINT) AS x, "
    "(x INTEGER) AS x, (x BIGINT) AS x, (x DOUBLE) AS floor(x), (x FLOAT) AS floor(x)",
    # substr: a start of 0, or before the first character, gives '' in Trino.
    "CREATE OR REPLACE MACRO main.__sp_substr(s, start) AS CASE WHEN start = 0 OR "
    "-start > length(s) THEN '' ELSE substr(s, start) END, (s, start, n) AS CASE WHEN start = 0 "
    "OR -start > length(s) THEN '' ELSE substr(s, start, n) END",
    # strpos(s, sub, instance): the instance-th match from the start (or from the end when
    # negative); matches may overlap, as Trino searches again one character after each match.
    "CREATE OR REPLACE MACRO main.__sp_matches(s, sub) AS list_filter(range(1, length(s) + 1), "
    "lambda i: substr(s, i, length(sub)) = sub)",
    "CREATE OR REPLACE MACRO main.__sp_strpos(s, sub, n) AS CASE WHEN n = 0 THEN "
    "error('''instance'' must be a positive or negative number.') ELSE coalesce(list_extract("
    "__sp_matches(s, sub), CASE WHEN n > 0 THEN n ELSE len(__sp_matches(s, sub)) + n + 1 END), 0) "
    "END",
    # CAST(x AS varchar(n)): a string is cut to n characters, any other value that does not fit
    # fails, as in Trino (DuckDB ignores the length).
    "CREATE OR REPLACE MACRO main.__sp_varchar_n(x, n) AS CASE "
    "WHEN typeof(x) = 'VARCHAR' THEN left(CAST(x AS VARCHAR), n) "
    "WHEN length(main.__sp_varchar(x)) > n THEN error('Value ' || main.__sp_varchar(x) || "
    "' cannot be represented as varchar(' || n || ')') ELSE main.__sp_varchar(x) END",
    # Division of doubles: by zero it is Infinity or NaN in Trino, an error in DuckDB (whose
    # integer_division setting the engine needs for Trino's integer `/`).
    "CREATE OR REPLACE MACRO main.__sp_fdiv(a, b) AS "
    "CASE WHEN b = 0 THEN CAST(a AS DOUBLE) * pow(CAST(b AS DOUBLE), -1) ELSE a / b END",
)
_WHOLE = ("TINYINT", "SMALLINT", "INT", "BIGINT")


def _static_whole(exp: Any, node: Any) -> bool:
    if isinstance(node, exp.Neg):
        return _static_whole(exp, node.this)
    if isinstance(node, exp.Literal):
        return not node.is_string and re.fullmatch(r"\d+", str(node.this)) is not None
    return isinstance(node, exp.Cast) and node.to.this.name in _WHOLE


def _static_double(exp: Any, node: Any) -> bool:
    if isinstance(node, exp.Neg):
        return _static_double(exp, node.this)
    if isinstance(node, exp.Literal):
        return not node.is_string and "e" in str(node.this).lower()
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT)
    return bool(node._meta and node.meta.get("sp_double"))


def _nonzero_constant(exp: Any, node: Any) -> bool:
    """A number literal other than 0: dividing by it never needs the zero rule (the pipeline
    divides millions of rows by 1000.0)."""
    try:
        return isinstance(node, exp.Literal) and not node.is_string and float(node.this) != 0
    except ValueError:
        return False


def numeric(node: Any, exp: Any) -> Optional[Any]:
    """ceil of whole numbers; double division by zero (Infinity/NaN in Trino)."""
    if isinstance(node, exp.Ceil) and _static_whole(exp, node.this):
        return exp.Anonymous(this="__sp_ceil", expressions=[node.this])
    if isinstance(node, exp.Floor) and _static_whole(exp, node.this):
        return exp.Anonymous(this="__sp_floor", expressions=[node.this])
    if isinstance(node, exp.Trunc):
        typed = _decimal_type(exp, node.this)
        if typed is not None and node.args.get("decimals") is not None:
            # Trino keeps the scale: truncate(DECIMAL '1234.56', 1) is 1234.50.
            return exp.Cast(this=node.copy(), to=exp.DataType.build(
                f"DECIMAL({typed[0]}, {typed[1]})"))
        return None
    if isinstance(node, exp.Neg):
        return _negate_constant(node, exp)
    if isinstance(node, exp.Div) and not _nonzero_constant(exp, node.expression) and (
        _static_double(exp, node.this) or _static_double(exp, node.expression)
    ):
        out = exp.Anonymous(this="__sp_fdiv", expressions=[node.this, node.expression])
        out.meta["sp_double"] = True
        return out
    return None


_WHOLE_RANGES = {"TINYINT": 2**7, "SMALLINT": 2**15, "INT": 2**31, "BIGINT": 2**63}


def _negate_constant(node: Any, exp: Any) -> Optional[Any]:
    """-(INTEGER '...'): DuckDB folds the constant into a wider type instead of overflowing."""
    inner = node.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if not (isinstance(inner, exp.Cast) and isinstance(inner.this, exp.Literal)):
        return None
    kind = inner.to.this.name
    if kind not in _WHOLE_RANGES or not re.fullmatch(r"\s*[+-]?\d+\s*", str(inner.this.this)):
        return None
    value = -int(str(inner.this.this))
    limit = _WHOLE_RANGES[kind]
    if not -limit <= value < limit:
        raise UnsupportedSQLError(f"{kind.lower()} negation overflow: {-value}")
    return exp.Cast(this=exp.Literal.string(str(value)), to=inner.to.copy())


def strings(node: Any, exp: Any, name: str) -> Optional[Any]:
    """String functions whose DuckDB namesake differs from Trino's at the edges."""
    args = node.expressions
    if name in ("nan", "infinity") and not args:
        out = exp.Cast(this=exp.Literal.string("NaN" if name == "nan" else "Infinity"),
                       to=exp.DataType.build("DOUBLE"))
        out.meta["sp_double"] = True
        return out
    if name == "e" and not args:
        return exp.Cast(this=exp.Literal.number("2.718281828459045"),
                        to=exp.DataType.build("DOUBLE"))
    if name in ("is_infinite", "is_finite") and len(args) == 1:
        return exp.Anonymous(this="isinf" if name == "is_infinite" else "isfinite",
                             expressions=args)
    if name == "hamming_distance" and len(args) == 2:
        # The same character appended to both: DuckDB refuses two empty strings.
        padded = [exp.DPipe(this=a, expression=exp.Literal.string("x")) for a in args]
        return exp.Cast(this=exp.Anonymous(this="hamming", expressions=padded),
                        to=exp.DataType.build("BIGINT"))
    if name == "codepoint" and len(args) == 1:
        one = exp.EQ(this=exp.Anonymous(this="length", expressions=[args[0].copy()]),
                     expression=exp.Literal.number(1))
        fail = exp.Anonymous(this="error", expressions=[exp.Literal.string(
            "codepoint needs a single character (varchar(1)), as in Athena")])
        return exp.Case(ifs=[exp.If(this=one, true=exp.Cast(
            this=exp.Anonymous(this="unicode", expressions=[args[0]]),
            to=exp.DataType.build("INTEGER")))], default=exp.Cast(
                this=fail, to=exp.DataType.build("INTEGER")))
    return None


# A day-to-second interval's field in Trino: the field of its total length (65 seconds has
# second 5 and minute 1); DuckDB keeps the larger units in the field.
_INTERVAL_FIELDS = {"MILLISECOND": (0.001, 1000), "SECOND": (1, 60), "MINUTE": (60, 60),
                    "HOUR": (3600, 24), "DAY": (86400, None)}


def interval_field(exp: Any, value: Any, unit: str, what: str) -> Any:
    unit_of = (value.unit.name if value.unit is not None else "").upper()
    if unit_of in ("YEAR", "MONTH") and unit in ("YEAR", "MONTH"):
        return None  # DuckDB normalizes months into years, as Trino
    if unit_of not in ("SECOND", "MINUTE", "HOUR", "DAY") or unit not in _INTERVAL_FIELDS:
        refuse(what, "only a day-to-second interval literal's fields are computed locally")
    size, modulo = _INTERVAL_FIELDS[unit]
    total = exp.Anonymous(this="floor", expressions=[exp.Anonymous(this="fdiv", expressions=[
        exp.Anonymous(this="epoch", expressions=[value]), exp.Literal.number(size)])])
    if modulo is not None:
        total = exp.Anonymous(this="fmod", expressions=[total, exp.Literal.number(modulo)])
    return exp.Cast(this=total, to=exp.DataType.build("BIGINT"))


def char_cast(node: Any, exp: Any) -> Any:
    """CAST(x AS char(n)) blank-padded to n, where only its length or text is read; Trino
    compares char values ignoring the padding, so anything else is refused."""
    parent = node.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    readers = (exp.Length, exp.Alias, exp.Select)
    is_reverse = isinstance(parent, exp.Anonymous) and parent.name.lower() == "reverse"
    if not (isinstance(parent, readers) or is_reverse or type(parent).__name__ == "Reverse"):
        refuse("CAST AS char(n)", "char(n) compares ignoring its trailing blanks in Athena")
    width = node.to.expressions[0].this
    text = exp.Cast(this=node.this, to=exp.DataType.build("VARCHAR"))
    return exp.Anonymous(this="rpad", expressions=[text, width.copy(), exp.Literal.string(" ")])


def substr(node: Any, exp: Any) -> Any:
    args = [node.this, node.args.get("start") or exp.Literal.number(1)]
    if node.args.get("length") is not None:
        args.append(node.args["length"])
    return exp.Anonymous(this="__sp_substr", expressions=args)


def strpos(node: Any, exp: Any) -> Optional[Any]:
    if node.args.get("occurrence") is None:
        return None
    return exp.Anonymous(this="__sp_strpos", expressions=[
        node.this, node.args["substr"], node.args["occurrence"]])


def replace(node: Any, exp: Any) -> Optional[Any]:
    """replace(s, '', r) puts r before every character and at the end in Trino; DuckDB leaves s
    as it is. Done for a constant empty search string; a search string that is not a constant
    is refused, since it could be empty."""
    search = node.args.get("expression")
    if search is None or (isinstance(search, exp.Literal) and search.is_string and search.this):
        return None
    if not (isinstance(search, exp.Literal) and search.is_string):
        refuse("replace", "an empty search string inserts the replacement between every "
               "character in Athena; give a constant search string")
    text, insert = node.this, node.args.get("replacement")
    if insert is None or (isinstance(insert, exp.Literal) and insert.is_string and not insert.this):
        return text
    spread = exp.Anonymous(this="array_to_string", expressions=[exp.Anonymous(
        this="string_split", expressions=[text.copy(), exp.Literal.string("")]), insert.copy()])
    around = exp.DPipe(this=exp.DPipe(this=insert.copy(), expression=spread), expression=insert)
    empty = exp.EQ(this=text, expression=exp.Literal.string(""))
    return exp.Case(ifs=[exp.If(this=empty, true=insert.copy())], default=around)


def overlay(node: Any, exp: Any) -> Optional[Any]:
    start, length = node.args.get("from_"), node.args.get("for_")
    first = const_int(exp, start) if start is not None else None
    count = const_int(exp, length) if length is not None else 0
    if first is None or count is None:
        if is_null(exp, start) or is_null(exp, length):
            return exp.Null()
        refuse("overlay", "FROM and FOR must be constants locally")
    if first < 1:
        raise UnsupportedSQLError("INVALID_FUNCTION_ARGUMENT: overlay start must be 1 or more")
    if count < 0:
        node.set("for_", exp.Literal.number(0))
    return None


def concat(node: Any, exp: Any) -> None:
    if len(node.expressions) < 2:
        raise UnsupportedSQLError("There must be two or more concatenation arguments")

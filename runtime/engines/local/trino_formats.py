"""Trino's MySQL-style date_format/date_parse patterns for the local engine's rewrite (see
trino_functions): each specifier as DuckDB's strftime/strptime reads it, or a refusal where
DuckDB would read it differently."""

from __future__ import annotations

import re
from typing import Any, List

from ...errors import UnsupportedSQLError
from .athena_refusals import RUNTIME_REFUSAL, refuse

# Trino's date_format specifiers as DuckDB strftime ('%f' prints milliseconds and three zeros).
_MYSQL_FORMAT = {
    "a": "%a", "b": "%b", "c": "%-m", "d": "%d", "e": "%-d", "f": "%g000", "H": "%H", "h": "%I",
    "I": "%I", "i": "%M", "j": "%j", "k": "%-H", "l": "%-I", "M": "%B", "m": "%m", "p": "%p",
    "r": "%I:%M:%S %p", "S": "%S", "s": "%S", "T": "%H:%M:%S", "v": "%V", "W": "%A", "Y": "%Y",
    "y": "%y", "x": "%G", "%": "%%",
}
_MYSQL_UNSUPPORTED = "DUuVwX"  # Trino fails these too
# Parsing: the specifiers DuckDB's strptime reads as Trino does.
_MYSQL_PARSE = {
    "a": "%a", "b": "%b", "c": "%m", "d": "%d", "e": "%d", "H": "%H", "i": "%M", "j": "%j",
    "k": "%-H", "M": "%B", "m": "%m", "p": "%p", "S": "%S", "s": "%S", "T": "%H:%M:%S", "W": "%A",
    "Y": "%Y", "y": "%y", "%": "%%", "h": "%I", "I": "%I", "l": "%I", "r": "%I:%M:%S %p",
    "f": "%f",
}

def mysql_format(fmt: str, parse: bool) -> str:
    """Trino's date_format/date_parse pattern as DuckDB strftime/strptime."""
    table = _MYSQL_PARSE if parse else _MYSQL_FORMAT
    out: List[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%" or i + 1 == len(fmt):
            out.append("%%" if ch == "%" else ch)
            i += 1
            continue
        spec = fmt[i + 1]
        i += 2
        if spec in _MYSQL_UNSUPPORTED:
            raise UnsupportedSQLError(f"%{spec} not supported in date format string")
        if spec in table:
            out.append(table[spec])
        elif parse:
            refuse("date_parse", f"the specifier %{spec} is read differently locally")
        else:
            out.append("%%" if spec == "%" else spec)
    return "".join(out)


# sqlglot stores date_format/date_parse patterns in its own strftime-like form (Trino's %i
# becomes %M, %M becomes %B, %u becomes %W); each of its tokens back to Trino's specifier.
_FROM_SQLGLOT = {
    "a": "a", "b": "b", "-m": "c", "d": "d", "-d": "e", "f": "f", "H": "H", "I": "h", "M": "i",
    "j": "j", "-H": "k", "-I": "l", "B": "M", "m": "m", "p": "p", "S": "s", "v": "v", "A": "W",
    "Y": "Y", "y": "y", "G": "x", "%": "%", "W": "u",
}


def _trino_pattern(fmt: Any) -> str:
    """The pattern as the analyst wrote it (up to equivalent specifiers: %I for %h, %s for %S,
    %T and %r spelled out), token by token from sqlglot's form."""
    return re.sub(r"%(-?.)", lambda m: "%" + _FROM_SQLGLOT.get(m.group(1), m.group(1)),
                  fmt.this)


def date_format(node: Any, exp: Any, value: Any) -> Any:
    """date_format(value, pattern), `value` already read in its zone."""
    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        refuse("date_format", "the format must be a constant string locally")
    pattern = _trino_pattern(fmt)
    if pattern == "":
        return exp.Literal.string("")
    return exp.Anonymous(this="strftime", expressions=[
        value, exp.Literal.string(mysql_format(pattern, parse=False))])


def date_parse(node: Any, exp: Any) -> Any:
    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        refuse("date_parse", "the format must be a constant string locally")
    pattern = _trino_pattern(fmt)
    if pattern == "":
        raise UnsupportedSQLError("Both printing and parsing not supported")
    specs = re.findall(r"%(.)", pattern)
    if {"h", "I", "l"} & set(specs) and "p" not in specs:
        refuse("date_parse", "%h without %p reads 12 as hour 0 in Athena")
    if "y" in specs and "Y" in specs:
        refuse("date_parse", "%Y and %y together")
    if {"x", "v"} & set(specs):
        refuse("date_parse", "%x/%v (ISO week) parse differently locally")
    if not set(specs) & {"Y", "y"} and set(specs) & {"b", "c", "d", "e", "j", "M", "m"}:
        refuse("date_parse", "a day without a year: Athena reads it in 1970, DuckDB in 1900")
    parsed = exp.Anonymous(this="strptime", expressions=[
        node.this, exp.Literal.string(mysql_format(pattern, parse=True))])
    if "f" in specs:
        # Trino reads 1 to 9 digits and keeps milliseconds (timestamp(3)); strptime reads up
        # to 6 exactly. More digits are refused when the row is read (see RUNTIME_REFUSAL).
        tried = exp.Anonymous(this="try_strptime", expressions=parsed.expressions)
        fail = exp.Anonymous(this="error", expressions=[exp.Literal.string(
            RUNTIME_REFUSAL + "date_parse: %f with more than 6 digits")])
        parsed = exp.Anonymous(this="date_trunc", expressions=[
            exp.Literal.string("millisecond"),
            exp.Case(ifs=[exp.If(this=exp.Is(this=tried.copy(), expression=exp.Null()),
                                 true=exp.Cast(this=fail, to=exp.DataType.build("TIMESTAMP")))],
                     default=tried)])
    if not set(specs) & {"Y", "y"}:
        # Only a time of day: Trino's date is 1970-01-01, strptime's 1900-01-01.
        parsed = exp.Add(this=parsed, expression=exp.Interval(
            this=exp.Literal.string("70"), unit=exp.Var(this="YEAR")))
    if "y" in specs:
        # Trino's two-digit years run 1970..2069; strptime's 1969..2068.
        year = exp.Anonymous(this="year", expressions=[parsed.copy()])
        later = exp.Add(this=parsed.copy(), expression=exp.Interval(
            this=exp.Literal.string("100"), unit=exp.Var(this="YEAR")))
        is_1969 = exp.EQ(this=year, expression=exp.Literal.number(1969))
        parsed = exp.Case(ifs=[exp.If(this=is_1969, true=later)], default=parsed)
    return parsed


def from_iso8601_date(node: Any, exp: Any) -> None:
    if isinstance(node.this, exp.Literal) and not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}", str(node.this.this).strip()):
        refuse("from_iso8601_date", "week dates and ordinal dates are not read locally")


def parse_datetime(node: Any, exp: Any) -> None:
    fmt = node.args.get("format")
    if isinstance(fmt, exp.Literal) and re.search(r"[zZ]", re.sub(r"'[^']*'", "", fmt.this)):
        refuse("parse_datetime", "a pattern with a time zone field keeps the parsed zone")

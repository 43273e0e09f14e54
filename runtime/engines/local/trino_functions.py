"""Trino semantics for the local engine's SQL rewrite: each function here turns one node of the
parsed Athena statement (sqlglot, children already rewritten) into DuckDB that gives Trino's
answer, or returns None to leave the node to the engine's other rewrites and sqlglot.

What the ported Trino tests (tests/conformance) showed DuckDB answers differently, fixed here:
- `timestamp with time zone` keeps its zone in Trino: a literal's offset, `AT TIME ZONE`,
  `with_timezone`, `at_timezone`, `from_unixtime(x, zone)` and `from_iso8601_timestamp` of a
  literal. DuckDB keeps only the instant, so the zone is tracked here, statically, on the node
  (`node.meta`), and applied where Trino reads the wall clock (hour(), date_format, CAST, ...);
  the zone of a result column is applied to its values after the query (trino_zones).
- arithmetic on a `date` stays a date; `DECIMAL 'x'` literals keep all their digits;
  `round(x, n)` with a negative or typed `n`; MySQL `date_format`/`date_parse` specifiers.
duckdb and sqlglot are imported by the caller: this module only receives their objects.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, Optional

from ...errors import UnsupportedSQLError
from . import trino_floats
from .athena_refusals import refuse
from .trino_formats import date_format, date_parse, from_iso8601_date, parse_datetime
from .trino_scalars import (
    char_cast,
    concat,
    const_int,
    decimal_literal,
    interval_field,
    numeric,
    overlay,
    replace,
    sql_string,
    strings,
    strpos,
    substr,
)
from .trino_zones import (
    ISO_TEXT,
    OFFSET_RE,
    PER_ROW,
    UTC,
    instant_of,
    normalize_zone,
    wall_clock,
    with_zone,
    zone_of,
)

_TZ_LITERAL = re.compile(
    r"^(?P<ts>\d{4}-\d{1,2}-\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,12})?)?)?)\s*(?P<zone>\S+)$"
)
# Wall-clock readers: Trino reads these fields in the value's own zone.
_WALL_CLOCK_NODES = (
    "Hour", "Minute", "Second", "Day", "DayOfMonth", "DayOfWeekIso", "DayOfWeek", "DayOfYear",
    "WeekOfYear", "Week", "Month", "Quarter", "Year", "YearOfWeek", "LastDay", "TimeToStr",
    "Extract", "TsOrDsToDate", "Date",
)
# Trino's extract() fields under DuckDB's names.
_EXTRACT_UNITS = {"DAY_OF_WEEK": "ISODOW", "DOW": "ISODOW", "DAY_OF_MONTH": "DAY",
                  "DAY_OF_YEAR": "DOY", "DOY": "DOY", "YEAR_OF_WEEK": "ISOYEAR", "YOW": "ISOYEAR"}
_WALL_CLOCK_FUNCTIONS = {"millisecond", "day_of_week", "dow", "day_of_year", "doy", "yow",
                         "year_of_week", "week_of_year", "day_of_month", "to_iso8601"}


def rewrite(node: Any, exp: Any) -> Optional[Any]:
    """Trino's answer for `node` as DuckDB, or None when the engine's defaults already give it.
    Every node of every statement passes here, so the handler is found by the node's class,
    once per class, instead of a chain of isinstance tests."""
    kind = type(node)
    handler = _HANDLERS.get(kind, _MISSING)
    if handler is _MISSING:
        handler = _HANDLERS[kind] = _handler_for(kind, exp)
    return handler(node, exp) if handler is not None else None


_MISSING = object()
_HANDLERS: Dict[type, Any] = {}


def _handler_for(kind: type, exp: Any) -> Optional[Callable[[Any, Any], Any]]:
    table = (
        (exp.Cast, _cast), (exp.Select, _select), (exp.AtTimeZone, _at_time_zone),
        (exp.UnixToTime, _from_unixtime), (exp.FromISO8601Timestamp, _from_iso8601),
        (exp.Anonymous, _anonymous), (exp.Ceil, numeric), (exp.Floor, numeric),
        (exp.Div, numeric), (exp.Trunc, numeric), (exp.Neg, numeric), (exp.Substring, substr),
        (exp.StrPosition, strpos), (exp.Replace, replace), (exp.Concat, _concat),
        (exp.DPipe, _concat), (exp.Format, _format),
        (exp.ParseDatetime, parse_datetime), (exp.DateAdd, _date_add), (exp.DateSub, _date_add),
        (exp.TimestampAdd, _date_add), (exp.Add, _plus_interval), (exp.Sub, _plus_interval),
        (exp.TimestampTrunc, _date_trunc), (exp.DateTrunc, _date_trunc),
        (exp.TimeToStr, _date_format), (exp.StrToTime, date_parse),
        (exp.CurrentTimezone, _current_timezone), (exp.Extract, _extract),
    )
    for base, handler in table:
        if issubclass(kind, base):
            return handler
    if kind.__name__ == "Overlay":
        return overlay
    if kind.__name__ == "FromISO8601Date":
        return from_iso8601_date
    if kind.__name__ in _WALL_CLOCK_NODES:
        return _wall_node
    return None


def _concat(node: Any, exp: Any) -> None:
    if isinstance(node, exp.Concat):
        concat(node, exp)
    trino_floats.wrap_concat(node, exp)


def _format(node: Any, exp: Any) -> Any:
    return trino_floats.format_strings(node, exp)


def _select(node: Any, exp: Any) -> None:
    _check_projection(node, exp)


def _at_time_zone(node: Any, exp: Any) -> Any:
    zone = node.args["zone"]
    if not (isinstance(zone, exp.Literal) and zone.is_string):
        refuse("AT TIME ZONE", "the zone must be a constant string locally")
    return with_zone(_as_instant(exp, node.this), normalize_zone(zone.this, "AT TIME ZONE"))


def _anonymous(node: Any, exp: Any) -> Optional[Any]:
    name = node.name.lower()
    return strings(node, exp, name) or _function(node, exp, name)


def _date_format(node: Any, exp: Any) -> Any:
    return date_format(node, exp, _wall_arg(exp, node.this))


def _current_timezone(node: Any, exp: Any) -> Any:
    return exp.Literal.string(UTC)


def _wall_node(node: Any, exp: Any) -> Any:
    return _read_wall_clock(node, exp, "this")


def _as_instant(exp: Any, value: Any) -> Any:
    if zone_of(value) is not None:
        return value
    return exp.Cast(this=value, to=exp.DataType.build("TIMESTAMPTZ"))


def _cast(node: Any, exp: Any) -> Optional[Any]:
    to = node.to
    inner = node.this
    if isinstance(inner, exp.Literal) and inner.is_string:
        if to.is_type(exp.DataType.Type.DATE) and inner.this.strip().startswith("+"):
            # Trino reads a signed year ('+2013-02-02'); DuckDB does not.
            text = inner.this.strip()[1:]
            if text[:1].isspace():
                raise UnsupportedSQLError(f"'{inner.this}' is not a valid date literal")
            return exp.Cast(this=exp.Literal.string(text), to=to.copy())
        if to.is_type(exp.DataType.Type.TIMESTAMP):
            digits = _fraction_digits(inner.this)
            if digits > 6:
                refuse("TIMESTAMP literal", "more than 6 fractional digits: DuckDB keeps "
                       "microseconds, Athena up to picoseconds")
            node.meta["sp_precision"] = digits
            return None
        if to.is_type(exp.DataType.Type.DECIMAL) and not to.expressions:
            return decimal_literal(exp, node)
        if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
            m = _TZ_LITERAL.match(inner.this.strip())
            if not m:
                return with_zone(node, UTC)
            zone = normalize_zone(m.group("zone"), f"TIMESTAMP {sql_string(inner.this)}")
            wall = exp.Cast(this=exp.Literal.string(m.group("ts")),
                            to=exp.DataType.build("TIMESTAMP"))
            return with_zone(instant_of(exp, wall, zone), zone)
    if to.is_type(exp.DataType.Type.CHAR) and to.expressions:
        return char_cast(node, exp)
    zone = zone_of(inner)
    precision = inner.meta.get("sp_precision") if inner._meta else None
    if precision is not None and to.is_type(exp.DataType.Type.VARCHAR) and not to.expressions:
        # A timestamp literal's type has as many fractional digits as the literal shows, and
        # Trino prints that many (the engine's default for a column is timestamp(3)).
        shown = exp.Anonymous(this="strftime", expressions=[
            inner.copy(), exp.Literal.string("%Y-%m-%d %H:%M:%S")])
        if precision:
            fraction = exp.Anonymous(this="left", expressions=[exp.Anonymous(
                this="strftime", expressions=[inner, exp.Literal.string("%f")]),
                exp.Literal.number(precision)])
            shown = exp.DPipe(this=exp.DPipe(this=shown, expression=exp.Literal.string(".")),
                              expression=fraction)
        return shown
    if zone is None and to.is_type(exp.DataType.Type.VARCHAR) and to.expressions:
        width = to.expressions[0].this
        return exp.Anonymous(this="__sp_varchar_n", expressions=[inner, width.copy()])
    if zone is None:
        if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
            return with_zone(node, UTC)
        return None
    if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
        return with_zone(inner, zone)
    if to.is_type(exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATE, exp.DataType.Type.TIME):
        return exp.Cast(this=_wall_arg(exp, inner), to=to)
    if zone == PER_ROW:
        refuse("CAST(from_iso8601_timestamp(column) AS varchar)", "Athena shows each row's offset")
    if to.is_type(exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
        shown = exp.Anonymous(this="strftime", expressions=[
            wall_clock(exp, inner, zone), exp.Literal.string("%Y-%m-%d %H:%M:%S.%g " + zone)])
        return shown
    return None


def _fraction_digits(text: str) -> int:
    clock = text.strip().partition(" ")[2]
    return len(clock.partition(".")[2]) if "." in clock else 0


def _from_unixtime(node: Any, exp: Any) -> Any:
    seconds = node.this
    base = exp.Anonymous(this="to_timestamp", expressions=[
        exp.Cast(this=seconds, to=exp.DataType.build("DOUBLE"))])
    zone_arg = node.args.get("zone")
    hours, minutes = node.args.get("hours"), node.args.get("minutes")
    if zone_arg is not None:
        if not (isinstance(zone_arg, exp.Literal) and zone_arg.is_string):
            refuse("from_unixtime", "the zone must be a constant string locally")
        return with_zone(base, normalize_zone(zone_arg.this, "from_unixtime"))
    if hours is not None:
        h, m = const_int(exp, hours), const_int(exp, minutes) if minutes is not None else 0
        if h is None or m is None:
            refuse("from_unixtime", "the hours and minutes of the offset must be constants locally")
        total = h * 60 + m
        if not -14 * 60 <= total <= 14 * 60 or abs(m) > 59:
            raise UnsupportedSQLError(
                f"INVALID_FUNCTION_ARGUMENT: from_unixtime offset {h} hours {m} minutes is not a "
                "valid time zone offset")
        sign = "-" if total < 0 else "+"
        return with_zone(base, f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}")
    return with_zone(base, UTC)


def _from_iso8601(node: Any, exp: Any) -> Any:
    text = node.this
    if isinstance(text, exp.Literal) and text.is_string:
        m = re.match(r"^(.*T.*?)(Z|[+-]\d{2}(?::?\d{2})?)$", text.this.strip())
        zone = normalize_zone(m.group(2), "from_iso8601_timestamp") if m else UTC
        cast = exp.Cast(this=text, to=exp.DataType.build("TIMESTAMPTZ"))
        return with_zone(cast, zone)
    # A column: each value keeps its own offset in Trino. DuckDB keeps the instant; the wall
    # clock in the row's own offset is read from the text itself when asked for.
    cast = exp.Cast(this=text, to=exp.DataType.build("TIMESTAMPTZ"))
    cast.meta[ISO_TEXT] = text
    return with_zone(cast, PER_ROW)


def _function(node: Any, exp: Any, name: str) -> Optional[Any]:
    args = node.expressions
    if name == "from_iso8601_date" and args and isinstance(args[0], exp.Literal):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args[0].this.strip()):
            refuse("from_iso8601_date", "week dates and ordinal dates are not read locally")
    if name in ("with_timezone", "at_timezone"):
        if len(args) != 2 or not (isinstance(args[1], exp.Literal) and args[1].is_string):
            refuse(name, "the zone must be a constant string locally")
        zone = normalize_zone(args[1].this, name)
        if name == "at_timezone":
            return with_zone(_as_instant(exp, args[0]), zone)
        wall = exp.Cast(this=args[0], to=exp.DataType.build("TIMESTAMP"))
        return with_zone(instant_of(exp, wall, zone), zone)
    if name in ("timezone_hour", "timezone_minute") and args:
        zone = zone_of(args[0])
        if zone == PER_ROW:
            refuse(name, "the zone of each value is not kept locally")
        if zone in (None, UTC, "+00:00"):
            return exp.Cast(this=exp.Literal.number(0), to=exp.DataType.build("BIGINT"))
        seconds = exp.Sub(
            this=exp.Anonymous(this="epoch", expressions=[wall_clock(exp, args[0], zone)]),
            expression=exp.Anonymous(this="epoch", expressions=[
                exp.Anonymous(this="__sp_utc", expressions=[args[0]])]))
        minutes = exp.Anonymous(this="trunc", expressions=[exp.Anonymous(
            this="__sp_fdiv", expressions=[seconds, exp.Literal.number(60)])])
        hours = exp.Anonymous(this="trunc", expressions=[exp.Anonymous(
            this="__sp_fdiv", expressions=[minutes, exp.Literal.number(60)])])
        if name == "timezone_minute":
            hours = exp.Sub(this=minutes, expression=exp.Mul(
                this=hours, expression=exp.Literal.number(60)))
        return exp.Cast(this=hours, to=exp.DataType.build("BIGINT"))
    if name in ("yow", "year_of_week") and len(args) == 1:
        return _read_wall_clock(exp.YearOfWeek(this=args[0]), exp, "this")
    if name == "millisecond" and len(args) == 1 and isinstance(args[0], exp.Interval):
        return interval_field(exp, args[0], "MILLISECOND", "millisecond(interval)")
    if name == "millisecond" and len(args) == 1:
        value = _wall_arg(exp, args[0])
        return exp.Cast(this=exp.Mod(this=exp.Anonymous(this="millisecond", expressions=[value]),
                                     expression=exp.Literal.number(1000)),
                        to=exp.DataType.build("BIGINT"))
    if name == "format_datetime" and args and zone_of(args[0]) is not None:
        node.set("expressions", [_wall_arg(exp, args[0])] + list(args[1:]))
        return None
    if name in _WALL_CLOCK_FUNCTIONS and len(args) == 1 and zone_of(args[0]) not in (None, UTC):
        if name == "to_iso8601":
            zone = zone_of(args[0])
            if zone == PER_ROW:
                refuse("to_iso8601(from_iso8601_timestamp(column))",
                       "Athena prints each row's own offset")
            suffix = "Z" if zone in (UTC, "+00:00") else (zone if OFFSET_RE.match(zone) else None)
            if suffix is None:
                refuse("to_iso8601", f"prints the offset of zone {zone}, not known locally")
            shown = exp.Literal.string("%Y-%m-%dT%H:%M:%S.%g" + suffix)
            return exp.Anonymous(this="strftime", expressions=[
                wall_clock(exp, args[0], zone), shown])
        node.set("expressions", [_wall_arg(exp, args[0])])
    return None


def _wall_arg(exp: Any, value: Any) -> Any:
    zone = zone_of(value)
    if zone is None:
        return value
    if zone == PER_ROW and not value.meta.get(ISO_TEXT):
        refuse("a field of from_iso8601_timestamp(column)",
               "Athena reads it in each value's own offset, which is not kept locally")
    return wall_clock(exp, value, zone)


def _read_wall_clock(node: Any, exp: Any, key: str) -> Optional[Any]:
    value = node.args.get(key)
    if isinstance(value, exp.Interval) and type(node).__name__ in ("Hour", "Minute", "Second",
                                                                    "Day"):
        name = type(node).__name__
        return interval_field(exp, value, name.upper(), f"{name.lower()}(interval)")
    if value is not None and zone_of(value) is not None:
        node.set(key, _wall_arg(exp, value))
    return node


def _extract(node: Any, exp: Any) -> Optional[Any]:
    unit = node.this.name.upper()
    value = node.expression
    if isinstance(value, exp.Interval):
        return interval_field(exp, value, unit, f"extract({unit.lower()} FROM interval)")
    if unit in _EXTRACT_UNITS:
        node.set("this", exp.Var(this=_EXTRACT_UNITS[unit]))
    if unit in ("TIMEZONE_HOUR", "TIMEZONE_MINUTE"):
        return _function(exp.Anonymous(this=unit.lower(), expressions=[value]), exp, unit.lower())
    if zone_of(value) is not None:
        node.set("expression", _wall_arg(exp, value))
    return None


def _is_date(exp: Any, node: Any) -> bool:
    """Statically a `date`: a DATE literal or cast, date(), current_date, a date function."""
    if node.meta.get("sp_date") if node._meta else False:
        return True
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.DATE)
    return isinstance(node, (exp.CurrentDate, exp.LastDay, exp.StrToDate, exp.TsOrDsToDate,
                             exp.Date))


def _date_add(node: Any, exp: Any) -> Optional[Any]:
    value = node.this
    zone = zone_of(value)
    unit = (node.args.get("unit").name if node.args.get("unit") is not None else "DAY").upper()
    if _is_date(exp, value):
        if unit not in ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"):
            raise UnsupportedSQLError(f"date_add('{unit.lower()}') is not valid for a date")
        moved = exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
        moved.meta["sp_date"] = True
        return moved
    if zone is not None and zone not in (UTC, "+00:00"):
        if zone == PER_ROW:
            refuse("date_add", "of from_iso8601_timestamp(column): the zone is not kept locally")
        node.set("this", wall_clock(exp, value, zone))
        return with_zone(instant_of(exp, node.copy(), zone), zone)
    if zone:
        return with_zone(node, zone)
    return _keep_date(exp, value, node, unit in ("HOUR", "MINUTE", "SECOND", "MILLISECOND"))


def _keep_date(exp: Any, value: Any, result: Any, hourly: bool) -> Any:
    """`result` (date arithmetic on `value`) as a date when `value` is a date column: Trino keeps
    the type, DuckDB gives a timestamp. The type is only known when DuckDB binds, so a macro
    overloaded on it decides (and refuses hours added to a date, as Trino does)."""
    if isinstance(value, exp.Cast) and value.to.is_type(exp.DataType.Type.TIMESTAMP):
        return result
    # A node still in the tree is copied: the caller replaces it with the wrapper.
    inner = result.copy() if result.parent is not None else result
    return exp.Anonymous(this="__sp_keep_date", expressions=[
        value.copy(), inner, exp.Boolean(this=hourly)])


def _plus_interval(node: Any, exp: Any) -> Optional[Any]:
    left, right = node.this, node.expression
    if isinstance(node, exp.Add) and isinstance(left, exp.Interval) and not isinstance(
            right, exp.Interval):
        node = exp.Add(this=right, expression=left)  # Trino adds either way round
        left, right = right, left
    if not isinstance(right, exp.Interval):
        return None
    if _is_date(exp, left):
        unit = right.unit.name.upper() if right.unit is not None else ""
        if unit in ("HOUR", "MINUTE", "SECOND"):
            raise UnsupportedSQLError("a date plus an interval of hours is not valid in Athena")
        moved = exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
        moved.meta["sp_date"] = True
        return moved
    zone = zone_of(left)
    if zone is None:
        unit = right.unit.name.upper() if right.unit is not None else ""
        return _keep_date(exp, left, node, unit in ("HOUR", "MINUTE", "SECOND", "MILLISECOND"))
    if zone in (UTC, "+00:00"):
        return with_zone(node, zone)
    if zone == PER_ROW:
        refuse("timestamp with time zone + interval", "the zone of each value is not kept locally")
    node.set("this", wall_clock(exp, left, zone))
    return with_zone(instant_of(exp, node.copy(), zone), zone)


def _date_trunc(node: Any, exp: Any) -> Optional[Any]:
    value = node.this
    if _is_date(exp, value):
        out = exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
        out.meta["sp_date"] = True
        return out
    zone = zone_of(value)
    if zone is None:
        unit = node.args.get("unit")
        return _keep_date(exp, value, node, (unit.name.upper() if unit is not None else "") in (
            "HOUR", "MINUTE", "SECOND", "MILLISECOND"))
    if zone == PER_ROW:
        refuse("date_trunc", "of from_iso8601_timestamp(column): the zone is not kept locally")
    node.set("this", wall_clock(exp, value, zone))
    return with_zone(instant_of(exp, node.copy(), zone), zone)


def _check_projection(select: Any, exp: Any) -> None:
    """Refuse a zoned value that leaves a subquery (the zone is known here only within one
    expression; outside, Athena would read its wall clock in that zone and this engine in UTC),
    and a from_iso8601_timestamp(column) value as a result (Athena shows each row's offset)."""
    outer = select.parent
    while isinstance(outer, exp.SetOperation):
        outer = outer.parent
    for item in select.expressions:
        zone = zone_of(item.this if isinstance(item, exp.Alias) else item)
        if zone == PER_ROW:
            refuse("from_iso8601_timestamp(column)", "Athena keeps each value's own offset; "
                   "convert it with AT TIME ZONE 'UTC' (or CAST AS timestamp) in the query")
        if outer is not None and zone not in (None, UTC, "+00:00"):
            refuse(f"a timestamp with time zone {zone} leaving a subquery",
                   "the zone is not kept in a column locally; format or CAST it to timestamp "
                   "inside the subquery")



"""Trino semantics for the local engine's SQL rewrite: each function here turns one node of the
parsed Athena statement (sqlglot, children already rewritten) into DuckDB that gives Trino's
answer, or returns None to leave the node to the engine's other rewrites and sqlglot.

What the ported Trino tests (tests/conformance) showed DuckDB answers differently, fixed here:
- `timestamp with time zone` keeps its zone in Trino: a literal's offset, `AT TIME ZONE`,
  `with_timezone`, `at_timezone`, `from_unixtime(x, zone)` and `from_iso8601_timestamp` of a
  literal. DuckDB keeps only the instant, so the zone is tracked here, statically, on the node
  (`node.meta`), and applied where Trino reads the wall clock (hour(), date_format, CAST, ...);
  the zone of a result column is applied to its values after the query (`result_zones`).
- arithmetic on a `date` stays a date; `DECIMAL 'x'` literals keep all their digits;
  `round(x, n)` with a negative or typed `n`; MySQL `date_format`/`date_parse` specifiers.
duckdb and sqlglot are imported by the caller: this module only receives their objects.
"""

from __future__ import annotations

import re
from typing import Any, List, Optional, Sequence

from ..errors import UnsupportedSQLError
from .athena_refusals import refuse
from .trino_formats import date_format, date_parse
from .trino_scalars import MACROS as MACROS  # stored by the engine with its own macros
from .trino_scalars import (
    _char,
    _const_int,
    _decimal_literal,
    _is_null,
    interval_field,
    numeric,
    strings,
)
from .trino_scalars import round_decimals as round_decimals  # called by the engine for round()

ZONE = "sp_zone"  # node.meta key: the Trino zone of a timestamp-with-time-zone value
UTC = "UTC"
_OFFSET = re.compile(r"^([+-])(\d{1,2})(?::?(\d{2}))?$")
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


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def zone_of(node: Any) -> Optional[str]:
    """The Trino zone of a `timestamp with time zone` expression, when known here."""
    return node.meta.get(ZONE) if node is not None and node._meta else None


def _zoned(node: Any, zone: Optional[str]) -> Any:
    if zone is not None:
        node.meta[ZONE] = zone
    return node


def normalize_zone(raw: str, where: str) -> str:
    """Trino's spelling of a zone: 'UTC', '+07:09', or an IANA name."""
    text = raw.strip()
    if text.upper() in ("UTC", "Z", "GMT", "UT", "+00:00", "-00:00"):
        return UTC if text.upper() != "+00:00" else "+00:00"
    m = _OFFSET.match(text)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise UnsupportedSQLError(f"'{raw}' is not a valid time zone ({where})")
        return f"{m.group(1)}{hours:02d}:{minutes:02d}"
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(text)
    except Exception:  # zoneinfo raises several kinds for a bad key
        raise UnsupportedSQLError(f"'{raw}' is not a valid time zone ({where})") from None
    return text


def _offset_minutes(zone: str) -> Optional[int]:
    m = _OFFSET.match(zone)
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    return sign * (int(m.group(2)) * 60 + int(m.group(3) or 0))


def wall_clock(exp: Any, value: Any, zone: Optional[str]) -> Any:
    """The plain timestamp Trino shows for the instant `value` in `zone`."""
    utc = exp.Anonymous(this="__sp_utc", expressions=[value])
    if zone in (None, UTC, "+00:00"):
        return utc
    minutes = _offset_minutes(zone)
    if minutes is not None:
        return exp.Add(this=utc, expression=exp.Interval(
            this=exp.Literal.string(str(minutes)), unit=exp.Var(this="MINUTE")))
    return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(zone), value])


def instant_of(exp: Any, wall: Any, zone: Optional[str]) -> Any:
    """The instant whose wall clock in `zone` is the plain timestamp `wall`."""
    if zone in (None, UTC, "+00:00"):
        return exp.Cast(this=wall, to=exp.DataType.build("TIMESTAMPTZ"))
    minutes = _offset_minutes(zone)
    if minutes is not None:
        shifted = exp.Sub(this=wall, expression=exp.Interval(
            this=exp.Literal.string(str(minutes)), unit=exp.Var(this="MINUTE")))
        return exp.Cast(this=shifted, to=exp.DataType.build("TIMESTAMPTZ"))
    return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(zone), wall])


def rewrite(node: Any, exp: Any) -> Optional[Any]:
    """Trino's answer for `node` as DuckDB, or None when the engine's defaults already give it."""
    if isinstance(node, exp.Cast):
        return _cast(node, exp)
    if isinstance(node, exp.Select):
        _check_projection(node, exp)
        return None
    if isinstance(node, exp.AtTimeZone):
        zone = node.args["zone"]
        if not (isinstance(zone, exp.Literal) and zone.is_string):
            refuse("AT TIME ZONE", "the zone must be a constant string locally")
        return _zoned(_as_instant(exp, node.this), normalize_zone(zone.this, "AT TIME ZONE"))
    if isinstance(node, exp.UnixToTime):
        return _from_unixtime(node, exp)
    if isinstance(node, exp.FromISO8601Timestamp):
        return _from_iso8601(node, exp)
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        return strings(node, exp, name) or _function(node, exp, name)
    if isinstance(node, (exp.Ceil, exp.Floor, exp.Div, exp.Trunc, exp.Neg)):
        return numeric(node, exp)
    if isinstance(node, exp.Substring):
        args = [node.this, node.args.get("start") or exp.Literal.number(1)]
        if node.args.get("length") is not None:
            args.append(node.args["length"])
        return exp.Anonymous(this="__sp_substr", expressions=args)
    if isinstance(node, exp.StrPosition) and node.args.get("occurrence") is not None:
        return exp.Anonymous(this="__sp_strpos", expressions=[
            node.this, node.args["substr"], node.args["occurrence"]])
    if isinstance(node, exp.Replace) and node.args.get("expression") is not None:
        search = node.args["expression"]
        if not (isinstance(search, exp.Literal) and search.is_string and search.this):
            refuse("replace", "an empty search string inserts the replacement between every "
                   "character in Athena; give a constant, non-empty search string")
        return None
    if type(node).__name__ == "Overlay":
        start, length = node.args.get("from"), node.args.get("for")
        first = _const_int(exp, start) if start is not None else None
        count = _const_int(exp, length) if length is not None else 0
        if first is None or count is None:
            if _is_null(exp, start) or _is_null(exp, length):
                return exp.Null()
            refuse("overlay", "FROM and FOR must be constants locally")
        if first < 1:
            raise UnsupportedSQLError("INVALID_FUNCTION_ARGUMENT: overlay start must be 1 or more")
        if count < 0:
            node.set("for", exp.Literal.number(0))
        return None
    if type(node).__name__ == "FromISO8601Date" and isinstance(node.this, exp.Literal):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(node.this.this).strip()):
            refuse("from_iso8601_date", "week dates and ordinal dates are not read locally")
        return None
    if isinstance(node, exp.Concat) and len(node.expressions) < 2:
        raise UnsupportedSQLError("There must be two or more concatenation arguments")
    if isinstance(node, exp.ParseDatetime):
        fmt = node.args.get("format")
        if isinstance(fmt, exp.Literal) and re.search(r"[zZ]", re.sub(r"'[^']*'", "", fmt.this)):
            refuse("parse_datetime", "a pattern with a time zone field keeps the parsed zone")
        return None
    if isinstance(node, (exp.DateAdd, exp.DateSub, exp.TimestampAdd)):
        return _date_add(node, exp)
    if isinstance(node, (exp.Add, exp.Sub)):
        return _plus_interval(node, exp)
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)):
        return _date_trunc(node, exp)
    if isinstance(node, exp.TimeToStr):
        return date_format(node, exp, _wall_arg(exp, node.this))
    if isinstance(node, exp.StrToTime):
        return date_parse(node, exp)
    if isinstance(node, exp.CurrentTimezone):
        return exp.Literal.string(UTC)
    if isinstance(node, exp.Extract):
        return _extract(node, exp)
    if type(node).__name__ in _WALL_CLOCK_NODES:
        return _read_wall_clock(node, exp, "this")
    return None


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
        if to.is_type(exp.DataType.Type.DECIMAL) and not to.expressions:
            return _decimal_literal(exp, node)
        if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
            m = _TZ_LITERAL.match(inner.this.strip())
            if not m:
                return _zoned(node, UTC)
            zone = normalize_zone(m.group("zone"), f"TIMESTAMP {_lit(inner.this)}")
            wall = exp.Cast(this=exp.Literal.string(m.group("ts")),
                            to=exp.DataType.build("TIMESTAMP"))
            return _zoned(instant_of(exp, wall, zone), zone)
    if to.is_type(exp.DataType.Type.CHAR) and to.expressions:
        return _char(node, exp)
    zone = zone_of(inner)
    if zone is None and to.is_type(exp.DataType.Type.VARCHAR) and to.expressions:
        width = to.expressions[0].this
        return exp.Anonymous(this="__sp_varchar_n", expressions=[inner, width.copy()])
    if zone is None:
        if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
            return _zoned(node, UTC)
        return None
    if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
        return _zoned(inner, zone)
    if to.is_type(exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATE, exp.DataType.Type.TIME):
        return exp.Cast(this=wall_clock(exp, inner, zone), to=to)
    if to.is_type(exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
        shown = exp.Anonymous(this="strftime", expressions=[
            wall_clock(exp, inner, zone), exp.Literal.string("%Y-%m-%d %H:%M:%S.%g " + zone)])
        return shown
    return None


def _from_unixtime(node: Any, exp: Any) -> Any:
    seconds = node.this
    base = exp.Anonymous(this="to_timestamp", expressions=[
        exp.Cast(this=seconds, to=exp.DataType.build("DOUBLE"))])
    zone_arg = node.args.get("zone")
    hours, minutes = node.args.get("hours"), node.args.get("minutes")
    if zone_arg is not None:
        if not (isinstance(zone_arg, exp.Literal) and zone_arg.is_string):
            refuse("from_unixtime", "the zone must be a constant string locally")
        return _zoned(base, normalize_zone(zone_arg.this, "from_unixtime"))
    if hours is not None:
        h, m = _const_int(exp, hours), _const_int(exp, minutes) if minutes is not None else 0
        if h is None or m is None:
            refuse("from_unixtime", "the hours and minutes of the offset must be constants locally")
        total = h * 60 + m
        if not -14 * 60 <= total <= 14 * 60 or abs(m) > 59:
            raise UnsupportedSQLError(
                f"INVALID_FUNCTION_ARGUMENT: from_unixtime offset {h} hours {m} minutes is not a "
                "valid time zone offset")
        sign = "-" if total < 0 else "+"
        return _zoned(base, f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}")
    return _zoned(base, UTC)


def _from_iso8601(node: Any, exp: Any) -> Any:
    text = node.this
    if isinstance(text, exp.Literal) and text.is_string:
        m = re.match(r"^(.*T.*?)(Z|[+-]\d{2}(?::?\d{2})?)$", text.this.strip())
        zone = normalize_zone(m.group(2), "from_iso8601_timestamp") if m else UTC
        cast = exp.Cast(this=text, to=exp.DataType.build("TIMESTAMPTZ"))
        return _zoned(cast, zone)
    # A column: each value keeps its own offset in Trino; only the instant is kept here, which
    # is all the pipeline reads (it converts to UTC at once).
    return _zoned(exp.Cast(this=text, to=exp.DataType.build("TIMESTAMPTZ")), "?")


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
            return _zoned(_as_instant(exp, args[0]), zone)
        wall = exp.Cast(this=args[0], to=exp.DataType.build("TIMESTAMP"))
        return _zoned(instant_of(exp, wall, zone), zone)
    if name in ("timezone_hour", "timezone_minute") and args:
        zone = zone_of(args[0])
        if zone == "?":
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
            refuse("to_iso8601", f"of a timestamp in zone {zone}") if zone == "?" else None
            suffix = "Z" if zone in (UTC, "+00:00") else (zone if _OFFSET.match(zone) else None)
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
    if zone == "?":
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
        if zone == "?":
            refuse("date_add", "of from_iso8601_timestamp(column): the zone is not kept locally")
        node.set("this", wall_clock(exp, value, zone))
        return _zoned(instant_of(exp, node.copy(), zone), zone)
    if zone:
        return _zoned(node, zone)
    return _keep_date(exp, value, node, unit in ("HOUR", "MINUTE", "SECOND", "MILLISECOND"))


def _keep_date(exp: Any, value: Any, result: Any, hourly: bool) -> Any:
    """`result` (date arithmetic on `value`) as a date when `value` is a date column: Trino keeps
    the type, DuckDB gives a timestamp. The type is only known when DuckDB binds, so a macro
    overloaded on it decides (and refuses hours added to a date, as Trino does)."""
    if isinstance(value, exp.Cast) and value.to.is_type(exp.DataType.Type.TIMESTAMP):
        return result if result is not None else None
    return exp.Anonymous(this="__sp_keep_date", expressions=[
        value.copy(), result.copy() if result.parent is not None else result,
        exp.Boolean(this=hourly)])


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
        return _zoned(node, zone)
    if zone == "?":
        refuse("timestamp with time zone + interval", "the zone of each value is not kept locally")
    node.set("this", wall_clock(exp, left, zone))
    return _zoned(instant_of(exp, node.copy(), zone), zone)


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
    if zone == "?":
        refuse("date_trunc", "of from_iso8601_timestamp(column): the zone is not kept locally")
    node.set("this", wall_clock(exp, value, zone))
    return _zoned(instant_of(exp, node.copy(), zone), zone)


def _check_projection(select: Any, exp: Any) -> None:
    """Refuse a zoned value that leaves a subquery (the zone is known here only within one
    expression; outside, Athena would read its wall clock in that zone and this engine in UTC),
    and a from_iso8601_timestamp(column) value as a result (Athena shows each row's offset)."""
    outer = select.parent
    while isinstance(outer, exp.SetOperation):
        outer = outer.parent
    for item in select.expressions:
        zone = zone_of(item.this if isinstance(item, exp.Alias) else item)
        if zone == "?":
            refuse("from_iso8601_timestamp(column)", "Athena keeps each value's own offset; "
                   "convert it with AT TIME ZONE 'UTC' (or CAST AS timestamp) in the query")
        if outer is not None and zone not in (None, UTC, "+00:00"):
            refuse(f"a timestamp with time zone {zone} leaving a subquery",
                   "the zone is not kept in a column locally; format or CAST it to timestamp "
                   "inside the subquery")


def result_zones(exp: Any, tree: Any) -> List[Optional[str]]:
    """The zone of each output column of the outermost SELECT of a rewritten tree, for the
    `timestamp with time zone` columns whose zone is known; [] when none is outside UTC."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return []
    zones = [zone_of(i.this if isinstance(i, exp.Alias) else i) for i in select.expressions]
    return zones if any(z not in (None, UTC, "?") for z in zones) else []


def apply_zones(rows: Sequence[tuple], zones: Sequence[Optional[str]]) -> List[tuple]:
    """Show each zoned column's instants in its zone, as Athena returns them."""
    if not zones:
        return list(rows)
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    tzs: List[Any] = []
    for zone in zones:
        minutes = _offset_minutes(zone) if zone not in (None, "?") else None
        if zone in (None, "?", UTC):
            tzs.append(None)
        elif minutes is not None:
            tzs.append(_FixedZone(timedelta(minutes=minutes), zone, timezone))
        else:
            tzs.append(ZoneInfo(zone))
    out = []
    for row in rows:
        out.append(tuple(
            v.astimezone(tz) if tz is not None and getattr(v, "tzinfo", None) else v
            for v, tz in zip(row, tzs)
        ))
    return out


def _FixedZone(delta: Any, name: str, timezone: Any) -> Any:
    return timezone(delta, name)



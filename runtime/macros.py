"""Grafana Athena macro and template-variable expansion, producing the very text the plugin does.

Grafana interpolates template variables (`$ticker`, `${ticker}`) in the browser, then the Athena
plugin's backend expands `$__` macros (grafana/athena-datasource `pkg/athena/macros.go`, on top
of grafana-plugin-sdk-go `data/sqlutil/macros.go`). Doing both here, in the same order and with
the same output format, lets the local report and the notebooks run the dashboard's SQL verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from .errors import ConfigError, IdentifierError, validate_ticker
from .go_layout import go_format, java_to_go_layout

# The plugin's literal format and its Go layout (2006-01-02 15:04:05).
_TIMESTAMP_FORMAT = "'yyyy-MM-dd HH:mm:ss'"
_PY_TIMESTAMP = "%Y-%m-%d %H:%M:%S"

_INTERVAL = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w|y)\s*$")
_INTERVAL_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800,
                     "y": 31536000}

# $name, ${name}, ${name:format} and the deprecated [[name]] (Grafana's variable syntax).
_VARIABLE = re.compile(
    r"\$\{(?P<braced>[A-Za-z_]\w*)(?::(?P<fmt>\w+))?\}"
    r"|\[\[(?P<bracketed>[A-Za-z_]\w*)\]\]"
    r"|\$(?P<plain>(?!__)[A-Za-z_]\w*)"
)
# A value placed into SQL text by a non-ticker variable: nothing that could close a literal.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")

VariableValidator = Callable[[str], str]
VALIDATORS: Dict[str, VariableValidator] = {"ticker": validate_ticker}


class MacroError(ConfigError):
    """A Grafana macro or template variable in panel SQL could not be expanded."""


@dataclass(frozen=True)
class MacroContext:
    """What the plugin takes from the request: time range, interval, the editor's table/column."""

    time_from: datetime
    time_to: datetime
    interval: timedelta = timedelta(hours=1)
    table: str = ""
    column: str = ""

    def __post_init__(self) -> None:
        start, end = _utc(self.time_from, "time_from"), _utc(self.time_to, "time_to")
        if end < start:
            raise MacroError(f"time range ends ({end}) before it starts ({start}); swap them")
        object.__setattr__(self, "time_from", start)
        object.__setattr__(self, "time_to", end)


def _utc(value: datetime, what: str) -> datetime:
    """Naive datetimes are taken as UTC (as the plugin's Grafana server runs them)."""
    if not isinstance(value, datetime):
        raise MacroError(f"{what} must be a datetime, got {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _go_float(seconds: float) -> str:
    """Go's %v for a float64: 3600 -> '3600', 0.5 -> '0.5'."""
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


def parse_interval(text: str) -> timedelta:
    """`'1h'`, `5m`, `1d` -> timedelta (the subset of gtime.ParseInterval the panels use)."""
    match = _INTERVAL.match(text.strip().strip("'"))
    if not match:
        raise MacroError(
            f"interval {text!r} is not understood; use a number and a unit like '1h', '5m', '1d'"
        )
    return timedelta(seconds=int(match.group(1)) * _INTERVAL_SECONDS[match.group(2)])


def format_interval(interval: timedelta) -> str:
    """gtime.FormatInterval: the largest whole unit, e.g. 1h, 30m, 2d, 500ms."""
    ms = int(interval.total_seconds() * 1000)
    for unit, size in (("y", 31536000000), ("d", 86400000), ("h", 3600000), ("m", 60000),
                       ("s", 1000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _parse_time(target: str, fmt: str) -> str:
    if fmt == "":
        return target
    if fmt == _TIMESTAMP_FORMAT:
        return f"TIMESTAMP {target}"
    return f"parse_datetime({target},{fmt})"


def _need(args: List[str], name: str, low: int, high: Optional[int] = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise MacroError(f"macro $__{name} expects {want} argument(s), got {len(args)}: {args!r}")


def _time_filter(ctx: MacroContext, args: List[str]) -> str:
    if len(args) < 1 or not args[0]:
        raise MacroError("macro $__timeFilter needs the time column, e.g. $__timeFilter(bar_time)")
    time_var = _parse_time(args[0], args[1] if len(args) > 1 else "")
    return (
        f"{time_var} BETWEEN TIMESTAMP '{ctx.time_from.strftime(_PY_TIMESTAMP)}' "
        f"AND TIMESTAMP '{ctx.time_to.strftime(_PY_TIMESTAMP)}'"
    )


def _time_from(ctx: MacroContext, args: List[str]) -> str:
    return f"TIMESTAMP '{ctx.time_from.strftime(_PY_TIMESTAMP)}'"


def _time_to(ctx: MacroContext, args: List[str]) -> str:
    return f"TIMESTAMP '{ctx.time_to.strftime(_PY_TIMESTAMP)}'"


def _raw_time(which: str) -> Callable[[MacroContext, List[str]], str]:
    def expand(ctx: MacroContext, args: List[str]) -> str:
        fmt = args[0] if len(args) == 1 and args[0] else _TIMESTAMP_FORMAT
        value = ctx.time_from if which == "from" else ctx.time_to
        return go_format(value.astimezone(timezone.utc), java_to_go_layout(fmt))

    return expand


def _date_filter(ctx: MacroContext, args: List[str]) -> str:
    _need(args, "dateFilter", 1)
    return (
        f"{args[0]} BETWEEN date '{ctx.time_from.strftime('%Y-%m-%d')}' "
        f"AND date '{ctx.time_to.strftime('%Y-%m-%d')}'"
    )


def _unix_epoch_filter(ctx: MacroContext, args: List[str]) -> str:
    _need(args, "unixEpochFilter", 1)
    # Seconds, not milliseconds: bar_time_ms needs bar_time_ms / 1000 as the argument.
    return f"{args[0]} BETWEEN {int(ctx.time_from.timestamp())} AND {int(ctx.time_to.timestamp())}"


def _group_args(args: List[str], name: str) -> Tuple[str, str]:
    if len(args) < 2:
        raise MacroError(
            f"macro $__{name} needs a time column and an interval, e.g. (bar_time,'1h')"
        )
    seconds = _go_float(parse_interval(args[1]).total_seconds())
    time_var = _parse_time(args[0], args[2]) if len(args) == 3 else args[0]
    return time_var, seconds


def _time_group(ctx: MacroContext, args: List[str]) -> str:
    time_var, s = _group_args(args, "timeGroup")
    return f"FROM_UNIXTIME(FLOOR(TO_UNIXTIME({time_var})/{s})*{s})"


def _unix_epoch_group(ctx: MacroContext, args: List[str]) -> str:
    time_var, s = _group_args(args, "unixEpochGroup")
    return f"FROM_UNIXTIME(FLOOR({time_var}/{s})*{s})"


def _parse_time_macro(ctx: MacroContext, args: List[str]) -> str:
    if len(args) < 1 or not args[0]:
        raise MacroError("macro $__parseTime needs a column, e.g. $__parseTime(col)")
    return _parse_time(args[0], args[1] if len(args) == 2 else _TIMESTAMP_FORMAT)


def _table(ctx: MacroContext, args: List[str]) -> str:
    return ctx.table


def _column(ctx: MacroContext, args: List[str]) -> str:
    return ctx.column


def _interval(ctx: MacroContext, args: List[str]) -> str:
    return format_interval(ctx.interval)


def _interval_ms(ctx: MacroContext, args: List[str]) -> str:
    return str(int(ctx.interval.total_seconds() * 1000))


# The Athena plugin's macros merged over the SDK defaults it keeps ($__table, $__column,
# $__interval, $__interval_ms); the plugin's own names win, as in sqlutil.Interpolate.
MACROS: Dict[str, Callable[[MacroContext, List[str]], str]] = {
    "interval": _interval,
    "interval_ms": _interval_ms,
    "table": _table,
    "column": _column,
    "dateFilter": _date_filter,
    "parseTime": _parse_time_macro,
    "unixEpochFilter": _unix_epoch_filter,
    "timeFilter": _time_filter,
    "rawTimeFrom": _raw_time("from"),
    "timeFrom": _time_from,
    "timeGroup": _time_group,
    "unixEpochGroup": _unix_epoch_group,
    "rawTimeTo": _raw_time("to"),
    "timeTo": _time_to,
}


def _parse_args(text: str) -> Tuple[Optional[List[str]], int]:
    """sqlutil.parseArgs: a bracketed list at the start of `text` -> (args, length consumed)."""
    if not text.startswith("("):
        return None, 0
    args: List[str] = []
    depth = 0
    current: List[str] = []
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    return None, -1


def expand_macros(sql: str, ctx: MacroContext) -> str:
    """Expand every `$__macro(...)` the way the plugin's backend does (longest names first)."""
    for name in sorted(MACROS, key=len, reverse=True):
        pattern = re.compile(r"\$__" + re.escape(name) + r"\b")
        # As sqlutil.Interpolate: find every match first, then replace each full text everywhere.
        found = []
        for match in pattern.finditer(sql):
            args, length = _parse_args(sql[match.end():])
            if length < 0:
                raise MacroError(
                    f"macro $__{name} at character {match.start()} has no closing bracket"
                )
            found.append((sql[match.start():match.end() + length], args or []))
        for full, args in found:
            sql = sql.replace(full, MACROS[name](ctx, args))
    leftover = re.search(r"\$__\w+", sql)
    if leftover:
        raise MacroError(
            f"unknown macro {leftover.group(0)}; known: "
            + ", ".join(f"$__{m}" for m in sorted(MACROS))
        )
    return sql


def _validated(name: str, value: object) -> str:
    validator = VALIDATORS.get(name)
    if validator is not None:
        return validator(value)
    if not isinstance(value, str) or not _SAFE_VALUE.match(value):
        raise IdentifierError(
            f"value {value!r} for variable ${name} is not allowed in SQL: use letters, digits, "
            "'_', '.', ':' or '-' (at most 64)"
        )
    return value


def expand_variables(sql: str, variables: Mapping[str, object]) -> str:
    """Replace `$name`, `${name}`, `${name:raw}` and `[[name]]` with validated values.

    A list or tuple is a multi-value variable (a multi-select with several values, or `All`):
    Grafana's `${name:singlequote}` gives `'A','B'`, which is the only way panel SQL may use one
    (`ticker IN (${ticker:singlequote})`); a plain `$name` would join them with no quotes.
    """
    values: Dict[str, object] = {}
    for name, value in variables.items():
        if isinstance(value, (list, tuple)):
            if not value:
                raise MacroError(f"variable ${name} has no values; select at least one")
            values[name] = tuple(_validated(name, v) for v in value)
        else:
            values[name] = _validated(name, value)

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bracketed") or match.group("plain")
        fmt = match.group("fmt")
        if fmt not in (None, "raw", "text", "sqlstring", "singlequote"):
            raise MacroError(f"variable format :{fmt} in {match.group(0)} is not supported here")
        if name not in values:
            raise MacroError(
                f"panel SQL uses ${name} but no value was given; pass it, e.g. {name}=..."
            )
        value = values[name]
        if isinstance(value, tuple):
            if fmt != "singlequote":
                raise MacroError(
                    f"{match.group(0)} has several values ({', '.join(value)}): write "
                    f"${{{name}:singlequote}} inside IN (...) to use them"
                )
            return ",".join(f"'{v}'" for v in value)
        if fmt == "singlequote":
            return "'" + value + "'"
        return value

    return _VARIABLE.sub(replace, sql)


def interpolate(
    sql: str,
    time_from: datetime,
    time_to: datetime,
    variables: Optional[Mapping[str, object]] = None,
    interval: timedelta = timedelta(hours=1),
    table: str = "",
    column: str = "",
) -> str:
    """Grafana's full pipeline: template variables (browser), then the plugin's macros (backend)."""
    ctx = MacroContext(time_from, time_to, interval=interval, table=table, column=column)
    return expand_macros(expand_variables(sql, variables or {}), ctx)

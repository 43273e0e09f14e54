"""Time zones of `timestamp with time zone` values for the local engine's rewrite (see
trino_functions): Trino keeps each value's zone, DuckDB only its instant, so the zone is tracked
on the parsed tree (`node.meta`), the wall clock computed in it where Trino reads one, and a
result column's values shown in it after the query."""

from __future__ import annotations

import re
from typing import Any, List, Optional, Sequence

from ...errors import UnsupportedSQLError

ZONE = "sp_zone"  # node.meta key: the Trino zone of a timestamp-with-time-zone value
UTC = "UTC"
PER_ROW = "?"  # the zone of a from_iso8601_timestamp(column) value: each row's own offset
OFFSET_RE = re.compile(r"^([+-])(\d{1,2})(?::?(\d{2}))?$")


def zone_of(node: Any) -> Optional[str]:
    """The Trino zone of a `timestamp with time zone` expression, when known here."""
    return node.meta.get(ZONE) if node is not None and node._meta else None


def with_zone(node: Any, zone: Optional[str]) -> Any:
    if zone is not None:
        node.meta[ZONE] = zone
    return node


def normalize_zone(raw: str, where: str) -> str:
    """Trino's spelling of a zone: 'UTC', '+07:09', or an IANA name."""
    text = raw.strip()
    if text.upper() in ("UTC", "Z", "GMT", "UT", "+00:00", "-00:00"):
        return UTC if text.upper() != "+00:00" else "+00:00"
    m = OFFSET_RE.match(text)
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


def offset_minutes(zone: str) -> Optional[int]:
    m = OFFSET_RE.match(zone)
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    return sign * (int(m.group(2)) * 60 + int(m.group(3) or 0))


# node.meta key: the ISO 8601 text a from_iso8601_timestamp(column) value was read from.
ISO_TEXT = "sp_iso_text"
_ISO_OFFSET = r"(Z|[+-]\d{2}(:?\d{2})?)$"


def wall_clock(exp: Any, value: Any, zone: Optional[str]) -> Any:
    """The plain timestamp Trino shows for the instant `value` in `zone`."""
    if zone == PER_ROW:
        # Each row's own offset: its wall clock is the text before the offset, read as is.
        text = value.meta[ISO_TEXT]
        bare = exp.Anonymous(this="regexp_replace", expressions=[
            text.copy(), exp.Literal.string(_ISO_OFFSET), exp.Literal.string("")])
        return exp.Cast(this=bare, to=exp.DataType.build("TIMESTAMP"))
    utc = exp.Anonymous(this="__sp_utc", expressions=[value])
    if zone in (None, UTC, "+00:00"):
        return utc
    minutes = offset_minutes(zone)
    if minutes is not None:
        return exp.Add(this=utc, expression=exp.Interval(
            this=exp.Literal.string(str(minutes)), unit=exp.Var(this="MINUTE")))
    return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(zone), value])


def instant_of(exp: Any, wall: Any, zone: Optional[str]) -> Any:
    """The instant whose wall clock in `zone` is the plain timestamp `wall`."""
    if zone in (None, UTC, "+00:00"):
        return exp.Cast(this=wall, to=exp.DataType.build("TIMESTAMPTZ"))
    minutes = offset_minutes(zone)
    if minutes is not None:
        shifted = exp.Sub(this=wall, expression=exp.Interval(
            this=exp.Literal.string(str(minutes)), unit=exp.Var(this="MINUTE")))
        return exp.Cast(this=shifted, to=exp.DataType.build("TIMESTAMPTZ"))
    return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(zone), wall])


def result_zones(exp: Any, tree: Any) -> List[Optional[str]]:
    """The zone of each output column of the outermost SELECT of a rewritten tree, for the
    `timestamp with time zone` columns whose zone is known; [] when none is outside UTC."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return []
    zones = [zone_of(i.this if isinstance(i, exp.Alias) else i) for i in select.expressions]
    return zones if any(z not in (None, UTC, PER_ROW) for z in zones) else []


def apply_zones(rows: Sequence[tuple], zones: Sequence[Optional[str]]) -> List[tuple]:
    """Show each zoned column's instants in its zone, as Athena returns them."""
    if not zones:
        return list(rows)
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    tzs: List[Any] = []
    for zone in zones:
        minutes = offset_minutes(zone) if zone not in (None, PER_ROW) else None
        if zone in (None, PER_ROW, UTC):
            tzs.append(None)
        elif minutes is not None:
            tzs.append(timezone(timedelta(minutes=minutes), zone))
        else:
            tzs.append(ZoneInfo(zone))
    out = []
    for row in rows:
        out.append(tuple(
            v.astimezone(tz) if tz is not None and getattr(v, "tzinfo", None) else v
            for v, tz in zip(row, tzs)
        ))
    return out

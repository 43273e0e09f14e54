"""How values are shown: query results as Athena's console shows them (table, CSV, JSON) and
the one-line-per-check summary of a quality run."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime
from decimal import Decimal
from typing import Any, List, Sequence


def check_lines(checks: Sequence[dict]) -> List[str]:
    """'  PASS  name  severity  failing rows: n' for each check, names aligned."""
    lines = []
    width = max([len(str(c["name"])) for c in checks] + [10])
    for c in checks:
        verdict = "PASS" if c["passed"] else ("FAIL" if c["severity"] == "error" else "WARN")
        lines.append(
            f"  {verdict}  {str(c['name']).ljust(width)}  {str(c['severity']).ljust(7)}  "
            f"failing rows: {c['failing_rows']}"
        )
    return lines


def text(value: Any) -> str:
    """A value as Athena's console shows it: true/false, timestamps without trailing zeros."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        # Athena's timestamps are millisecond precision; DuckDB's str() pads to microseconds.
        if value.microsecond == 0:
            spec = "seconds"
        elif value.microsecond % 1000 == 0:
            spec = "milliseconds"
        else:
            spec = "microseconds"
        return value.isoformat(sep=" ", timespec=spec)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return str(value)


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _cell(value: str) -> str:
    """One table line per row: control characters (a newline in a value) are shown escaped."""
    if not any(ord(ch) < 32 for ch in value):
        return value
    return "".join(
        _ESCAPES.get(ch, f"\\x{ord(ch):02x}") if ord(ch) < 32 else ch for ch in value
    )


def json_value(value: Any) -> Any:
    """A value JSON can hold: NaN/Infinity as strings (bare NaN is not JSON), exact decimals
    as numbers when a float keeps them, timestamps and dates as text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else text(value)
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return text(value)


def format_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """A query result as an aligned table, CSV, or a JSON list of objects."""
    if fmt == "json":
        return json.dumps(
            [{c: json_value(v) for c, v in zip(columns, r)} for r in rows], allow_nan=False
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if columns:
            writer.writerow(columns)
        writer.writerows(["" if v is None else text(v) for v in r] for r in rows)
        return buf.getvalue().rstrip("\n")
    if not columns:
        return "OK"
    cells = [["NULL" if v is None else _cell(text(v)) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    footer = f"({len(rows)} row{'s' if len(rows) != 1 else ''})"
    return "\n".join([line.rstrip(), rule, *body, footer])

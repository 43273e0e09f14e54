"""The SQL files under runtime/sql/ (read with importlib.resources, so they load from a wheel or
zip too) and the only literals Python places into them: validated identifiers go in through
`render`; locations, timestamps and value lists through the builders below."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from importlib import resources
from string import Template
from typing import Dict, Iterable, Sequence, Set, Tuple

from .errors import ConfigError, validate_ticker

# A header line `-- key: value`; a line `--   more` continues the value above it.
_HEADER_LINE = re.compile(r"^--\s?([a-z_]+):\s*(.*?)\s*$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*?)\s*$")
# Literals Python places into SQL: only these shapes pass.
_TIMESTAMP_LITERAL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")


def sql_path(*parts: str):
    """runtime/sql/<parts...> as an importlib.resources Traversable.

    One joinpath per segment: on Python 3.9 (Glue Python shell) a package imported from a zip or
    wheel is a zipfile.Path, whose joinpath takes a single argument."""
    path = resources.files("runtime").joinpath("sql")
    for part in parts:
        path = path.joinpath(part)
    return path


def sql_text(name: str) -> str:
    """The text of runtime/sql/<name> (e.g. 'transform_select.sql', 'checks/freshness.sql')."""
    return sql_path(*name.split("/")).read_text(encoding="utf-8")


def sql_header(name: str) -> Tuple[Dict[str, str], str]:
    """The `-- key: value` lines a SQL file starts with (what a check or panel declares about
    itself), and the rest of the file."""
    fields: Dict[str, str] = {}
    lines = sql_text(name).splitlines(keepends=True)
    key = None
    taken = 0
    for line in lines:
        header, more = _HEADER_LINE.match(line), _CONTINUATION.match(line)
        if more and key is not None:
            fields[key] += " " + more.group(1)
        elif header:
            key = header.group(1)
            fields[key] = header.group(2)
        else:
            break
        taken += 1
    return fields, "".join(lines[taken:])


def slots(name: str) -> Set[str]:
    """The names of the `${...}` (or `$name`) slots a SQL file has."""
    found = set()
    for match in Template.pattern.finditer(sql_text(name)):
        slot = match.group("named") or match.group("braced")
        if slot:
            found.add(slot)
    return found


def render(name: str, **values: str) -> str:
    """Fill a SQL file's `${...}` slots; every slot must be given (a missing one is a bug)."""
    try:
        return Template(sql_text(name)).substitute(values).strip()
    except KeyError as exc:
        raise ConfigError(f"SQL file {name} needs a value for {exc.args[0]!r}") from None


def sql_uri(uri: str) -> str:
    """A lake URI as a SQL string literal body; quotes and control characters are refused."""
    if not uri or "'" in uri or "\\" in uri or any(ord(ch) < 32 for ch in uri):
        raise ConfigError(f"location {uri!r} cannot be placed in SQL: no quotes or backslashes")
    return uri


def timestamp_literal(moment: datetime) -> str:
    """A naive-UTC `YYYY-MM-DD HH:MM:SS.fff` for `TIMESTAMP '...'`.

    Always exactly milliseconds: a literal's precision is its number of fraction digits, and
    Athena's Hive writer accepts only timestamp(3) in a CTAS; timestamp(0) (a whole second
    without `.000`) or timestamp(6) fails with "NOT_SUPPORTED: Incorrect timestamp precision for
    timestamp(0); the configured precision is MILLISECONDS" (Trino's Hive connector check)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    text = f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}"
    if not _TIMESTAMP_LITERAL.match(text):
        raise ConfigError(f"{text!r} is not a valid timestamp literal")
    return text


def values_rows(rows: Iterable[str], null_row: str) -> str:
    """`(a), (b), <null_row>`: the trailing NULL row keeps the VALUES list valid when empty."""
    return ", ".join([*rows, null_row])


def ticker_values(tickers: Sequence[str]) -> str:
    rows = [f"('{validate_ticker(t)}')" for t in tickers]
    return values_rows(rows, "(CAST(NULL AS varchar))")


def hour_values(hours: Sequence[datetime]) -> str:
    rows = [f"(TIMESTAMP '{timestamp_literal(h)}')" for h in hours]
    return values_rows(rows, "(CAST(NULL AS timestamp))")

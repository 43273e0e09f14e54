"""The panel registry: one Athena SQL file per panel, shared by Grafana, the report and notebooks.

A panel's SQL passes through three stages:
1. `template(name)`: the file as written, with `{{prod_latest_view}}` / `{{dq_table}}`;
2. `panel_sql(name, settings)`: table names filled from settings (validated identifiers), still
   holding `$ticker` and the `$__` macros: this is the text in the Grafana dashboard;
3. `panel_query(name, settings, time_from, time_to, ticker)`: variables and macros expanded the
   way the Athena plugin expands them: this is what an engine runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Tuple

from .engines.base import Engine, QueryResult
from .errors import ConfigError, validate_identifier
from .macros import interpolate
from .settings import Settings
from .sql_files import sql_header, sql_path

KINDS = ("candlestick", "timeseries", "stat", "table", "variable", "meta")

# Annualisation used by the volatility and stats SQL: 252 sessions x 16 extended-hours bars.
SESSIONS_PER_YEAR = 252
BARS_PER_SESSION = 16
ROLLING_BARS = 16

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# Placeholder -> Settings attribute holding the table or view name.
TABLE_PLACEHOLDERS = {"prod_latest_view": "prod_latest_view", "dq_table": "dq_table"}


@dataclass(frozen=True)
class Panel:
    """One panel: its SQL file under runtime/sql/panels/ and how to draw it, as the file's
    header declares (`-- title:`, `-- kind:`, `-- description:`, optional `-- unit:`,
    `-- per_ticker: no`, `-- order:` and `-- grid: x y w h`, its place on the dashboard)."""

    name: str
    title: str
    kind: str
    description: str
    per_ticker: bool = True
    unit: str = ""
    order: int = 0
    grid: Optional[Tuple[int, int, int, int]] = None

    @property
    def sql_file(self) -> str:
        return f"{self.name}.sql"


def _read_panel(file_name: str) -> Panel:
    name = validate_identifier(file_name[: -len(".sql")], "panel name")
    fields, _ = sql_header(f"panels/{file_name}")
    missing = [k for k in ("title", "kind", "description", "order") if not fields.get(k)]
    unknown = set(fields) - {"title", "kind", "description", "order", "unit", "per_ticker",
                             "grid"}
    if missing or unknown or fields["kind"] not in KINDS:
        raise ConfigError(
            f"panel {file_name} must start with '-- title:', '-- kind:' (one of "
            f"{', '.join(KINDS)}), '-- description:' and '-- order:' lines; missing "
            f"{missing}, unknown {sorted(unknown)}, kind {fields.get('kind')!r}"
        )
    grid = tuple(int(v) for v in fields["grid"].split()) if fields.get("grid") else None
    if grid is not None and len(grid) != 4:
        raise ConfigError(f"panel {file_name}: '-- grid:' is x y w h, got {fields['grid']!r}")
    return Panel(name, fields["title"], fields["kind"], fields["description"],
                 per_ticker=fields.get("per_ticker", "yes") != "no",
                 unit=fields.get("unit", ""), order=int(fields["order"]),
                 grid=grid)  # type: ignore[arg-type]


def _read_panels() -> Tuple[Panel, ...]:
    files = [e.name for e in sql_path("panels").iterdir() if e.name.endswith(".sql")]
    return tuple(sorted((_read_panel(f) for f in files), key=lambda p: (p.order, p.name)))


# Every panel, in dashboard and report order: adding one is adding its SQL file.
PANELS: Tuple[Panel, ...] = _read_panels()

# The panels a dashboard or report draws (variables and metadata queries are not drawn).
DRAWN: Tuple[Panel, ...] = tuple(p for p in PANELS if p.kind not in ("variable", "meta"))


def panel(name: str) -> Panel:
    for p in PANELS:
        if p.name == name:
            return p
    raise ConfigError(f"unknown panel {name!r}; panels are {', '.join(p.name for p in PANELS)}")


def template(name: str) -> str:
    """The panel's SQL file as written, without its header."""
    p = panel(name)
    return sql_header(f"panels/{p.sql_file}")[1]


def fill_tables(sql: str, settings: Settings) -> str:
    """Replace `{{placeholder}}` with the validated table name from settings."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in TABLE_PLACEHOLDERS:
            raise ConfigError(
                f"unknown placeholder {{{{{key}}}}} in panel SQL; known: "
                + ", ".join(sorted(TABLE_PLACEHOLDERS))
            )
        return validate_identifier(getattr(settings, TABLE_PLACEHOLDERS[key]), key)

    return _PLACEHOLDER.sub(replace, sql)


def panel_sql(name: str, settings: Settings) -> str:
    """The SQL Grafana stores: tables filled in, `$ticker` and `$__` macros left for the plugin."""
    return fill_tables(template(name), settings).strip() + "\n"


def panel_query(
    name: str,
    settings: Settings,
    time_from: datetime,
    time_to: datetime,
    ticker: Optional[str] = None,
) -> str:
    """The SQL an engine runs: `panel_sql` with variables and macros expanded as Grafana would."""
    p = panel(name)
    if p.per_ticker and ticker is None:
        raise ConfigError(f"panel {name!r} is per ticker: pass ticker=, e.g. ticker='AAPL'")
    variables = {"ticker": ticker} if ticker is not None else {}
    return interpolate(panel_sql(name, settings), time_from, time_to, variables)


def run_panel(
    engine: Engine,
    settings: Settings,
    name: str,
    time_from: datetime,
    time_to: datetime,
    ticker: Optional[str] = None,
) -> QueryResult:
    """Run one panel's query on any engine (local DuckDB or Athena)."""
    return engine.execute(panel_query(name, settings, time_from, time_to, ticker))

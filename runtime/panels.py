"""The panel registry: one Athena SQL file per panel, shared by Grafana, the report and notebooks.

A panel's SQL passes through three stages:
1. `template(name)`: the file as written, with `{{prod_latest_view}}` / `{{dq_table}}` /
   `{{partition_column}}`;
2. `panel_sql(name, settings)`: table names filled from settings (validated identifiers), still
   holding `$ticker` and the `$__` macros: this is the text in the Grafana dashboard;
3. `panel_query(name, settings, time_from, time_to, ticker)`: variables and macros expanded the
   way the Athena plugin expands them: this is what an engine runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Optional, Tuple

from .engines.base import Engine, QueryResult
from .errors import ConfigError, validate_identifier
from .macros import interpolate
from .settings import Settings

KINDS = ("candlestick", "timeseries", "stat", "table", "variable", "meta")

# Annualisation used by the volatility and stats SQL: 252 sessions x 16 extended-hours bars.
SESSIONS_PER_YEAR = 252
BARS_PER_SESSION = 16
ROLLING_BARS = 16

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# Placeholder -> Settings attribute holding the table, view or partition column name.
TABLE_PLACEHOLDERS = {
    "prod_latest_view": "prod_latest_view",
    "dq_table": "dq_table",
    "partition_column": "partition_column",
}


@dataclass(frozen=True)
class Panel:
    """One panel: its SQL file under runtime/sql/panels/ and how to draw it."""

    name: str
    title: str
    kind: str
    description: str
    per_ticker: bool = True
    unit: str = ""

    @property
    def sql_file(self) -> str:
        return f"{self.name}.sql"


PANELS: Tuple[Panel, ...] = (
    Panel("stats", "Summary for the range", "stat",
          "Last close; change since the range's first open (abs and %); total volume; realised "
          "volatility of hourly log returns annualised by sqrt(252 x 16), in %."),
    Panel("price", "Price: hourly OHLC with VWAP", "candlestick",
          "Hourly candles (open, high, low, close) with the volume-weighted average price.",
          unit="currencyUSD"),
    Panel("volume", "Volume per hour with 16-bar moving average", "timeseries",
          "Shares traded per hourly bar; the line is the mean of the last 16 bars "
          "(one extended session, 04:00-20:00 ET), drawn from the range's 16th bar on.",
          unit="short"),
    Panel("volatility", "Volatility: 16-bar rolling, annualised (%), and high-low range (%)",
          "timeseries",
          "Sample standard deviation of the last 16 hourly log returns x sqrt(252 x 16) x 100, "
          "drawn once 16 returns are in the window; the step from a session's last bar to the "
          "next session's first (overnight, weekend) counts as one return, so gaps raise it. "
          "And (high - low) / close x 100 per bar.", unit="percent"),
    Panel("dq_latest", "Data quality: latest run", "table",
          "Every check of the most recent quality run, failures first.", per_ticker=False),
    Panel("dq_failures", "Data quality: failed checks history", "table",
          "Failed checks of every run, newest first (at most 200).", per_ticker=False),
    Panel("tickers", "Tickers", "variable",
          "Tickers in the production view (the dashboard's ticker variable).", per_ticker=False),
    Panel("data_range", "Data range", "meta",
          "First and last bar in the production view.", per_ticker=False),
)

# The panels a dashboard or report draws (variables and metadata queries are not drawn).
DRAWN: Tuple[Panel, ...] = tuple(p for p in PANELS if p.kind not in ("variable", "meta"))


def panel(name: str) -> Panel:
    for p in PANELS:
        if p.name == name:
            return p
    raise ConfigError(f"unknown panel {name!r}; panels are {', '.join(p.name for p in PANELS)}")


def template(name: str) -> str:
    """The panel's SQL file as written."""
    p = panel(name)
    return resources.files("runtime").joinpath("sql", "panels", p.sql_file).read_text("utf-8")


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

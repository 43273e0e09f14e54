"""The panel registry: one Athena SQL file per panel, shared by Grafana, the report and notebooks.

A panel's SQL passes through three stages:
1. `template(name)`: the file as written, with `{{prod_latest_view}}` / `{{dq_table}}` /
   `{{partition_column}}`;
2. `panel_sql(name, settings)`: names filled from settings (validated identifiers), still
   holding `$ticker` and the `$__` macros: this is the text in the Grafana dashboard;
3. `panel_query(name, settings, time_from, time_to, ticker)`: variables and macros expanded the
   way the Athena plugin expands them: this is what an engine runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Sequence, Tuple, Union

from .engines.base import Engine, QueryResult
from .errors import ConfigError, validate_identifier
from .macros import interpolate
from .settings import Settings
from .sql_files import sql_text

KINDS = ("candlestick", "timeseries", "stat", "table", "variable", "meta", "annotation")

# Annualisation used by the volatility and stats SQL: 252 sessions a year, and 15 intraday
# hourly returns in a 16-bar extended session (the overnight step is not a return).
SESSIONS_PER_YEAR = 252
BARS_PER_SESSION = 16
INTRADAY_RETURNS_PER_SESSION = BARS_PER_SESSION - 1
ROLLING_BARS = 16

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# Placeholder -> Settings attribute holding the table or view name.
TABLE_PLACEHOLDERS = {"prod_latest_view": "prod_latest_view", "dq_table": "dq_table"}
PARTITION_PLACEHOLDER = "partition_column"

Tickers = Union[str, Sequence[str]]


def partition_column(settings: Settings) -> str:
    """The column the bar tables are partitioned by, which every bar query filters on so Athena
    prunes partitions. The one place panel SQL learns it: the bounds the queries use (the range's
    first day `yyyy-MM-dd` to its last hour `yyyy-MM-dd-HH`, exchange time) hold for a day or an
    hour partition value, so a change of granularity or of the column changes only this."""
    return validate_identifier(settings.partition_column, "partition column")


@dataclass(frozen=True)
class Panel:
    """One panel: its SQL file under runtime/sql/panels/ and how to draw it."""

    name: str
    title: str
    kind: str
    description: str
    per_ticker: bool = True
    unit: str = ""
    # Takes several tickers at once through `ticker IN (${ticker:singlequote})` and returns a
    # `ticker` column: one value per repeated dashboard row, every ticker in one report query.
    multi_ticker: bool = False

    @property
    def sql_file(self) -> str:
        return f"{self.name}.sql"


PANELS: Tuple[Panel, ...] = (
    Panel("stats", "Summary for the range", "stat",
          "Last close; change since the range's first open (abs and %); total volume; intraday "
          "volatility: sample standard deviation of hourly log returns within each session "
          "(overnight and weekend gaps left out), annualised by sqrt(252 x 15), in %."),
    Panel("freshness", "Freshness", "stat",
          "Start of the latest bar in the range and the hours from it to the range's end. Bars "
          "arrive once a day and there are none on weekends and holidays: up to about 72 hours "
          "can be normal.", unit="h"),
    Panel("price", "Price: hourly OHLC with VWAP", "candlestick",
          "Hourly candles (open, high, low, close) with the volume-weighted average price.",
          unit="currencyUSD", multi_ticker=True),
    Panel("volume", "Volume per hour with 16-bar moving average", "timeseries",
          "Shares traded per hourly bar; the line is the mean of the last 16 bars "
          "(one extended session, 04:00-20:00 ET), drawn from the range's 16th bar on.",
          unit="short", multi_ticker=True),
    Panel("volatility", "Volatility: intraday, rolling 15 returns, annualised (%), and "
          "high-low range (%)", "timeseries",
          "Sample standard deviation of the last 15 hourly log returns taken within a session "
          "x sqrt(252 x 15) x 100: the step from one session's last bar to the next session's "
          "first (overnight, weekend) is left out, so gaps do not dominate it. Drawn once 15 "
          "returns are in the window. And (high - low) / close x 100 per bar.", unit="percent",
          multi_ticker=True),
    Panel("dq_latest", "Data quality: latest run", "table",
          "Every check of the most recent quality run, failures first.", per_ticker=False),
    Panel("dq_failures", "Data quality: failed checks history", "table",
          "Failed checks of every run, newest first (at most 200).", per_ticker=False),
    Panel("dq_annotations", "Data-quality failures", "annotation",
          "One annotation per failed check at the time of its quality run.", per_ticker=False),
    Panel("splits", "Stock splits", "annotation",
          "One marker per stock split in the range, at the first bar on the new basis: the "
          "bars before it are adjusted to it (prices divided by the ratio, volume multiplied).",
          per_ticker=False, multi_ticker=True),
    Panel("tickers", "Tickers", "variable",
          "Tickers with bars in the time range (the dashboard's ticker variable).",
          per_ticker=False),
    Panel("data_range", "Data range", "meta",
          "First and last bar of each ticker in the production view.", per_ticker=False),
    Panel("sessions", "Sessions", "meta",
          "One row per ticker and exchange session: OHLC, volume, VWAP and intraday returns.",
          per_ticker=False, multi_ticker=True),
)

# The panels a dashboard draws (variables, annotations and metadata queries are not drawn).
DRAWN: Tuple[Panel, ...] = tuple(
    p for p in PANELS if p.kind not in ("variable", "meta", "annotation")
)


def panel(name: str) -> Panel:
    for p in PANELS:
        if p.name == name:
            return p
    raise ConfigError(f"unknown panel {name!r}; panels are {', '.join(p.name for p in PANELS)}")


def template(name: str) -> str:
    """The panel's SQL file as written."""
    p = panel(name)
    return sql_text(f"panels/{p.sql_file}")


def fill_tables(sql: str, settings: Settings) -> str:
    """Replace `{{placeholder}}` with the validated table or column name from settings."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == PARTITION_PLACEHOLDER:
            return partition_column(settings)
        if key not in TABLE_PLACEHOLDERS:
            raise ConfigError(
                f"unknown placeholder {{{{{key}}}}} in panel SQL; known: "
                + ", ".join(sorted([*TABLE_PLACEHOLDERS, PARTITION_PLACEHOLDER]))
            )
        return validate_identifier(getattr(settings, TABLE_PLACEHOLDERS[key]), key)

    return _PLACEHOLDER.sub(replace, sql)


def panel_sql(name: str, settings: Settings) -> str:
    """The SQL Grafana stores: names filled in, `$ticker` and `$__` macros left for the plugin."""
    return fill_tables(template(name), settings).strip() + "\n"


def panel_query(
    name: str,
    settings: Settings,
    time_from: datetime,
    time_to: datetime,
    ticker: Optional[Tickers] = None,
) -> str:
    """The SQL an engine runs: `panel_sql` with variables and macros expanded as Grafana would.
    `ticker` is one symbol, or for a multi-ticker panel a list of them."""
    p = panel(name)
    if p.multi_ticker:
        if ticker is None or (not isinstance(ticker, str) and not list(ticker)):
            raise ConfigError(f"panel {name!r} is per ticker: pass ticker='AAPL' or a list of "
                              "tickers, e.g. ticker=['AAPL', 'MSFT']")
        ticker = [ticker] if isinstance(ticker, str) else list(ticker)
    elif p.per_ticker and ticker is None:
        raise ConfigError(f"panel {name!r} is per ticker: pass ticker=, e.g. ticker='AAPL'")
    elif ticker is not None and not isinstance(ticker, str):
        raise ConfigError(f"panel {name!r} takes one ticker, got {list(ticker)!r}")
    variables = {"ticker": ticker} if ticker is not None else {}
    return interpolate(panel_sql(name, settings), time_from, time_to, variables)


def run_panel(
    engine: Engine,
    settings: Settings,
    name: str,
    time_from: datetime,
    time_to: datetime,
    ticker: Optional[Tickers] = None,
) -> QueryResult:
    """Run one panel's query on any engine (local DuckDB or Athena)."""
    return engine.execute(panel_query(name, settings, time_from, time_to, ticker))

"""Everything the report shows, read with the dashboard's panel SQL: one query for every chosen
ticker's sessions (the overview, and the charts of a long range), the hourly panels per ticker
for a short range, the check history, and the pipeline status."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence

from .. import panels
from ..engines.base import Engine, QueryResult
from ..errors import ConfigError, StockpipeError
from ..settings import Settings, parse_tickers
from .span import ReportRange, as_utc_naive, resolve_range

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# The hourly panels a ticker page draws for a short range.
HOURLY_PANELS = ("price", "volume", "volatility")


@dataclass
class PanelResult:
    """One panel's rows (or why there are none) for one ticker, plus the SQL that produced them."""

    panel: panels.Panel
    ticker: Optional[str]
    sql: str = ""
    result: Optional[QueryResult] = None
    error: Optional[str] = None

    @property
    def rows(self) -> int:
        return len(self.result.rows) if self.result is not None else 0


@dataclass
class TickerSummary:
    """One overview row, from the ticker's session rows (`sessions.sql`)."""

    ticker: str
    sessions: List[Dict[str, Any]]
    behind: bool = False

    @property
    def last_close(self) -> float:
        return float(self.sessions[-1]["close"])

    @property
    def first_open(self) -> float:
        return float(self.sessions[0]["open"])

    @property
    def change_abs(self) -> float:
        return self.last_close - self.first_open

    @property
    def change_pct(self) -> float:
        return (self.last_close / self.first_open - 1.0) * 100.0

    @property
    def volume(self) -> float:
        return sum(float(s["volume"] or 0) for s in self.sessions)

    @property
    def bars(self) -> int:
        return sum(int(s["bars"]) for s in self.sessions)

    @property
    def last_bar(self) -> datetime:
        return as_utc_naive(self.sessions[-1]["last_bar"])

    @property
    def closes(self) -> List[float]:
        return [float(s["close"]) for s in self.sessions]

    @property
    def volatility_pct(self) -> Optional[float]:
        """Intraday volatility over the range as the stats panel computes it: the sample standard
        deviation of every within-session hourly log return, annualised by sqrt(252 x 15)."""
        n = sum(int(s["returns"]) for s in self.sessions)
        if n < 2:
            return None
        total = sum(float(s["sum_return"]) for s in self.sessions)
        squares = sum(float(s["sum_sq_return"]) for s in self.sessions)
        variance = max(squares - total * total / n, 0.0) / (n - 1)
        return math.sqrt(variance) * math.sqrt(
            panels.SESSIONS_PER_YEAR * panels.INTRADAY_RETURNS_PER_SESSION) * 100.0


def session_volatility_pct(session: Dict[str, Any]) -> Optional[float]:
    """One session's realised volatility: sqrt(sum of its squared intraday hourly log returns),
    annualised by sqrt(252), in percent (None for a session with no intraday return)."""
    if not int(session["returns"]):
        return None
    return math.sqrt(float(session["sum_sq_return"]) * panels.SESSIONS_PER_YEAR) * 100.0


@dataclass
class Splits:
    """Each ticker's stock splits in a range (splits.sql rows: the charts' markers), or why they
    could not be read (a production copy published before splits were known has no
    split_factor column)."""

    by_ticker: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    sql: str = ""
    error: Optional[str] = None

    def of(self, ticker: Optional[str]) -> List[Dict[str, Any]]:
        """The ticker's splits, oldest first; [] for a ticker without one."""
        return self.by_ticker.get(ticker, []) if ticker else []

    def note(self, ticker: Optional[str]) -> str:
        """The sentence shown above the ticker's charts: its splits, or why they are not
        marked; "" when it has none."""
        if self.error:
            return f"The split markers could not be read: {self.error}"
        found = self.of(ticker)
        if not found:
            return ""
        named = "; ".join(f"{s['ratio_text']} on {s['split_day']}" for s in found)
        return (f"Stock splits in this range: {named}. Prices and volumes before each are on "
                "the new basis, as the data provider's adjusted bars give them; the dotted "
                "lines on the charts mark them.")


@dataclass
class ReportData:
    """Everything the pages show; `notice` explains an empty or missing production view."""

    generated_at: datetime
    range: Optional[ReportRange] = None
    tickers: List[str] = field(default_factory=list)
    summaries: Dict[str, TickerSummary] = field(default_factory=dict)
    sessions_sql: str = ""
    by_ticker: Dict[str, List[PanelResult]] = field(default_factory=dict)
    notice: Optional[str] = None
    quality: List[PanelResult] = field(default_factory=list)
    quality_notice: Optional[str] = None
    status: Optional[Dict[str, Any]] = None
    # Each ticker's stock splits in the range, the charts' markers.
    splits: Splits = field(default_factory=Splits)

    @property
    def time_from(self) -> Optional[datetime]:
        return self.range.time_from if self.range else None

    @property
    def time_to(self) -> Optional[datetime]:
        return self.range.time_to if self.range else None


def read_splits(settings: Settings, engine: Engine, time_from: datetime, time_to: datetime,
                tickers: Sequence[str]) -> Splits:
    """The tickers' splits between the two times, with the dashboard's split annotation SQL
    (one query for all of them); a failed query is kept as the error, never raised."""
    marks = _run(engine, settings, "splits", time_from, time_to, list(tickers))
    out = Splits(sql=marks.sql, error=marks.error)
    if marks.result is not None:
        for record in marks.result.records():
            out.by_ticker.setdefault(str(record["ticker"]), []).append(record)
    return out


def _run(engine: Engine, settings: Settings, name: str, time_from: datetime,
         time_to: datetime, ticker: Any = None) -> PanelResult:
    out = PanelResult(panels.panel(name), ticker if isinstance(ticker, str) else None)
    try:
        out.sql = panels.panel_query(name, settings, time_from, time_to, ticker)
        out.result = engine.execute(out.sql)
    except StockpipeError as exc:
        # One broken panel must not hide the others (nor fail the run that builds the report).
        log.warning("report panel %s (%s) failed: %s", name, out.ticker or "-", exc)
        out.error = str(exc)
    return out


def status_section(settings: Settings, engine: Engine) -> Optional[Dict[str, Any]]:
    """Hook for the pipeline status (`stockpipe status`): its `collect_status` when this build
    has runtime.status, else None and the page leaves the section out."""
    try:
        from .. import status as status_module  # type: ignore[attr-defined]
    except ImportError:
        return None
    collect_status = getattr(status_module, "collect_status", None)
    if collect_status is None:
        return None
    try:
        found = collect_status(settings, engine)
    except StockpipeError as exc:
        return {"error": str(exc)}
    return found.to_dict() if hasattr(found, "to_dict") else dict(found)


def collect(
    settings: Settings,
    engine: Engine,
    now: Optional[datetime] = None,
    *,
    tickers: Optional[Sequence[str]] = None,
    days: Optional[int] = None,
    date_from: Optional[date] = None,
    date_to: Optional[date] = None,
    progress: Optional[Progress] = None,
) -> ReportData:
    """Run every query the report needs. Missing or empty tables become notices on the page;
    only a bad choice (unknown ticker, a range without data) raises ConfigError."""
    say = progress or (lambda message: None)
    now = now or datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    data = ReportData(generated_at=now)
    wanted = parse_tickers(tickers) if tickers else None
    found_tables = set(engine.list_tables())

    if settings.dq_table in found_tables:
        data.quality = [_run(engine, settings, name, now, now) for name in ("dq_latest",
                                                                           "dq_failures")]
    else:
        data.quality_notice = (
            f"No check results yet: the table {settings.dq_table} does not exist. "
            "Run `stockpipe run` (or `stockpipe checks`)."
        )
    data.status = status_section(settings, engine)

    view = settings.prod_latest_view
    if view not in found_tables:
        data.notice = (
            f"No production data yet: the view {view} does not exist. It is created only when "
            "every blocking quality check passes, so the first run probably failed its checks; "
            "see the data-quality results below, fix the cause and run again."
        )
        return data
    span = _run(engine, settings, "data_range", datetime(1970, 1, 1), now)
    if span.error:
        data.notice = f"Could not read the production view {view}: {span.error}"
        return data
    spans = {str(r["ticker"]): (as_utc_naive(r["first_bar"]), as_utc_naive(r["last_bar"]))
             for r in span.result.records() if r["bars"]}
    if not spans:
        data.notice = (
            f"The production view {view} has no rows: nothing to chart yet. "
            "Check the ingest window and the source (`stockpipe run --json` shows row counts)."
        )
        return data

    first = min(f for f, _ in spans.values())
    last = max(t for _, t in spans.values())
    data.range = rng = resolve_range(first, last, days, date_from, date_to)
    # Tickers with bars in the range (the dashboard's ticker variable lists the same).
    available = [t for t, (lo, hi) in sorted(spans.items())
                 if lo <= rng.time_to and hi >= rng.time_from]
    if wanted:
        unknown = [t for t in wanted if t not in available]
        if unknown:
            raise ConfigError(
                f"no bars for {', '.join(unknown)} between {rng.first_day} and {rng.last_day}; "
                f"tickers with bars there: {', '.join(available) or 'none'}"
            )
    data.tickers = list(wanted or available)
    if not data.tickers:
        data.notice = f"No bars between {rng.first_day} and {rng.last_day}."
        return data

    say(f"report: reading sessions of {len(data.tickers)} ticker(s), "
        f"{rng.first_day} to {rng.last_day}")
    sessions = _run(engine, settings, "sessions", rng.time_from, rng.time_to, data.tickers)
    data.sessions_sql = sessions.sql
    if sessions.error:
        data.notice = f"Could not read the sessions: {sessions.error}"
        return data
    by_ticker: Dict[str, List[Dict[str, Any]]] = {t: [] for t in data.tickers}
    for record in sessions.result.records():
        by_ticker[str(record["ticker"])].append(record)
    newest = max((rows[-1]["last_bar"] for rows in by_ticker.values() if rows), default=None)
    for ticker, rows in by_ticker.items():
        if rows:
            summary = TickerSummary(ticker, rows)
            summary.behind = summary.last_bar < as_utc_naive(newest)
            data.summaries[ticker] = summary

    data.splits = read_splits(settings, engine, rng.time_from, rng.time_to, data.tickers)

    if not rng.daily:
        # Each hourly panel once for every ticker (a query costs the same for 1 or 30 of them).
        for name in HOURLY_PANELS:
            say(f"report: hourly {name} of {len(data.tickers)} ticker(s)")
            whole = _run(engine, settings, name, rng.time_from, rng.time_to, data.tickers)
            for ticker, part in split_by_ticker(whole, data.tickers).items():
                data.by_ticker.setdefault(ticker, []).append(part)
    return data


def split_by_ticker(whole: PanelResult, tickers: Sequence[str]) -> Dict[str, PanelResult]:
    """One multi-ticker panel result as one result per ticker (same SQL, its rows only)."""
    out = {t: PanelResult(whole.panel, t, whole.sql, error=whole.error) for t in tickers}
    if whole.result is None:
        return out
    columns = whole.result.columns
    at = columns.index("ticker")
    rows: Dict[str, List[tuple]] = {t: [] for t in tickers}
    for row in whole.result.rows:
        rows.setdefault(str(row[at]), []).append(row)
    for t in tickers:
        out[t].result = QueryResult(list(columns), rows[t])
    return out

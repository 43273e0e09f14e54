"""The local report: one self-contained report.html (plotly inlined, works offline) with the
dashboard's panels for every ticker and the data-quality results, from the same panel SQL
expanded the way Grafana's Athena plugin expands it."""

from __future__ import annotations

import contextlib
import html
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from . import panels
from .engines.base import Engine, QueryResult
from .errors import StockpipeError, StorageError
from .settings import EXCHANGE_TZ, Settings

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"


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
class ReportData:
    """Everything the page shows; `notice` explains an empty or missing production view."""

    generated_at: datetime
    time_from: Optional[datetime] = None
    time_to: Optional[datetime] = None
    tickers: List[str] = field(default_factory=list)
    notice: Optional[str] = None
    by_ticker: Dict[str, List[PanelResult]] = field(default_factory=dict)
    quality: List[PanelResult] = field(default_factory=list)
    quality_notice: Optional[str] = None


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _run(engine: Engine, settings: Settings, p: panels.Panel, time_from: datetime,
         time_to: datetime, ticker: Optional[str]) -> PanelResult:
    out = PanelResult(p, ticker)
    try:
        out.sql = panels.panel_query(p.name, settings, time_from, time_to, ticker)
        out.result = engine.execute(out.sql)
    except StockpipeError as exc:
        # One broken panel must not hide the others (nor fail the run that builds the report).
        log.warning("report panel %s (%s) failed: %s", p.name, ticker or "-", exc)
        out.error = str(exc)
    return out


def collect(settings: Settings, engine: Engine, now: Optional[datetime] = None) -> ReportData:
    """Run every panel query the report needs; never raises for missing or empty tables."""
    now = now or datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    data = ReportData(generated_at=now)
    tables = set(engine.list_tables())

    if settings.dq_table in tables:
        dq_panels = [p for p in panels.DRAWN if not p.per_ticker]
        data.quality = [_run(engine, settings, p, now, now, None) for p in dq_panels]
    else:
        data.quality_notice = (
            f"No check results yet: the table {settings.dq_table} does not exist. "
            "Run `stockpipe run` (or `stockpipe checks`)."
        )

    view = settings.prod_latest_view
    if view not in tables:
        data.notice = (
            f"No production data yet: the view {view} does not exist. It is created only when "
            "every blocking quality check passes, so the first run probably failed its checks; "
            "see the data-quality results below, fix the cause and run again."
        )
        return data

    far = datetime(1970, 1, 1)
    span = panels.panel("data_range")
    rng = _run(engine, settings, span, far, now, None)
    if rng.error:
        data.notice = f"Could not read the production view {view}: {rng.error}"
        return data
    first, last, count = rng.result.rows[0] if rng.result.rows else (None, None, 0)
    if not count or last is None:
        data.notice = (
            f"The production view {view} has no rows: nothing to chart yet. "
            "Check the ingest window and the source (`stockpipe run --json` shows row counts)."
        )
        return data

    # The last `window_days` days ending at the latest bar, like the dashboard's now-7d.
    data.time_to = _as_utc(last)
    data.time_from = max(_as_utc(first), data.time_to - timedelta(days=settings.window_days))
    tick = _run(engine, settings, panels.panel("tickers"), data.time_from, data.time_to, None)
    data.tickers = [str(r[0]) for r in tick.result.rows] if tick.result else []
    for ticker in data.tickers:
        data.by_ticker[ticker] = [
            _run(engine, settings, p, data.time_from, data.time_to, ticker)
            for p in panels.DRAWN
            if p.per_ticker
        ]
    return data


# ---- figures -----------------------------------------------------------------------------------

def _frame(result: QueryResult):
    """Rows as a DataFrame with the `time` column shown in exchange time (bars are UTC)."""
    import pandas as pd

    df = result.to_pandas()
    if "time" in df.columns:
        t = pd.to_datetime(df["time"])
        t = t.dt.tz_localize("UTC") if t.dt.tz is None else t.dt.tz_convert("UTC")
        df["time"] = t.dt.tz_convert(EXCHANGE_TZ).dt.tz_localize(None)
    return df


def closed_weekdays(times) -> List[str]:
    """Weekdays between the first and last bar with no bar at all (exchange holidays such as
    Thanksgiving), as 'YYYY-MM-DD'."""
    import pandas as pd

    if times.empty:
        return []
    days = pd.date_range(times.min().normalize(), times.max().normalize(), freq="D")
    traded = set(times.dt.normalize())
    return [f"{d:%Y-%m-%d}" for d in days if d.day_of_week < 5 and d not in traded]


def _hide_closed_hours(fig, times) -> None:
    """Skip nights, weekends and holidays on the time axis when no bar falls in them (stocks,
    not crypto), so the line of a held-over value is not drawn across a closed market."""
    if times.empty:
        return
    breaks: List[Dict[str, Any]] = []
    if times.dt.day_of_week.max() < 5:
        breaks.append({"bounds": ["sat", "mon"]})
    # Extended hours: bars start 04:00-19:00 exchange time, so 20:00-04:00 holds none.
    if times.dt.hour.min() >= 4 and times.dt.hour.max() <= 19:
        breaks.append({"bounds": [20, 4], "pattern": "hour"})
        holidays = closed_weekdays(times)
        if holidays:
            # The session hours of each closed weekday (its night is already skipped).
            breaks.append({"values": [f"{d} 04:00" for d in holidays],
                           "dvalue": 16 * 3600 * 1000})
    if breaks:
        fig.update_xaxes(rangebreaks=breaks)


def _layout(fig, title: str, height: int = 420) -> None:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        height=height,
        margin={"l": 60, "r": 60, "t": 50, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )


def panel_figure(pr: PanelResult):
    """The plotly figure for one panel result (which has at least one row)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    p = pr.panel
    df = _frame(pr.result)
    time_title = f"bar start ({EXCHANGE_TZ}; closed nights, weekends and holidays skipped)"
    if p.name == "price":
        fig = go.Figure()
        fig.add_trace(go.Candlestick(x=df["time"], open=df["open"], high=df["high"],
                                     low=df["low"], close=df["close"], name="OHLC"))
        fig.add_trace(go.Scatter(x=df["time"], y=df["vwap"], name="VWAP", mode="lines",
                                 line={"width": 1.5, "color": "#1f77b4"}))
        _layout(fig, f"{pr.ticker}: {p.title}")
        fig.update_layout(xaxis_rangeslider_visible=False)
        fig.update_xaxes(title_text=time_title)
        _hide_closed_hours(fig, df["time"])
        fig.update_yaxes(title_text="price (USD)")
        return fig
    if p.name == "volume":
        fig = go.Figure()
        fig.add_trace(go.Bar(x=df["time"], y=df["volume"], name="volume",
                             marker_color="#9ecae1"))
        fig.add_trace(go.Scatter(x=df["time"], y=df["volume_ma_16"], mode="lines",
                                 name="16-bar moving average", line={"color": "#d62728"}))
        _layout(fig, f"{pr.ticker}: {p.title}")
        fig.update_xaxes(title_text=time_title)
        _hide_closed_hours(fig, df["time"])
        fig.update_yaxes(title_text="shares")
        return fig
    if p.name == "volatility":
        fig = make_subplots(specs=[[{"secondary_y": True}]])
        fig.add_trace(go.Scatter(x=df["time"], y=df["volatility_ann_pct"], mode="lines",
                                 name="rolling volatility, annualised x sqrt(252x16) (%)"),
                      secondary_y=False)
        fig.add_trace(go.Bar(x=df["time"], y=df["range_pct"], name="high-low range (% of close)",
                             marker_color="#fdae6b", opacity=0.6), secondary_y=True)
        _layout(fig, f"{pr.ticker}: {p.title}")
        fig.update_xaxes(title_text=time_title)
        _hide_closed_hours(fig, df["time"])
        # Both from zero: a bar drawn up from an axis starting at 0.05 % exaggerates it.
        fig.update_yaxes(title_text="volatility, annualised (%)", rangemode="tozero",
                         ticksuffix=" %", secondary_y=False)
        fig.update_yaxes(title_text="high-low range per bar (% of close)", rangemode="tozero",
                         ticksuffix=" %", tickformat=".2f", showgrid=False, secondary_y=True)
        return fig
    if p.name == "stats":
        row = df.iloc[0]
        last, change = row["last_close"], row["change_abs"]
        fig = go.Figure()
        fig.add_trace(go.Indicator(
            mode="number+delta", value=_num(last), title={"text": "last close (USD)"},
            number={"valueformat": ",.2f"},
            delta={"reference": _num(last) - _num(change), "valueformat": ",.2f"},
            domain={"row": 0, "column": 0}))
        fig.add_trace(go.Indicator(
            mode="number", value=_num(row["change_pct"]),
            title={"text": "change since the range's first open"},
            number={"suffix": " %", "valueformat": "+.2f"}, domain={"row": 0, "column": 1}))
        fig.add_trace(go.Indicator(
            mode="number", value=_num(row["total_volume"]),
            title={"text": "total volume (shares)"},
            number={"valueformat": ",.0f"}, domain={"row": 0, "column": 2}))
        fig.add_trace(go.Indicator(
            mode="number", value=_num(row["realised_vol_ann_pct"]),
            title={"text": "realised volatility, annualised"},
            number={"suffix": " %", "valueformat": ".1f"}, domain={"row": 0, "column": 3}))
        _layout(fig, f"{pr.ticker}: {p.title} ({int(row['bars'])} bars)", height=230)
        fig.update_layout(grid={"rows": 1, "columns": 4, "pattern": "independent"})
        return fig
    # Tables: the data-quality panels, times as recorded (UTC), not converted like the charts.
    df = pr.result.to_pandas()
    title = p.title
    if p.name == "dq_latest":
        first = pr.result.records()[0]
        title = f"{p.title} ({first['run_id']}, {_cell(first['run_at'])} UTC)"
        df = _check_table(df)
    elif p.name == "dq_failures":
        df = df.rename(columns={"time": "run at (UTC)", "run_id": "run",
                                "check_name": "check", "failing_rows": "failing rows"})
    cells = [[_cell(v) for v in df[c]] for c in df.columns]
    fill = ["white"] * len(df)
    if "result" in df.columns:
        fill = [_RESULT_COLOURS.get(v, "white") for v in df["result"]]
    fig = go.Figure(go.Table(
        columnwidth=[_width(c) for c in df.columns],
        header={"values": [f"<b>{c}</b>" for c in df.columns],
                "align": "left", "fill_color": "#e8eef7", "height": 28},
        cells={"values": cells, "align": "left", "height": 24, "fill_color": [fill]}))
    _layout(fig, title, height=min(50 + 28 + 24 * len(df) + 30, 900))
    fig.update_layout(margin={"l": 20, "r": 20, "t": 50, "b": 10})
    return fig


# What each check counts, for a reader who has not read runtime/sql/checks/.
CHECK_DESCRIPTIONS = {
    "duplicate_keys": "extra rows for the same (ticker, bar start) in the deduplicated table",
    "duplicate_rows": "rows repeated with every column equal",
    "empty_table": "1 when the deduplicated table is empty (nothing would be published)",
    "freshness": "tickers whose latest bar is older than the last completed trading day",
    "missing_session_hours": "regular-session hours of the exchange calendar without a bar",
    "negative_values": "rows with a negative price, volume or trade count",
    "null_values": "rows with a missing value in any column",
    "ohlc_consistency": "rows where low/high do not bound open, close and VWAP (1-cent tolerance)",
    "raw_parquet_row_count": "difference between raw rows and typed Parquet rows",
    "zero_values": "rows with a zero price or volume",
}
_RESULT_COLOURS = {"FAIL": "#f8d7da", "WARN": "#fff3cd"}


def _check_table(df):
    """The latest run as an analyst reads it: verdict first, what was counted, no run columns
    repeated on every row (they are in the title)."""
    import pandas as pd

    def verdict(row) -> str:
        if bool(row["passed"]):
            return "PASS"
        return "FAIL" if row["severity"] == "error" else "WARN"

    return pd.DataFrame({
        "result": [verdict(r) for _, r in df.iterrows()],
        "check": df["check_name"],
        "severity": [f"{s} (blocks publish)" if s == "error" else str(s)
                     for s in df["severity"]],
        "failing rows": df["failing_rows"],
        "what it counts": [CHECK_DESCRIPTIONS.get(str(n), "") for n in df["check_name"]],
    })


def _width(column: str) -> int:
    return {"what it counts": 5, "run": 3, "check": 2, "severity": 2}.get(column, 1)


def _num(value: Any) -> float:
    """Indicator values must be numbers: None/NaN (no bars, one bar) become NaN, shown as blank."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---- page --------------------------------------------------------------------------------------

# Recorded before anything else runs, so the browser test can read every script error from the
# DOM (`data-js-errors` on <html>) without a debugging protocol.
_ERROR_HOOK = """
(function () {
  var errors = [];
  var root = document.documentElement;
  function record(message) {
    errors.push(String(message).slice(0, 500));
    root.setAttribute('data-js-errors', JSON.stringify(errors));
  }
  root.setAttribute('data-js-errors', '[]');
  window.addEventListener('error', function (e) {
    var t = e.target || {};
    record(e.message || ('failed to load ' + (t.src || t.href || '?')));
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    record('unhandled rejection: ' + ((e.reason && e.reason.message) || e.reason));
  });
  var consoleError = console.error;
  console.error = function () {
    record(Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };
})();
"""

_RENDERED_HOOK = """
window.addEventListener('load', function () {
  document.documentElement.setAttribute(
    'data-plots-rendered', String(document.querySelectorAll('.js-plotly-plot .main-svg').length));
});
"""

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 2rem 3rem;
       color: #222; }
header { border-bottom: 1px solid #ddd; margin-bottom: 1rem; }
nav a { margin-right: 1rem; }
.notice { background: #fff4e5; border-left: 4px solid #f0a030; padding: .75rem 1rem; }
.panel { margin: 1rem 0 2rem; }
.panel p.desc { color: #555; margin: .25rem 0; font-size: .9rem; }
.panel .empty { color: #777; font-style: italic; }
.panel .error { color: #a00; white-space: pre-wrap; }
details pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; font-size: .8rem; }
"""


# What an empty panel means, where "no rows in this range" would mislead.
_EMPTY = {
    "dq_failures": "No check has failed in any recorded quality run.",
    "dq_latest": "No quality run recorded yet.",
}


def _section(pr: PanelResult, ticker: Optional[str], figures: List[str]) -> str:
    p = pr.panel
    ident = f"{p.name}-{ticker}" if ticker else p.name
    status = "error" if pr.error else ("data" if pr.rows else "empty")
    parts = [
        f'<section class="panel" id="panel-{html.escape(ident)}" data-panel="{p.name}" '
        f'data-ticker="{html.escape(ticker or "")}" data-rows="{pr.rows}" '
        f'data-status="{status}">',
        f"<p class=\"desc\">{html.escape(p.description)}</p>",
    ]
    if pr.error:
        parts.append(f'<p class="error">This panel failed: {html.escape(pr.error)}</p>')
    elif not pr.rows:
        empty = _EMPTY.get(p.name, f"{p.title}: no rows in this range.")
        parts.append(f'<p class="empty">{html.escape(empty)}</p>')
    else:
        fig = panel_figure(pr)
        div_id = "plot-" + "".join(c if c.isalnum() else "-" for c in ident)
        figures.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                                   config={"displaylogo": False, "responsive": True}))
        parts.append(figures[-1])
    if pr.sql:
        parts.append(f"<details><summary>SQL</summary><pre>{html.escape(pr.sql)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _exchange_time(utc_naive: datetime) -> str:
    local = utc_naive.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(EXCHANGE_TZ))
    return local.strftime("%a %Y-%m-%d %H:%M")


def render(data: ReportData, settings: Settings) -> str:
    """The whole page as one HTML string, plotly.js inlined."""
    from plotly.offline import get_plotlyjs

    figures: List[str] = []
    body: List[str] = []
    fmt = "%Y-%m-%d %H:%M UTC"
    body.append("<header><h1>stockpipe: hourly bars</h1>")
    if data.time_from is not None:
        body.append(
            f"<p>Range: bars starting {_exchange_time(data.time_from)} to "
            f"{_exchange_time(data.time_to)} {EXCHANGE_TZ} ({data.time_from.strftime(fmt)} to "
            f"{data.time_to.strftime(fmt)}): the last {settings.window_days} days ending at the "
            f"latest bar. Charts show bar start times in {EXCHANGE_TZ}; prices in USD; "
            "volatility is annualised. Source: "
            f"<code>{html.escape(settings.prod_latest_view)}</code>.</p>"
        )
    body.append(f"<p>Generated {data.generated_at.strftime(fmt)}.</p>")
    if data.tickers:
        links = " ".join(f'<a href="#ticker-{html.escape(t)}">{html.escape(t)}</a>'
                         for t in data.tickers)
        body.append(f"<nav>Tickers: {links} <a href=\"#quality\">Data quality</a></nav>")
    body.append("</header>")
    if data.notice:
        body.append(f'<p class="notice" id="notice">{html.escape(data.notice)}</p>')
    for ticker in data.tickers:
        body.append(f'<h2 id="ticker-{html.escape(ticker)}">{html.escape(ticker)}</h2>')
        for pr in data.by_ticker.get(ticker, []):
            body.append(f"<h3>{html.escape(pr.panel.title)}</h3>")
            body.append(_section(pr, ticker, figures))
    body.append('<h2 id="quality">Data quality</h2>')
    if data.quality_notice:
        body.append(f'<p class="notice">{html.escape(data.quality_notice)}</p>')
    for pr in data.quality:
        body.append(f"<h3>{html.escape(pr.panel.title)}</h3>")
        body.append(_section(pr, None, figures))

    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        "<title>stockpipe report</title>",
        f"<style>{_CSS}</style>",
        f"<script>{_ERROR_HOOK}</script>",
    ]
    if figures:
        # Inlined once for every figure: the file works offline, with no CDN.
        head.append(f'<script type="text/javascript">{get_plotlyjs()}</script>')
    head.append(f"<script>{_RENDERED_HOOK}</script>")
    head.append("</head>")
    return "\n".join(head + ["<body>"] + body + ["</body>", "</html>"]) + "\n"


def report_target(settings: Settings, out: Optional[Path] = None) -> Path:
    """Where the report goes: `out` (a folder gets report.html) or <home>/reports/report.html."""
    target = Path(out) if out is not None else settings.reports_dir / REPORT_NAME
    if target.is_dir():
        target = target / REPORT_NAME
    return target


def check_writable(target: Path) -> None:
    """Raise StorageError now if `target` cannot be written, before a long run ends in vain."""
    for folder in target.parents:
        if folder.exists():
            if not folder.is_dir():
                raise StorageError(
                    _cannot_write(target, NotADirectoryError(20, f"{folder} is a file"))
                )
            break
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(_cannot_write(target, exc)) from None
    if not os.access(target.parent, os.W_OK | os.X_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise StorageError(_cannot_write(target, PermissionError(13, "Permission denied")))


def _cannot_write(target: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return (
        f"cannot write the report to {target}: {reason}; "
        "pass --out with a writable file or folder"
    )


def build_report(settings: Settings, engine: Engine, out: Optional[Path] = None) -> Path:
    """Write report.html (default under settings.reports_dir) and return its path."""
    target = report_target(settings, out)
    check_writable(target)
    data = collect(settings, engine)
    page = render(data, settings)
    # Written beside the target then renamed, so a reader never sees half a page.
    tmp = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(_cannot_write(target, exc)) from None
    log.info("report written", extra={"report": str(target), "tickers": data.tickers})
    return target

"""HTML of the report: the overview page (one row per ticker, data quality, status) and one page
per ticker with its charts. Pages load plotly.js from the assets folder beside them, once."""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from ..settings import EXCHANGE_TZ, Settings
from .collect import PanelResult, ReportData, TickerSummary
from .figures import CONFIG, daily_specs, panel_spec

# plotly.js's finance bundle (candlestick, scatter, bar: all the pages draw), vendored under
# runtime/report/assets/ (see its README) and written once beside the pages.
PLOTLY_JS = "plotly-finance.min.js"
PLOTLY_SHA256 = "9993f6d57ffd52d7417a9e89b666679ff69078e7c2816b43ab9ecdea9fa4709d"
# The trace types that bundle holds: a figure of any other type would draw nothing.
PLOTLY_TRACES = ("bar", "candlestick", "funnel", "funnelarea", "histogram", "indicator", "ohlc",
                 "pie", "scatter", "waterfall")

# Recorded before anything else runs, so a browser test can read every script error from the
# DOM (`data-js-errors` on <html>) without a debugging protocol.
_ERROR_HOOK = """
(function () {
  var errors = [];
  var root = document.documentElement;
  function record(message) {
    errors.push(String(message).slice(0, 500));
    root.setAttribute('data-js-errors', JSON.stringify(errors));
  }
  window.recordReportError = record;
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

# Draws every figure of the page, then records how many plots exist and when the page was done
# (`data-render-ms`, milliseconds since navigation start: what the load benchmark reads).
_DRAW = """
(function () {
  var root = document.documentElement;
  function done() {
    root.setAttribute('data-plots-rendered',
      String(document.querySelectorAll('.js-plotly-plot .main-svg').length));
    root.setAttribute('data-render-ms', String(Math.round(performance.now())));
  }
  var ids = Object.keys(FIGURES);
  if (!ids.length) { window.addEventListener('load', done); return; }
  if (!window.Plotly) {
    window.recordReportError('plotly.js did not load from ' + PLOTLY_SRC);
    return;
  }
  Promise.all(ids.map(function (id) {
    var f = FIGURES[id];
    return Plotly.newPlot(id, f.data, f.layout, CONFIG);
  })).then(done, function (e) { console.error(e); });
})();
"""

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 2rem 3rem;
       color: #222; }
header { border-bottom: 1px solid #ddd; margin-bottom: 1rem; }
nav a { margin-right: 1rem; }
.notice { background: #fff4e5; border-left: 4px solid #f0a030; padding: .75rem 1rem; }
.panel { margin: 1rem 0 2rem; }
.panel p.desc, p.desc { color: #555; margin: .25rem 0; font-size: .9rem; }
.panel .empty { color: #777; font-style: italic; }
.panel .error { color: #a00; white-space: pre-wrap; }
table.grid { border-collapse: collapse; font-size: .9rem; margin: .5rem 0 1rem; }
table.grid th, table.grid td { border-bottom: 1px solid #e3e3e3; padding: .3rem .6rem;
       text-align: left; vertical-align: middle; }
table.grid th { background: #e8eef7; }
table.grid td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.FAIL td { background: #f8d7da; } tr.WARN td { background: #fff3cd; }
tr.PASS td { background: #e6f4ea; }
.up { color: #137333; } .down { color: #a50e0e; } .behind { color: #a50e0e; font-weight: 600; }
details pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; font-size: .8rem; }
"""

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
    "splits_applied": "stock splits first applied in this run (the history before each one "
                      "was put on the new basis)",
    "unexplained_split_jump": "overnight jumps of a split ratio with no recorded split to "
                              "explain them",
    "zero_values": "rows with a zero price or volume",
}

VOLATILITY_NOTE = (
    "Volatility is intraday: hourly log returns are taken only between bars of the same "
    "exchange session, so overnight, weekend and holiday gaps are left out. The overview's "
    "figure is their sample standard deviation over the range, annualised by sqrt(252 x 15) "
    "(252 sessions, 15 returns in a 16-bar extended session)."
)


def _e(value: Any) -> str:
    return html.escape(str(value))


def cell(value: Any) -> str:
    """A table cell's text: times as recorded (UTC), booleans in lower case."""
    if value is None:
        return ""
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def exchange_time(utc_naive: datetime) -> str:
    local = utc_naive.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(EXCHANGE_TZ))
    return local.strftime("%a %Y-%m-%d %H:%M")


def _script_json(value: Any) -> str:
    """JSON safe inside <script>: no `</script>` can close the element early."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def _page(title: str, body: List[str], figures: Dict[str, Any], plotly_src: str) -> str:
    head = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>",
            f"<script>{_ERROR_HOOK}</script>"]
    if figures:
        # Loaded from the one copy beside the report: offline, cached across pages.
        head.append(f'<script src="{_e(plotly_src)}"></script>')
    head.append("</head>")
    tail = [f"<script>var FIGURES = {_script_json(figures)}; var CONFIG = "
            f"{_script_json(CONFIG)}; var PLOTLY_SRC = {_script_json(plotly_src)};"
            f"{_DRAW}</script>", "</body>", "</html>"]
    return "\n".join(head + ["<body>"] + body + tail) + "\n"


def _sparkline(values: Sequence[float], width: int = 120, height: int = 28) -> str:
    """Closes per session as a small inline SVG line (no script needed)."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 2) / (len(values) - 1)
    points = " ".join(f"{1 + i * step:.1f},{height - 1 - (v - low) / span * (height - 2):.1f}"
                      for i, v in enumerate(values))
    colour = "#137333" if values[-1] >= values[0] else "#a50e0e"
    return (f'<svg class="sparkline" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="closes per session">'
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
            "</svg>")


def _summary_cells(s: TickerSummary) -> List[str]:
    direction = "up" if s.change_abs >= 0 else "down"
    vol = s.volatility_pct
    fresh = f"{exchange_time(s.last_bar)}"
    if s.behind:
        fresh += ' <span class="behind">behind the other tickers</span>'
    return [
        f'<td class="num">{s.last_close:,.2f}</td>',
        f'<td class="num {direction}">{s.change_abs:+,.2f} ({s.change_pct:+.2f} %)</td>',
        f'<td class="num">{s.volume:,.0f}</td>',
        f'<td class="num">{"" if vol is None else f"{vol:.1f} %"}</td>',
        f"<td>{fresh}</td>",
        f"<td>{_sparkline(s.closes)}</td>",
        f'<td class="num">{len(s.sessions)} / {s.bars}</td>',
    ]


_SUMMARY_HEAD = ("<tr><th>ticker</th><th>last close (USD)</th><th>change in range</th>"
                 "<th>volume (shares)</th><th>intraday volatility, annualised</th>"
                 f"<th>latest bar ({EXCHANGE_TZ})</th><th>closes per session</th>"
                 "<th>sessions / bars</th></tr>")


def _range_lines(data: ReportData, settings: Settings) -> List[str]:
    rng = data.range
    fmt = "%Y-%m-%d %H:%M UTC"
    lines = [f"<p>Generated {data.generated_at.strftime(fmt)}.</p>"]
    if rng is not None:
        charts = ("one candle per session (the range is longer than four weeks)" if rng.daily
                  else "hourly bars")
        lines.insert(0, (
            f'<p id="range">Range: exchange days {rng.first_day} to {rng.last_day} '
            f"({EXCHANGE_TZ}, whole sessions; {_e(rng.how)}): bars starting "
            f"{rng.time_from.strftime(fmt)} to {rng.time_to.strftime(fmt)}. Charts show "
            f"{charts} in {EXCHANGE_TZ}; prices in USD. Source: "
            f"<code>{_e(settings.prod_latest_view)}</code>.</p>"))
    return lines


def _quality(data: ReportData) -> List[str]:
    out = ['<h2 id="quality">Data quality</h2>']
    if data.quality_notice:
        out.append(f'<p class="notice">{_e(data.quality_notice)}</p>')
    for pr in data.quality:
        out.append(f"<h3>{_e(pr.panel.title)}</h3>")
        out.append(_table_section(pr))
    return out


def _table_section(pr: PanelResult) -> str:
    p = pr.panel
    status = "error" if pr.error else ("data" if pr.rows else "empty")
    parts = [f'<section class="panel" id="panel-{p.name}" data-panel="{p.name}" '
             f'data-ticker="" data-rows="{pr.rows}" data-status="{status}">',
             f'<p class="desc">{_e(p.description)}</p>']
    if pr.error:
        parts.append(f'<p class="error">This panel failed: {_e(pr.error)}</p>')
    elif not pr.rows:
        empty = {"dq_failures": "No check has failed in any recorded quality run.",
                 "dq_latest": "No quality run recorded yet."}.get(p.name, "No rows.")
        parts.append(f'<p class="empty">{_e(empty)}</p>')
    else:
        parts.append(check_table(pr))
    parts.append(f"<details><summary>SQL</summary><pre>{_e(pr.sql)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def check_columns(pr: PanelResult) -> Tuple[str, List[Tuple[str, List[str]]]]:
    """(caption, [(header, cells)]) of a data-quality table as an analyst reads it."""
    records = pr.result.records()
    if pr.panel.name == "dq_latest":
        first = records[0]
        caption = f"run {cell(first['run_id'])}, {cell(first['run_at'])} UTC"
        columns = [
            ("result", [cell(r["result"]) for r in records]),
            ("check", [cell(r["check_name"]) for r in records]),
            ("severity", [f"{r['severity']} (blocks publish)" if r["severity"] == "error"
                          else cell(r["severity"]) for r in records]),
            ("failing rows", [cell(r["failing_rows"]) for r in records]),
            ("what it counts", [CHECK_DESCRIPTIONS.get(str(r["check_name"]), "")
                                for r in records]),
        ]
        return caption, columns
    names = {"time": "run at (UTC)", "run_id": "run", "check_name": "check",
             "failing_rows": "failing rows"}
    columns = [(names.get(c, c), [cell(r[c]) for r in records]) for c in pr.result.columns]
    return "", columns


def check_table(pr: PanelResult) -> str:
    caption, columns = check_columns(pr)
    results = dict(columns).get("result", [""] * pr.rows)
    rows = []
    for i in range(pr.rows):
        tds = "".join(f"<td>{_e(values[i])}</td>" for _, values in columns)
        rows.append(f'<tr class="{_e(results[i])}">{tds}</tr>')
    head = "".join(f"<th>{_e(h)}</th>" for h, _ in columns)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f'<table class="grid">{cap}<tr>{head}</tr>{"".join(rows)}</table>'


# Status fields the page leaves out: the settings in force are the reader's own, and each
# check's result is in the data-quality section above.
_STATUS_SKIP = ("settings", "checks.checks")


def _flatten(value: Any, prefix: str = "") -> List[Tuple[str, str]]:
    """Nested status values as (dotted key, text) rows; a list of records as one line each."""
    if isinstance(value, dict):
        rows: List[Tuple[str, str]] = []
        for key, item in value.items():
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if dotted not in _STATUS_SKIP:
                rows += _flatten(item, dotted)
        return rows
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) for v in value):
            return [(f"{prefix}[{i}]", ", ".join(f"{k}: {cell(v)}" for k, v in item.items()))
                    for i, item in enumerate(value)]
        return [(prefix, "; ".join(cell(v) for v in value) or "none")]
    return [(prefix, cell(value))]


def _status(data: ReportData) -> List[str]:
    if not data.status:
        return []
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>"
                   for k, v in _flatten(data.status))
    return ['<h2 id="status">Pipeline status</h2>',
            '<p class="desc">As `stockpipe status` reports it when the report was built.</p>',
            f'<table class="grid">{rows}</table>']


def overview_page(data: ReportData, settings: Settings, ticker_href) -> str:
    """report.html: range, one row per ticker linking to its page, data quality, status."""
    body = ["<header><h1>stockpipe: hourly bars</h1>", *_range_lines(data, settings)]
    body.append('<nav><a href="#overview">Overview</a> <a href="#quality">Data quality</a>'
                + (' <a href="#status">Pipeline status</a>' if data.status else "") + "</nav>")
    body.append("</header>")
    if data.notice:
        body.append(f'<p class="notice" id="notice">{_e(data.notice)}</p>')
    if data.summaries:
        body.append('<h2 id="overview">Overview</h2>')
        body.append(f'<p class="desc">{_e(VOLATILITY_NOTE)} Change: last close against the '
                    "range's first open. A ticker whose latest bar is older than another's is "
                    "marked behind.</p>")
        rows = [_SUMMARY_HEAD]
        for t in data.tickers:
            s = data.summaries.get(t)
            if s is None:
                continue
            link = f'<a href="{_e(ticker_href(t))}">{_e(t)}</a>'
            rows.append(f'<tr class="ticker" data-ticker="{_e(t)}"><td>{link}</td>'
                        + "".join(_summary_cells(s)) + "</tr>")
        body.append(f'<table class="grid" id="overview-table">{"".join(rows)}</table>')
        body.append(f"<details><summary>SQL (sessions of every ticker)</summary>"
                    f"<pre>{_e(data.sessions_sql)}</pre></details>")
    body += _quality(data)
    body += _status(data)
    return _page("stockpipe report", body, {}, PLOTLY_JS)


def _chart_section(name: str, ticker: str, rows: int, spec: Optional[Dict], sql: str,
                   description: str, error: Optional[str], figures: Dict[str, Any]) -> str:
    ident = "".join(c if c.isalnum() else "-" for c in f"{name}-{ticker}")
    status = "error" if error else ("data" if rows else "empty")
    parts = [f'<section class="panel" id="panel-{ident}" data-panel="{name}" '
             f'data-ticker="{_e(ticker)}" data-rows="{rows}" data-status="{status}">',
             f'<p class="desc">{_e(description)}</p>']
    if error:
        parts.append(f'<p class="error">This panel failed: {_e(error)}</p>')
    elif not rows:
        parts.append('<p class="empty">No rows in this range.</p>')
    else:
        figures[f"plot-{ident}"] = spec
        parts.append(f'<div id="plot-{ident}" class="chart"></div>')
    if sql:
        parts.append(f"<details><summary>SQL</summary><pre>{_e(sql)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


_DAILY_NOTES = {
    "daily_price": "One candle per exchange session: its first open, highest high, lowest "
                   "low, last close; the line is the session's volume-weighted average price.",
    "daily_volume": "Shares traded per session.",
    "daily_volatility": "Each session's realised volatility: the square root of the sum of its "
                        "squared intraday hourly log returns, annualised by sqrt(252), in %; "
                        "bars: (high - low) / close of the session.",
}


def _split_lines(ticker: str, data: ReportData) -> List[str]:
    """The ticker's stock splits in the range (the dotted lines on its charts)."""
    note = data.splits.note(ticker)
    if data.splits.error:
        return [f'<p class="error" id="splits">{_e(note)}</p>']
    if not note:
        return []
    return [f'<p class="desc" id="splits" data-splits="{len(data.splits.of(ticker))}">'
            f"{_e(note)}</p>"]


def ticker_page(ticker: str, data: ReportData, settings: Settings, overview_href: str,
                neighbours: Tuple[Optional[str], Optional[str]], plotly_src: str,
                ticker_href) -> str:
    """One ticker: its overview row, then price, volume and volatility charts."""
    prev_t, next_t = neighbours
    links = [f'<a href="{_e(overview_href)}">&larr; overview</a>']
    if prev_t:
        links.append(f'<a href="{_e(ticker_href(prev_t))}">&lsaquo; {_e(prev_t)}</a>')
    if next_t:
        links.append(f'<a href="{_e(ticker_href(next_t))}">{_e(next_t)} &rsaquo;</a>')
    body = [f'<header><h1 id="ticker-{_e(ticker)}">{_e(ticker)}</h1>',
            *_range_lines(data, settings), f"<nav>{' '.join(links)}</nav></header>"]
    summary = data.summaries.get(ticker)
    if summary is not None:
        body.append(f'<table class="grid">{_SUMMARY_HEAD}<tr><td>{_e(ticker)}</td>'
                    + "".join(_summary_cells(summary)) + "</tr></table>")
        body.append(f'<p class="desc">{_e(VOLATILITY_NOTE)}</p>')
    splits = data.splits.of(ticker)
    body += _split_lines(ticker, data)
    figures: Dict[str, Any] = {}
    if data.range is not None and data.range.daily:
        for name, spec in daily_specs(ticker, summary.sessions if summary else [], splits):
            body.append(_chart_section(name, ticker, len(summary.sessions) if summary else 0,
                                       spec, data.sessions_sql, _DAILY_NOTES[name], None,
                                       figures))
    else:
        for pr in data.by_ticker.get(ticker, []):
            spec = panel_spec(pr, splits) if pr.rows and not pr.error else None
            body.append(_chart_section(pr.panel.name, ticker, pr.rows, spec, pr.sql,
                                       pr.panel.description, pr.error, figures))
    return _page(f"stockpipe report: {ticker}", body, figures, plotly_src)

"""Plotly figures for the report and the notebooks, built as plain dicts (`{"data", "layout"}`):
the report writes them straight into its pages as JSON, with no per-figure validation cost;
`panel_figure` wraps one in a plotly Figure for a notebook."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence
from zoneinfo import ZoneInfo

from ..settings import EXCHANGE_TZ
from .collect import PanelResult, session_volatility_pct
from .span import as_utc_naive

Spec = Dict[str, Any]
TIME_TITLE = f"bar start ({EXCHANGE_TZ}; closed nights, weekends and holidays skipped)"
DAY_TITLE = f"exchange session ({EXCHANGE_TZ}; weekends and holidays skipped)"
CONFIG = {"displaylogo": False, "responsive": True}


def _zone() -> ZoneInfo:
    return ZoneInfo(EXCHANGE_TZ)


def _num(value: Any) -> Optional[float]:
    """A JSON-safe number: None, NaN and infinities become null (a gap in the line)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def exchange_times(values: Iterable[Any]) -> List[datetime]:
    """Bar starts (naive UTC from the engine) as naive exchange-time datetimes."""
    zone = _zone()
    return [as_utc_naive(v).replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)
            for v in values]


def _text(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def closed_weekdays(times: Iterable[Any]) -> List[str]:
    """Weekdays between the first and last bar with no bar at all (exchange holidays such as
    Thanksgiving), as 'YYYY-MM-DD'."""
    days = sorted({(t.date() if isinstance(t, datetime) else t) for t in times})
    if not days:
        return []
    traded = set(days)
    out, day = [], days[0]
    while day <= days[-1]:
        if day.weekday() < 5 and day not in traded:
            out.append(f"{day:%Y-%m-%d}")
        day += timedelta(days=1)
    return out


def hourly_breaks(times: Sequence[datetime]) -> List[Dict[str, Any]]:
    """Skip nights, weekends and holidays on the time axis when no bar falls in them (stocks,
    not crypto), so the line of a held-over value is not drawn across a closed market."""
    if not times:
        return []
    breaks: List[Dict[str, Any]] = []
    if max(t.weekday() for t in times) < 5:
        breaks.append({"bounds": ["sat", "mon"]})
    hours = [t.hour for t in times]
    # Extended hours: bars start 04:00-19:00 exchange time, so 20:00-04:00 holds none.
    if min(hours) >= 4 and max(hours) <= 19:
        breaks.append({"bounds": [20, 4], "pattern": "hour"})
        holidays = closed_weekdays(times)
        if holidays:
            # The session hours of each closed weekday (its night is already skipped).
            breaks.append({"values": [f"{d} 04:00" for d in holidays],
                           "dvalue": 16 * 3600 * 1000})
    return breaks


def daily_breaks(days: Sequence[date]) -> List[Dict[str, Any]]:
    """Weekends and exchange holidays off a daily axis."""
    breaks: List[Dict[str, Any]] = [{"bounds": ["sat", "mon"]}]
    holidays = closed_weekdays(days)
    if holidays:
        breaks.append({"values": holidays})
    return breaks


def _layout(title: str, height: int = 420, **extra: Any) -> Dict[str, Any]:
    layout = {
        "title": {"text": title, "x": 0.01},
        "height": height,
        "margin": {"l": 60, "r": 60, "t": 50, "b": 40},
        # plotly.js's own look (white, light grid); a named template would need Python to
        # resolve it, and the report's pages get their figures from JSON.
        "plot_bgcolor": "white",
        "xaxis": {"gridcolor": "#ebebeb"},
        "yaxis": {"gridcolor": "#ebebeb"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1,
                   "xanchor": "right"},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _columns(pr: PanelResult) -> Dict[str, List[Any]]:
    cols = pr.result.columns
    return {c: [row[i] for row in pr.result.rows] for i, c in enumerate(cols)}


def _price(ticker: str, x: List[str], c: Dict[str, List[Any]], title: str, axis: Dict) -> Spec:
    data = [
        {"type": "candlestick", "x": x, "open": [_num(v) for v in c["open"]],
         "high": [_num(v) for v in c["high"]], "low": [_num(v) for v in c["low"]],
         "close": [_num(v) for v in c["close"]], "name": "OHLC"},
        {"type": "scatter", "mode": "lines", "x": x, "y": [_num(v) for v in c["vwap"]],
         "name": "VWAP", "line": {"width": 1.5, "color": "#1f77b4"}},
    ]
    return {"data": data, "layout": _layout(
        f"{ticker}: {title}", xaxis={**axis, "rangeslider": {"visible": False}},
        yaxis={"title": {"text": "price (USD)"}})}


def _volatility_layout(ticker: str, title: str, axis: Dict, line_title: str,
                       bar_title: str) -> Dict[str, Any]:
    # Both from zero: a bar drawn up from an axis starting at 0.05 % exaggerates it.
    return _layout(
        f"{ticker}: {title}", xaxis=axis,
        yaxis={"title": {"text": line_title}, "rangemode": "tozero", "ticksuffix": " %"},
        yaxis2={"title": {"text": bar_title}, "rangemode": "tozero", "ticksuffix": " %",
                "tickformat": ".2f", "showgrid": False, "overlaying": "y", "side": "right"})


SPLIT_COLOUR = "#6a3d9a"


def mark_splits(spec: Spec, marks: Sequence[tuple]) -> Spec:
    """A dotted vertical line and a label per (x, label) on the figure: where a stock split
    executed and the bars before it were put on the new basis."""
    if not marks:
        return spec
    layout = spec["layout"]
    layout["shapes"] = [*layout.get("shapes", []), *(
        {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
         "line": {"color": SPLIT_COLOUR, "width": 1.5, "dash": "dot"}} for x, _ in marks)]
    layout["annotations"] = [*layout.get("annotations", []), *(
        {"x": x, "xref": "x", "y": 1, "yref": "paper", "yanchor": "bottom", "xanchor": "left",
         "text": label, "showarrow": False, "font": {"color": SPLIT_COLOUR, "size": 11}}
        for x, label in marks)]
    return spec


def _split_label(split: Dict[str, Any]) -> str:
    return f"{split['ratio_text']} split"


def panel_spec(pr: PanelResult, splits: Sequence[Dict[str, Any]] = ()) -> Spec:
    """The figure for one hourly panel result (price, volume or volatility; at least one row),
    each of `splits` (splits.sql rows) marked at its first bar on the new basis."""
    spec = _hourly_spec(pr)
    return mark_splits(spec, [(_text(t), _split_label(s))
                              for t, s in zip(exchange_times(s["time"] for s in splits), splits)])


def _hourly_spec(pr: PanelResult) -> Spec:
    name = pr.panel.name
    c = _columns(pr)
    times = exchange_times(c["time"])
    x = [_text(t) for t in times]
    axis = {"title": {"text": TIME_TITLE}, "rangebreaks": hourly_breaks(times)}
    if name == "price":
        return _price(pr.ticker, x, c, pr.panel.title, axis)
    if name == "volume":
        data = [
            {"type": "bar", "x": x, "y": [_num(v) for v in c["volume"]], "name": "volume",
             "marker": {"color": "#9ecae1"}},
            {"type": "scatter", "mode": "lines", "x": x,
             "y": [_num(v) for v in c["volume_ma_16"]], "name": "16-bar moving average",
             "line": {"color": "#d62728"}},
        ]
        return {"data": data, "layout": _layout(f"{pr.ticker}: {pr.panel.title}", xaxis=axis,
                                                yaxis={"title": {"text": "shares"}})}
    if name == "volatility":
        data = [
            {"type": "scatter", "mode": "lines", "x": x,
             "y": [_num(v) for v in c["volatility_ann_pct"]],
             "name": "intraday volatility, rolling 15 returns, annualised x sqrt(252x15) (%)",
             # A session's first bar has no intraday return: bridge it, not break the line.
             "connectgaps": True},
            {"type": "bar", "x": x, "y": [_num(v) for v in c["range_pct"]], "yaxis": "y2",
             "name": "high-low range (% of close)", "marker": {"color": "#fdae6b"},
             "opacity": 0.6},
        ]
        return {"data": data, "layout": _volatility_layout(
            pr.ticker, pr.panel.title, axis, "intraday volatility, annualised (%)",
            "high-low range per bar (% of close)")}
    raise ValueError(f"no chart for panel {name!r}; charts are price, volume and volatility")


def daily_specs(ticker: str, sessions: List[Dict[str, Any]],
                splits: Sequence[Dict[str, Any]] = ()) -> List[tuple]:
    """(name, spec) for the daily candles, daily volume and session volatility of one ticker,
    each of `splits` marked on its execution day."""
    specs = _daily_specs(ticker, sessions)
    marks = [(str(s["split_day"]), _split_label(s)) for s in splits]
    return [(name, mark_splits(spec, marks)) for name, spec in specs]


def _daily_specs(ticker: str, sessions: List[Dict[str, Any]]) -> List[tuple]:
    days = [date.fromisoformat(str(s["session_day"])) for s in sessions]
    x = [f"{d:%Y-%m-%d}" for d in days]
    axis = {"title": {"text": DAY_TITLE}, "rangebreaks": daily_breaks(days), "type": "date"}
    c = {k: [s[k] for s in sessions] for k in ("open", "high", "low", "close", "vwap",
                                               "volume")}
    price = _price(ticker, x, c, "Price: daily OHLC with VWAP (one candle per session)", axis)
    volume = {"data": [{"type": "bar", "x": x, "y": [_num(v) for v in c["volume"]],
                        "name": "volume per session", "marker": {"color": "#9ecae1"}}],
              "layout": _layout(f"{ticker}: Volume per session", xaxis=axis,
                                yaxis={"title": {"text": "shares"}})}
    ranges = [(_num(s["high"]) - _num(s["low"])) / _num(s["close"]) * 100.0
              if _num(s["close"]) else None for s in sessions]
    volatility = {
        "data": [
            {"type": "scatter", "mode": "lines+markers", "x": x,
             "y": [_num(session_volatility_pct(s)) for s in sessions],
             "name": "session realised volatility, annualised x sqrt(252) (%)"},
            {"type": "bar", "x": x, "y": ranges, "yaxis": "y2",
             "name": "high-low range of the session (% of close)",
             "marker": {"color": "#fdae6b"}, "opacity": 0.6},
        ],
        "layout": _volatility_layout(ticker, "Volatility per session (intraday)", axis,
                                     "realised volatility, annualised (%)",
                                     "high-low range (% of close)"),
    }
    return [("daily_price", price), ("daily_volume", volume), ("daily_volatility", volatility)]


def panel_figure(pr: PanelResult, splits: Sequence[Dict[str, Any]] = ()):
    """A plotly Figure of `panel_spec` (validated by plotly), for a notebook: the report's
    chart, split markers included."""
    import plotly.graph_objects as go

    return go.Figure(panel_spec(pr, splits))

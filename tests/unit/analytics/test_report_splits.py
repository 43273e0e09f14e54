"""The report marks stock splits: a line per split on each chart of the ticker (hourly and daily
ranges), and a sentence naming them; a production copy without split_factor (published before
splits were known) still gets its charts, with a note instead of markers."""

import json
import re
from datetime import date, datetime, timedelta

from runtime import report
from tests.unit.analytics.conftest import Bar, load_bars


def figures_of(page: str) -> dict:
    return json.loads(re.search(r"var FIGURES = (\{.*?\}); var CONFIG", page, re.S).group(1))


def marks(spec: dict) -> list:
    """(x of the line, label) of every split marker on one figure."""
    layout = spec["layout"]
    lines = [s["x0"] for s in layout.get("shapes", []) if s["x0"] == s["x1"]]
    labels = [a["text"] for a in layout.get("annotations", [])]
    return list(zip(lines, labels))


def _two_days():
    """AAPL 2-for-1 on Tue 2026-11-17 (factor 2 on the 16th), MSFT without a split: three bars a
    day from 14:00 UTC (09:00 in New York)."""
    bars = []
    for day, factor in ((16, 2.0), (17, 1.0)):
        for h in range(3):
            t = datetime(2026, 11, day, 14 + h)
            bars.append(Bar("AAPL", t, 50.0, 51.0, 49.0, 50.5, 200.0, 50.2,
                            split_factor=factor))
            bars.append(Bar("MSFT", t, 400.0, 401.0, 399.0, 400.5, 5.0, 400.2))
    return bars


def test_hourly_charts_mark_the_split_and_the_page_names_it(settings, engine):
    load_bars(settings, engine, _two_days())
    path = report.build_report(settings, engine, days=2)
    folder = path.parent / "report_files"
    aapl = (folder / "AAPL.html").read_text("utf-8")
    assert ('Stock splits in this range: 2-for-1 on 2026-11-17. Prices and volumes before each '
            "are on the new basis") in aapl
    figures = figures_of(aapl)
    assert len(figures) == 3  # price, volume, volatility
    for spec in figures.values():
        # at the first bar on the new basis, in exchange time as the x values are
        assert marks(spec) == [("2026-11-17 09:00", "2-for-1 split")]
        assert "2026-11-17 09:00" in spec["data"][0]["x"]
    msft = (folder / "MSFT.html").read_text("utf-8")
    assert 'id="splits"' not in msft
    assert all(marks(spec) == [] for spec in figures_of(msft).values())


def test_daily_charts_mark_the_split_on_its_execution_day(settings, engine):
    bars, day = [], date(2026, 9, 1)
    while day <= date(2026, 10, 26):  # longer than the hourly limit: one candle per session
        if day.weekday() < 5:
            factor = 0.1 if day < date(2026, 10, 5) else 1.0  # 1-for-10 on Mon 2026-10-05
            bars.append(Bar("AAPL", datetime(day.year, day.month, day.day, 14), 10.0, 11.0,
                            9.0, 10.5, 100.0, 10.2, split_factor=factor))
        day += timedelta(days=1)
    load_bars(settings, engine, bars)
    data = report.collect(settings, engine)
    assert data.range.daily
    assert [(s["split_day"], s["ratio_text"]) for s in data.splits.of("AAPL")] == [
        ("2026-10-05", "1-for-10")]
    page = (report.build_report(settings, engine).parent / "report_files" / "AAPL.html"
            ).read_text("utf-8")
    figures = figures_of(page)
    assert sorted(figures) == ["plot-daily-price-AAPL", "plot-daily-volatility-AAPL",
                               "plot-daily-volume-AAPL"]
    for spec in figures.values():
        assert marks(spec) == [("2026-10-05", "1-for-10 split")]


def test_split_markers_are_figures_plotly_accepts(settings, engine):
    import plotly.graph_objects as go

    load_bars(settings, engine, _two_days())
    data = report.collect(settings, engine, days=2)
    price = [pr for pr in data.by_ticker["AAPL"] if pr.panel.name == "price"][0]
    fig = go.Figure(report.panel_spec(price, data.splits.of("AAPL")))  # validates every key
    (line,) = fig.layout.shapes
    assert (line.x0, line.yref, line.line.dash) == ("2026-11-17 09:00", "paper", "dot")
    assert fig.layout.annotations[0].text == "2-for-1 split"


def test_a_production_copy_without_split_factor_keeps_its_charts_and_says_why_no_markers(
        settings, engine):
    load_bars(settings, engine, _two_days())
    # as a copy published before splits were known: the same bars, no split_factor column
    engine.execute(f"CREATE OR REPLACE VIEW {settings.prod_latest_view} AS SELECT ticker, "
                   "bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions, "
                   "ingested_at, day_hour_partition, day_partition FROM custom_bars")
    page = (report.build_report(settings, engine, days=2).parent / "report_files" / "AAPL.html"
            ).read_text("utf-8")
    assert "The split markers could not be read:" in page and "split_factor" in page
    assert page.count('data-status="data"') == 3
    assert all(marks(spec) == [] for spec in figures_of(page).values())


def test_read_splits_gives_each_tickers_splits_and_the_sentence_its_page_shows(settings,
                                                                               engine):
    load_bars(settings, engine, _two_days())
    found = report.read_splits(settings, engine, datetime(2026, 11, 16),
                               datetime(2026, 11, 17, 23, 59, 59), ["AAPL", "MSFT"])
    assert found.error is None and "split_factor" in found.sql
    assert [(s["split_day"], s["ratio_text"], s["ratio"]) for s in found.of("AAPL")] == [
        ("2026-11-17", "2-for-1", 2.0)]
    assert found.note("AAPL") == (
        "Stock splits in this range: 2-for-1 on 2026-11-17. Prices and volumes before each are "
        "on the new basis, as the data provider's adjusted bars give them; the dotted lines on "
        "the charts mark them.")
    # a ticker without a split (or no ticker: a panel across tickers) has nothing to mark
    assert (found.of("MSFT"), found.note("MSFT"), found.of(None)) == ([], "", [])
    # a range that ends before the split's first bar on the new basis marks nothing
    before = report.read_splits(settings, engine, datetime(2026, 11, 16),
                                datetime(2026, 11, 16, 23, 59, 59), ["AAPL"])
    assert (before.error, before.of("AAPL"), before.note("AAPL")) == (None, [], "")


def test_read_splits_keeps_a_failed_query_as_the_reason_no_ticker_is_marked(settings, engine):
    load_bars(settings, engine, _two_days())
    engine.execute(f"CREATE OR REPLACE VIEW {settings.prod_latest_view} AS SELECT ticker, "
                   "bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions, "
                   "ingested_at, day_hour_partition, day_partition FROM custom_bars")
    found = report.read_splits(settings, engine, datetime(2026, 11, 16),
                               datetime(2026, 11, 17, 23, 59, 59), ["AAPL", "MSFT"])
    assert "split_factor" in found.error
    assert found.of("AAPL") == []
    for ticker in ("AAPL", "MSFT"):
        assert found.note(ticker) == f"The split markers could not be read: {found.error}"


def test_panel_figure_for_a_notebook_carries_the_reports_split_markers(settings, engine):
    load_bars(settings, engine, _two_days())
    data = report.collect(settings, engine, days=2)
    for ticker, want in (("AAPL", [("2026-11-17 09:00", "2-for-1 split")]), ("MSFT", [])):
        price = [pr for pr in data.by_ticker[ticker] if pr.panel.name == "price"][0]
        fig = report.panel_figure(price, data.splits.of(ticker)).to_dict()
        assert marks(fig) == want
        # the figure the ticker's report page draws, as plotly validated it
        spec = report.panel_spec(price, data.splits.of(ticker))
        assert fig["layout"].get("shapes", []) == spec["layout"].get("shapes", [])
        assert fig["layout"].get("annotations", []) == spec["layout"].get("annotations", [])
    # without splits the notebook's figure is the unmarked chart it always drew
    assert marks(report.panel_figure(price).to_dict()) == []

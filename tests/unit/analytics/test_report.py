"""The report from the fixture data (conftest.py): the overview page, one page per ticker, a
single plotly.js beside them, the chosen range in whole exchange days, and the empty cases."""

import math
import re
import statistics
import sys
import types
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest

from runtime import report
from runtime.errors import ConfigError
from tests.unit.analytics.conftest import Bar, load_bars


class Refs(HTMLParser):
    """Tag attributes that load or link something, and the overview table's ticker rows."""

    def __init__(self):
        super().__init__()
        self.refs = []
        self.rows = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.refs += [(tag, k, v) for k, v in attrs if k in ("src", "href") and
                      not (v or "").startswith("#")]
        if tag == "tr" and "ticker" in (a.get("class") or ""):
            self.rows.append(a["data-ticker"])


START = datetime(2026, 11, 16, 14, 0)
LAST = START + timedelta(hours=19)
INTRADAY_BARS = [*range(1, 15), *range(16, 20)]


def sections(page: str):
    """(panel, ticker, rows, status) of every panel section in a page."""
    return re.findall(
        r'data-panel="(\w+)" data-ticker="([^"]*)" data-rows="(\d+)" data-status="(\w+)"', page
    )


def parse(page: str) -> Refs:
    refs = Refs()
    refs.feed(page)
    return refs


def test_overview_links_one_page_per_ticker_and_plotly_is_written_once_beside_them(
        loaded, settings):
    path = report.build_report(settings, loaded)
    assert path == settings.reports_dir / "report.html"
    folder = settings.reports_dir / "report_files"
    assert sorted(p.name for p in folder.iterdir()) == ["AAPL.html", "MSFT.html",
                                                       "plotly-finance.min.js"]
    overview = parse(path.read_text("utf-8"))
    assert overview.rows == ["AAPL", "MSFT"]
    assert ("a", "href", "report_files/AAPL.html") in overview.refs
    assert not [r for r in overview.refs if r[0] == "script"]  # the overview needs no plotly
    for ticker in ("AAPL", "MSFT"):
        page = (folder / f"{ticker}.html").read_text("utf-8")
        refs = parse(page).refs
        assert ("script", "src", "plotly-finance.min.js") in refs
        assert ("a", "href", "../report.html") in refs
        assert "Plotly.newPlot" in page and len(page) < 200_000  # the library is not inlined
        assert all(not v.startswith(("http:", "https:", "//")) for _, _, v in refs)  # offline
    js = (folder / "plotly-finance.min.js").read_bytes()
    assert js.startswith(b"/**\n* plotly.js (finance - minified) v4.1.0")


def test_the_vendored_plotly_bundle_is_the_recorded_one_and_holds_every_trace_drawn(
        loaded, settings):
    import hashlib
    import json
    from importlib import resources

    from runtime.report import pages

    bundle = resources.files("runtime").joinpath("report", "assets", pages.PLOTLY_JS)
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == pages.PLOTLY_SHA256
    drawn = set()
    for days in (2, None):  # hourly charts, and (all data) the same range's pages again
        report.build_report(settings, loaded, days=days)
        for page in (settings.reports_dir / "report_files").glob("*.html"):
            text = page.read_text("utf-8")
            figures = json.loads(re.search(r"var FIGURES = (\{.*?\}); var CONFIG", text,
                                           re.S).group(1).replace("<\\/", "</"))
            drawn |= {trace["type"] for f in figures.values() for trace in f["data"]}
    specs = report.daily_specs("AAPL", report.collect(settings, loaded).summaries["AAPL"]
                               .sessions)
    drawn |= {trace["type"] for _, spec in specs for trace in spec["data"]}
    assert drawn == {"candlestick", "scatter", "bar"}
    assert drawn <= set(pages.PLOTLY_TRACES)


def test_ticker_pages_draw_every_hourly_panel_with_the_tickers_rows(loaded, settings):
    report.build_report(settings, loaded, days=2)
    folder = settings.reports_dir / "report_files"
    aapl = sections((folder / "AAPL.html").read_text("utf-8"))
    msft = sections((folder / "MSFT.html").read_text("utf-8"))
    assert aapl == [("price", "AAPL", "20", "data"), ("volume", "AAPL", "20", "data"),
                    ("volatility", "AAPL", "20", "data")]
    assert msft == [("price", "MSFT", "3", "data"), ("volume", "MSFT", "3", "data"),
                    ("volatility", "MSFT", "3", "data")]


def test_overview_row_has_close_change_volume_intraday_volatility_and_freshness(loaded,
                                                                               settings):
    data = report.collect(settings, loaded, days=2)
    aapl, msft = data.summaries["AAPL"], data.summaries["MSFT"]
    last = 100 * math.exp(0.01)
    assert aapl.last_close == pytest.approx(last)
    assert aapl.change_abs == pytest.approx(last - 99.0)
    assert aapl.change_pct == pytest.approx((last / 99.0 - 1) * 100)
    assert aapl.volume == 39000.0
    returns = [0.01 if i % 2 else -0.01 for i in INTRADAY_BARS]
    # the same number as the stats panel: intraday returns only, x sqrt(252 x 15)
    assert aapl.volatility_pct == pytest.approx(
        statistics.stdev(returns) * math.sqrt(252 * 15) * 100)
    assert aapl.last_bar == LAST and not aapl.behind
    assert msft.last_bar == START + timedelta(hours=2) and msft.behind
    assert len(aapl.closes) == 2  # one close per session: the sparkline's points
    page = report.build_report(settings, loaded, days=2).read_text("utf-8")
    assert "Tue 2026-11-17 04:00" in page  # AAPL's latest bar in exchange time
    assert "behind the other tickers" in page
    assert page.count('<svg class="sparkline"') == 1  # MSFT has a single session: no line


def test_range_is_whole_exchange_days_chosen_by_days_not_by_the_last_run(loaded, settings):
    settings = settings.replace(window_days=1)  # the last run's window plays no part
    data = report.collect(settings, loaded, days=2)
    assert (data.range.first_day, data.range.last_day) == (date(2026, 11, 16),
                                                           date(2026, 11, 17))
    # midnight to midnight in New York (EST, UTC-5): the first session is not cut
    assert data.time_from == datetime(2026, 11, 16, 5, 0)
    assert data.time_to == datetime(2026, 11, 18, 4, 59, 59)
    whole = report.collect(settings, loaded)
    assert whole.range.first_day == date(2026, 11, 9)  # the week-old AAPL bar
    assert whole.range.how == "all published data"


def test_from_and_to_choose_days_and_tickers_choose_pages(loaded, settings):
    data = report.collect(settings, loaded, date_from=date(2026, 11, 17),
                          date_to=date(2026, 11, 17))
    assert data.tickers == ["AAPL"]  # MSFT has no bar that day
    assert data.summaries["AAPL"].bars == 5
    only = report.collect(settings, loaded, tickers=["msft"], days=2)
    assert only.tickers == ["MSFT"] and list(only.summaries) == ["MSFT"]


def test_a_ticker_without_bars_in_the_range_is_an_error_naming_it(loaded, settings):
    with pytest.raises(ConfigError, match="no bars for MSFT between 2026-11-17 and 2026-11-17; "
                                          "tickers with bars there: AAPL"):
        report.collect(settings, loaded, tickers=["MSFT"], date_from=date(2026, 11, 17))


def test_a_range_without_published_bars_is_an_error_naming_what_there_is(loaded, settings):
    with pytest.raises(ConfigError, match="no published bars between 2026-12-01 and "
                                          "2026-12-05: the production view holds 2026-11-09 "
                                          "to 2026-11-17"):
        report.collect(settings, loaded, date_from=date(2026, 12, 1), date_to=date(2026, 12, 5))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"days": 3, "date_from": date(2026, 11, 1)}, "either --days or --from/--to"),
    ({"date_from": date(2026, 11, 17), "date_to": date(2026, 11, 16)}, "after --to"),
    ({"days": 0}, "between 1 and 3660"),
])
def test_contradictory_range_options_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        report.resolve_range(START, LAST, **kwargs)


def test_summer_days_start_at_midnight_new_york_daylight_time():
    rng = report.resolve_range(datetime(2026, 7, 1, 13), datetime(2026, 7, 2, 23), days=1)
    assert (rng.first_day, rng.time_from, rng.time_to) == (
        date(2026, 7, 2), datetime(2026, 7, 2, 4), datetime(2026, 7, 3, 3, 59, 59))
    assert not rng.daily


def _long_history():
    """AAPL, one 2-bar session every weekday for 8 weeks (more than the hourly limit)."""
    bars, day = [], date(2026, 9, 1)
    while day <= date(2026, 10, 26):
        if day.weekday() < 5:
            for h, close in ((14, 100.0), (15, 100.0 * math.exp(0.02))):
                t = datetime(day.year, day.month, day.day, h)
                bars.append(Bar("AAPL", t, 100.0, close + 1, 99.0, close, 10.0, close))
        day += timedelta(days=1)
    return bars


def test_a_long_range_draws_one_candle_per_session(settings, engine):
    load_bars(settings, engine, _long_history())
    path = report.build_report(settings, engine)
    page = (path.parent / "report_files" / "AAPL.html").read_text("utf-8")
    found = sections(page)
    assert [f[0] for f in found] == ["daily_price", "daily_volume", "daily_volatility"]
    assert {f[2] for f in found} == {"40"}  # 40 weekdays, one row each
    assert "one candle per session" in page
    data = report.collect(settings, engine)
    assert data.range.daily and data.by_ticker == {}  # no hourly queries for a long range
    (session,) = data.summaries["AAPL"].sessions[:1]
    # one intraday return of 0.02 per session: sqrt(0.02^2 x 252) = 31.75 %
    assert report.collect_module.session_volatility_pct(session) == pytest.approx(
        0.02 * math.sqrt(252) * 100)
    specs = dict(report.daily_specs("AAPL", data.summaries["AAPL"].sessions))
    assert specs["daily_price"]["data"][0]["type"] == "candlestick"
    assert len(specs["daily_price"]["data"][0]["x"]) == 40


def test_progress_reports_each_stage(loaded, settings):
    seen = []
    report.build_report(settings, loaded, days=2, progress=seen.append)
    assert seen[0] == "report: reading sessions of 2 ticker(s), 2026-11-16 to 2026-11-17"
    assert "report: page 2/2 MSFT" in seen


def test_pages_of_tickers_no_longer_chosen_are_removed(loaded, settings):
    report.build_report(settings, loaded, days=2)
    report.build_report(settings, loaded, days=2, tickers=["AAPL"])
    folder = settings.reports_dir / "report_files"
    assert sorted(p.name for p in folder.iterdir()) == ["AAPL.html", "plotly-finance.min.js"]


def test_report_without_a_production_view_says_the_first_run_failed_checks(checks_only,
                                                                          settings):
    page = report.build_report(settings, checks_only).read_text("utf-8")
    assert "No production data yet: the view stock_aggregate_prod_latest does not exist" in page
    assert "first run probably failed its checks" in page
    # The check results are still shown: they say why nothing was published.
    assert {(p, rows) for p, _, rows, _ in sections(page)} == {("dq_latest", "3"),
                                                               ("dq_failures", "2")}
    assert not (settings.reports_dir / "report_files" / "plotly-finance.min.js").exists()


def test_report_with_an_empty_production_view_says_there_is_nothing_to_chart(empty_view,
                                                                             settings):
    page = report.build_report(settings, empty_view).read_text("utf-8")
    assert "has no rows: nothing to chart yet" in page
    assert "No check results yet" in page
    assert sections(page) == []


def test_report_with_no_tables_at_all_explains_both_gaps(settings, engine, tmp_path):
    path = report.build_report(settings, engine, tmp_path / "out" / "r.html")
    page = path.read_text("utf-8")
    assert path == tmp_path / "out" / "r.html"
    assert "No production data yet: the view stock_aggregate_prod_latest does not exist" in page
    assert "No check results yet" in page
    assert sections(page) == []


def test_report_out_may_name_a_folder_and_its_pages_go_beside_it(loaded, settings, tmp_path):
    assert report.build_report(settings, loaded, tmp_path) == tmp_path / "report.html"
    assert (tmp_path / "report_files" / "AAPL.html").is_file()


def test_latest_checks_table_shows_verdicts_colours_and_what_each_check_counts(loaded,
                                                                              settings):
    data = report.collect(settings, loaded)
    latest = [pr for pr in data.quality if pr.panel.name == "dq_latest"][0]
    caption, columns = report.check_columns(latest)
    assert caption == "run r2, 2026-11-21 12:00:00 UTC"
    assert [h for h, _ in columns] == ["result", "check", "severity", "failing rows",
                                       "what it counts"]
    assert [c for _, c in columns][:4] == [
        ["WARN", "PASS", "PASS"],
        ["freshness", "duplicate_keys", "null_values"],
        ["warning", "error (blocks publish)", "error (blocks publish)"],
        ["1", "0", "0"],
    ]
    assert columns[4][1][0] == ("tickers whose latest bar is older than the last completed "
                                "trading day")
    page = report.build_report(settings, loaded).read_text("utf-8")
    assert '<tr class="WARN"><td>WARN</td><td>freshness</td>' in page
    assert '<tr class="FAIL"><td>2026-11-20 12:00:00</td><td>FAIL</td>' in page  # history
    assert "tr.FAIL td { background: #f8d7da; }" in page


def test_failed_checks_history_keeps_utc_times(loaded, settings):
    data = report.collect(settings, loaded)
    failures = [pr for pr in data.quality if pr.panel.name == "dq_failures"][0]
    _, columns = report.check_columns(failures)
    assert columns[0][0] == "run at (UTC)"
    # recorded 12:00 UTC: not shifted to 07:00 New York time like the charts' bar starts
    assert columns[0][1] == ["2026-11-21 12:00:00", "2026-11-20 12:00:00"]


def test_status_section_shows_what_collect_status_returns_when_it_exists(loaded, settings,
                                                                         monkeypatch):
    fake = types.ModuleType("runtime.status")
    fake.collect_status = lambda s, e: {
        "state": "stale", "problems": ["no bars since the 2026-11-20 session for MSFT"],
        "last_publish": {"table": "stock_aggregate_prod_x", "published_at": "2026-11-21"},
        "freshness": {"tickers": [{"ticker": "MSFT", "current": False}]},
        "settings": {"home": "/somewhere"}}
    monkeypatch.setitem(sys.modules, "runtime.status", fake)
    monkeypatch.setattr("runtime.status", fake, raising=False)
    page = report.build_report(settings, loaded).read_text("utf-8")
    assert '<h2 id="status">Pipeline status</h2>' in page
    for row in ("<tr><th>state</th><td>stale</td></tr>",
                "<tr><th>problems</th><td>no bars since the 2026-11-20 session for MSFT</td></tr>",
                "<tr><th>last_publish.published_at</th><td>2026-11-21</td></tr>",
                "<tr><th>freshness.tickers[0]</th><td>ticker: MSFT, current: false</td></tr>"):
        assert row in page, row
    assert "/somewhere" not in page  # the settings in force are left out


def test_without_a_status_module_the_page_leaves_the_section_out(loaded, settings,
                                                                 monkeypatch):
    import runtime

    monkeypatch.setitem(sys.modules, "runtime.status", None)  # import now raises ImportError
    monkeypatch.delattr(runtime, "status", raising=False)  # as if never imported
    assert report.status_section(settings, loaded) is None
    assert 'id="status"' not in report.build_report(settings, loaded).read_text("utf-8")


def test_closed_weekdays_are_the_holidays_not_the_weekends():
    import pandas as pd

    # Wed 2026-11-25, (Thanksgiving), Fri 27, (weekend), Mon 30
    times = pd.Series(pd.to_datetime(["2026-11-25 04:00", "2026-11-25 19:00",
                                      "2026-11-27 09:00", "2026-11-30 04:00"]))
    assert report.closed_weekdays(times) == ["2026-11-26"]


def _panel_result(name, columns, rows, ticker="AAPL"):
    from runtime import panels
    from runtime.engines.base import QueryResult

    return report.PanelResult(panels.panel(name), ticker, "", QueryResult(columns, rows))


def test_price_axis_skips_a_holiday_as_well_as_nights_and_weekends():
    rows = []
    for day, hour in [("2026-11-25", h) for h in range(4, 20)] + [("2026-11-27", 4),
                                                                  ("2026-11-27", 5)]:
        t = datetime.fromisoformat(day) + timedelta(hours=hour + 5)  # EST + 5 = UTC
        rows.append((t, 10.0, 11.0, 9.0, 10.5, 10.2, 1000.0, "AAPL"))
    fig = report.panel_figure(_panel_result(
        "price", ["time", "open", "high", "low", "close", "vwap", "volume", "ticker"], rows))
    breaks = [b.to_plotly_json() for b in fig.layout.xaxis.rangebreaks]
    assert fig.layout.xaxis.title.text == (
        "bar start (America/New_York; closed nights, weekends and holidays skipped)")
    # Thanksgiving's session hours are skipped: no flat VWAP line drawn across a closed market
    assert {"values": ["2026-11-26 04:00"], "dvalue": 57600000} in breaks
    assert {"bounds": [20, 4], "pattern": "hour"} in breaks
    assert fig.data[0].x[0] == "2026-11-25 04:00"  # exchange time on the axis


def test_volatility_and_range_axes_both_start_at_zero(loaded, settings):
    data = report.collect(settings, loaded, days=2)
    vol = [pr for pr in data.by_ticker["AAPL"] if pr.panel.name == "volatility"][0]
    fig = report.panel_figure(vol)
    # a bar drawn up from an axis that starts at its smallest value exaggerates it
    assert (fig.layout.yaxis.rangemode, fig.layout.yaxis2.rangemode) == ("tozero", "tozero")
    assert fig.layout.yaxis.title.text == "intraday volatility, annualised (%)"
    assert fig.layout.yaxis2.title.text == "high-low range per bar (% of close)"


def test_the_status_section_is_what_stockpipe_status_reports(loaded, settings):
    from runtime.status import collect_status

    expected = collect_status(settings, loaded)["state"]
    page = report.build_report(settings, loaded).read_text("utf-8")
    assert f"<tr><th>state</th><td>{expected}</td></tr>" in page
    assert "checks.checks" not in page  # each check is in the data-quality section already

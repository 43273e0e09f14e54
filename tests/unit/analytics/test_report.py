"""report.html from the fixture data: panels per ticker, check results, and the empty cases."""

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

from runtime import report


class ExternalRefs(HTMLParser):
    """Collects tag attributes that would load something (script text is not parsed as tags)."""

    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        self.refs += [(tag, k, v) for k, v in attrs if k in ("src", "href") and
                      not (v or "").startswith("#")]


START = datetime(2026, 11, 16, 14, 0)
LAST = START + timedelta(hours=19)


def sections(page: str):
    """(panel, ticker, rows, status) of every panel section in the page."""
    return re.findall(
        r'data-panel="(\w+)" data-ticker="([^"]*)" data-rows="(\d+)" data-status="(\w+)"', page
    )


def test_report_has_every_panel_for_every_ticker_and_the_check_results(loaded, settings):
    path = report.build_report(settings, loaded)
    assert path == settings.reports_dir / "report.html"
    page = path.read_text("utf-8")
    found = sections(page)
    expected_rows = {("stats", "AAPL"): "1", ("price", "AAPL"): "20", ("volume", "AAPL"): "20",
                     ("volatility", "AAPL"): "20", ("stats", "MSFT"): "1",
                     ("price", "MSFT"): "3", ("volume", "MSFT"): "3",
                     ("volatility", "MSFT"): "3", ("dq_latest", ""): "3",
                     ("dq_failures", ""): "2"}
    assert {(p, t): rows for p, t, rows, _ in found} == expected_rows
    assert {status for *_, status in found} == {"data"}
    assert page.count('class="plotly-graph-div"') == len(expected_rows)


def test_report_range_is_the_last_week_ending_at_the_latest_bar(loaded, settings):
    data = report.collect(settings, loaded)
    assert data.time_to == LAST
    assert data.time_from == LAST - timedelta(days=7)
    assert data.tickers == ["AAPL", "MSFT"]
    # The week-old bar (START - 7 days) is before the range; 20 AAPL bars remain.
    price = [pr for pr in data.by_ticker["AAPL"] if pr.panel.name == "price"][0]
    assert price.rows == 20
    assert "TIMESTAMP '2026-11-10 09:00:00'" in price.sql


def test_report_is_self_contained_with_plotly_inlined_and_no_external_scripts(loaded, settings):
    page = report.build_report(settings, loaded).read_text("utf-8")
    parser = ExternalRefs()
    parser.feed(page)
    assert parser.refs == []  # no <script src>, <link href> or <img src>: works offline
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js itself is inline


def test_report_without_a_production_view_says_the_first_run_failed_checks(checks_only,
                                                                          settings):
    page = report.build_report(settings, checks_only).read_text("utf-8")
    assert "No production data yet: the view stock_aggregate_prod_latest does not exist" in page
    assert "first run probably failed its checks" in page
    # The check results are still shown: they say why nothing was published.
    assert {(p, rows) for p, _, rows, _ in sections(page)} == {("dq_latest", "3"),
                                                               ("dq_failures", "2")}


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
    assert "Plotly.newPlot" not in page


def test_report_out_may_name_a_folder(loaded, settings, tmp_path):
    assert report.build_report(settings, loaded, tmp_path) == tmp_path / "report.html"


def _panel_result(name, columns, rows, ticker="AAPL"):
    from runtime import panels
    from runtime.engines.base import QueryResult

    return report.PanelResult(panels.panel(name), ticker, "", QueryResult(columns, rows))


def _bars(days_hours):
    """Price rows for bars at the given (date, exchange hour) pairs, given in UTC (EST + 5)."""
    rows = []
    for day, hour in days_hours:
        t = datetime.fromisoformat(day) + timedelta(hours=hour + 5)
        rows.append((t, 10.0, 11.0, 9.0, 10.5, 10.2, 1000.0))
    return rows


PRICE_COLUMNS = ["time", "open", "high", "low", "close", "vwap", "volume"]


def test_closed_weekdays_are_the_holidays_not_the_weekends():
    import pandas as pd

    # Wed 2026-11-25, (Thanksgiving), Fri 27, (weekend), Mon 30
    times = pd.Series(pd.to_datetime(["2026-11-25 04:00", "2026-11-25 19:00",
                                      "2026-11-27 09:00", "2026-11-30 04:00"]))
    assert report.closed_weekdays(times) == ["2026-11-26"]


def test_price_axis_skips_a_holiday_as_well_as_nights_and_weekends():
    rows = _bars([("2026-11-25", h) for h in range(4, 20)] + [("2026-11-27", 4), ("2026-11-27", 5)])
    fig = report.panel_figure(_panel_result("price", PRICE_COLUMNS, rows))
    breaks = [b.to_plotly_json() for b in fig.layout.xaxis.rangebreaks]
    assert fig.layout.xaxis.title.text == (
        "bar start (America/New_York; closed nights, weekends and holidays skipped)")
    # Thanksgiving's session hours are skipped: no flat VWAP line drawn across a closed market
    assert {"values": ["2026-11-26 04:00"], "dvalue": 57600000} in breaks
    assert {"bounds": [20, 4], "pattern": "hour"} in breaks


def test_volatility_and_range_axes_both_start_at_zero(loaded, settings):
    data = report.collect(settings, loaded)
    vol = [pr for pr in data.by_ticker["AAPL"] if pr.panel.name == "volatility"][0]
    fig = report.panel_figure(vol)
    # a bar drawn up from an axis that starts at its smallest value exaggerates it
    assert (fig.layout.yaxis.rangemode, fig.layout.yaxis2.rangemode) == ("tozero", "tozero")
    assert fig.layout.yaxis.title.text == "volatility, annualised (%)"
    assert fig.layout.yaxis2.title.text == "high-low range per bar (% of close)"


def test_latest_checks_table_shows_verdicts_and_what_each_check_counts(loaded, settings):
    data = report.collect(settings, loaded)
    latest = [pr for pr in data.quality if pr.panel.name == "dq_latest"][0]
    fig = report.panel_figure(latest)
    assert fig.layout.title.text == "Data quality: latest run (r2, 2026-11-21 12:00:00 UTC)"
    table = fig.data[0]
    assert list(table.header.values) == ["<b>result</b>", "<b>check</b>", "<b>severity</b>",
                                         "<b>failing rows</b>", "<b>what it counts</b>"]
    columns = [list(c) for c in table.cells.values]
    assert columns[:4] == [
        ["WARN", "PASS", "PASS"],
        ["freshness", "duplicate_keys", "null_values"],
        ["warning", "error (blocks publish)", "error (blocks publish)"],
        ["1", "0", "0"],
    ]
    assert columns[4][0] == "tickers whose latest bar is older than the last completed trading day"
    assert list(table.cells.fill.color[0]) == ["#fff3cd", "white", "white"]


def test_failed_checks_history_keeps_utc_times(loaded, settings):
    data = report.collect(settings, loaded)
    failures = [pr for pr in data.quality if pr.panel.name == "dq_failures"][0]
    table = report.panel_figure(failures).data[0]
    assert list(table.header.values)[0] == "<b>run at (UTC)</b>"
    # recorded 12:00 UTC: not shifted to 07:00 New York time like the charts' bar starts
    assert list(table.cells.values[0]) == ["2026-11-21 12:00:00", "2026-11-20 12:00:00"]


def test_an_empty_failure_history_says_no_check_failed():
    empty = _panel_result("dq_failures", ["time", "run_id", "check_name", "severity",
                                          "failing_rows"], [], ticker=None)
    figures = []
    html = report._section(empty, None, figures)
    assert "No check has failed in any recorded quality run." in html
    assert "no rows in this range" not in html and figures == []

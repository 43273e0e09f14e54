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

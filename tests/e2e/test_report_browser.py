"""The report from a real local run, opened in headless Chromium: the overview page and every
ticker page, each panel drawn with its data and no JavaScript error; and `stockpipe report`'s
range and ticker options. Screenshots are kept under test-artifacts/."""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TICKERS = ("AAPL", "MSFT")
# Flags for a hermetic headless run: no network side-channels, fresh profile per call.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")
# What plotly draws per panel, and which SVG element there is one of per data row.
PER_ROW_MARK = {"price": ("path", "box"), "volume": ("g", "point"),
                "volatility": ("g", "point")}
CHARTS = ("price", "volume", "volatility")


def _chromium() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make test`, which installs Debian's "
            "chromium, or `apt-get install -y chromium` (set CHROMIUM=path for another binary)"
        )
    return CHROMIUM


def _browse(args, profile: Path) -> subprocess.CompletedProcess:
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)


@pytest.fixture(scope="module")
def run_report(tmp_path_factory):
    """`stockpipe run` on demo data into a fresh home; returns (report path, run JSON)."""
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if k != "POLYGON_API_KEY"}
    env["STOCKPIPE_HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "run", "--source", "demo",
         "--tickers", ",".join(TICKERS), "--end-date", "2026-11-20", "--json"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600, check=False,
    )
    assert proc.returncode == 0, f"stockpipe run failed ({proc.returncode}): {proc.stderr}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    path = Path(result["report"])
    assert path.is_file(), f"the run reported {path} but wrote nothing there"
    return path, result


class Dom(HTMLParser):
    """The <html> attributes, and per panel section its attributes and drawn SVG elements."""

    def __init__(self):
        super().__init__()
        self.root = {}
        self.sections = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = a
        elif tag == "section" and "data-panel" in a:
            self._current = {"attrs": a, "marks": Counter()}
            self.sections.append(self._current)
        elif self._current is not None:
            for cls in (a.get("class") or "").split():
                self._current["marks"][(tag, cls)] += 1

    def handle_endtag(self, tag):
        if tag == "section":
            self._current = None


def _open(path: Path, profile: Path) -> Dom:
    proc = _browse(["--virtual-time-budget=20000", "--dump-dom", path.as_uri()], profile)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Dom()
    dom.feed(proc.stdout)
    assert "data-js-errors" in dom.root, "the error hook did not run: is the page scripted?"
    assert json.loads(dom.root["data-js-errors"]) == [], path
    return dom


def test_overview_page_loads_without_plotly_and_lists_every_ticker(run_report, tmp_path):
    path, result = run_report
    assert result["published_table"], "the demo run must publish for the report to have data"
    dom = _open(path, tmp_path / "profile")
    assert int(dom.root["data-render-ms"]) > 0
    assert dom.root.get("data-plots-rendered") == "0"  # tables and inline SVG only
    assert {(s["attrs"]["data-panel"], s["attrs"]["data-status"]) for s in dom.sections} == {
        ("dq_latest", "data"), ("dq_failures", "data")}
    page = path.read_text("utf-8")
    for t in TICKERS:
        assert f'<a href="report_files/{t}.html">{t}</a>' in page


@pytest.mark.parametrize("ticker", TICKERS)
def test_every_chart_of_a_ticker_page_renders_with_its_rows_and_no_script_error(
        run_report, tmp_path, ticker):
    path, _ = run_report
    dom = _open(path.parent / "report_files" / f"{ticker}.html", tmp_path / "profile")
    assert int(dom.root.get("data-plots-rendered", "0")) == 3 * len(CHARTS)  # 3 SVGs a chart
    seen = []
    for section in dom.sections:
        a, marks = section["attrs"], section["marks"]
        seen.append((a["data-panel"], a["data-ticker"]))
        assert a["data-status"] == "data", a
        rows = int(a["data-rows"])
        # the whole first session too: 6 sessions (13, 16-20 Nov) of 16 demo bars
        assert rows == 96, a
        assert marks[("svg", "main-svg")] >= 1, f"{a}: plotly drew nothing"
        assert marks[PER_ROW_MARK[a["data-panel"]]] == rows, (a, marks)
    assert seen == [(p, ticker) for p in CHARTS]


def test_report_screenshots_are_saved_as_test_artifacts(run_report, tmp_path):
    path, _ = run_report
    ARTIFACTS.mkdir(exist_ok=True)
    for name, page in (("report.png", path),
                       ("report-AAPL.png", path.parent / "report_files" / "AAPL.html")):
        shot = ARTIFACTS / name
        if shot.exists():
            shot.unlink()
        proc = _browse(["--virtual-time-budget=20000", f"--screenshot={shot}",
                        "--window-size=1400,2400", page.as_uri()], tmp_path / name)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copy(path, ARTIFACTS / "report.html")


def test_report_page_names_the_range_in_whole_exchange_days(run_report):
    path, _ = run_report
    page = path.read_text("utf-8")
    # Fri 13 Nov 00:00 New York (05:00 UTC) to the end of Fri 20 Nov: whole sessions
    assert ("Range: exchange days 2026-11-13 to 2026-11-20 (America/New_York, whole sessions; "
            "all published data): bars starting 2026-11-13 05:00 UTC to 2026-11-21 04:59 UTC"
            ) in page


def _report(home: Path, *args: str):
    env = {k: v for k, v in os.environ.items() if k != "POLYGON_API_KEY"}
    env["STOCKPIPE_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "runtime.cli", "report", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
                          check=False)


def test_report_command_chooses_days_and_tickers_whatever_the_last_run_used(run_report,
                                                                           tmp_path):
    path, _ = run_report
    home = path.parents[1]
    out = tmp_path / "two-days"
    out.mkdir()  # an existing folder gets report.html
    proc = _report(home, "--days", "2", "--tickers", "msft", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    written = Path(proc.stdout.strip().splitlines()[-1])
    assert written == out / "report.html"
    page = written.read_text("utf-8")
    assert "exchange days 2026-11-19 to 2026-11-20" in page
    assert sorted(p.name for p in (out / "report_files").iterdir()) == ["MSFT.html",
                                                                       "plotly-finance.min.js"]
    proc = _report(home, "--from", "2026-11-16", "--to", "2026-11-16", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "exchange days 2026-11-16 to 2026-11-16" in (out / "report.html").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (("--tickers", "ZZZZ"), "no bars for ZZZZ between 2026-11-13 and 2026-11-20; tickers with "
                            "bars there: AAPL, MSFT"),
    (("--days", "3", "--from", "2026-11-16"), "not allowed with argument"),
    (("--from", "2026-11-20", "--to", "2026-11-16"), "--from 2026-11-20 is after --to "
                                                     "2026-11-16; swap them"),
    (("--from", "20-11-2026"), "--from must be a date as YYYY-MM-DD, got '20-11-2026'"),
])
def test_report_command_refuses_a_bad_choice_with_one_line_naming_it(run_report, tmp_path,
                                                                     args, message):
    path, _ = run_report
    before = path.read_text("utf-8")
    proc = _report(path.parents[1], *args)
    assert proc.returncode == 1
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert path.read_text("utf-8") == before  # the last report is left as it was

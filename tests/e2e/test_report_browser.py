"""report.html from a real local run, opened in headless Chromium: every panel drawn with its
data and no JavaScript error. A screenshot is kept under test-artifacts/."""

import json
import os
import re
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
PANELS = {"stats", "price", "volume", "volatility", "dq_latest", "dq_failures"}


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


def test_every_report_panel_renders_with_data_and_no_script_error(run_report, tmp_path):
    path, result = run_report
    assert result["published_table"], "the demo run must publish for the report to have data"
    proc = _browse(["--virtual-time-budget=20000", "--dump-dom", path.as_uri()],
                   tmp_path / "profile")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Dom()
    dom.feed(proc.stdout)

    assert "data-js-errors" in dom.root, "the error hook did not run: is the page scripted?"
    assert json.loads(dom.root["data-js-errors"]) == []
    assert int(dom.root.get("data-plots-rendered", "0")) > 0

    seen = set()
    for section in dom.sections:
        a, marks = section["attrs"], section["marks"]
        key = (a["data-panel"], a["data-ticker"])
        seen.add(key)
        assert a["data-status"] == "data", f"{key} is {a['data-status']}"
        rows = int(a["data-rows"])
        assert rows > 0, key
        assert marks[("svg", "main-svg")] >= 1, f"{key}: plotly drew nothing"
        if a["data-panel"] in PER_ROW_MARK:
            assert marks[PER_ROW_MARK[a["data-panel"]]] == rows, (key, rows, marks)
        elif a["data-panel"] == "stats":
            assert marks[("g", "numbers")] == 4, key
        else:
            assert marks[("g", "table")] == 1, key
    assert seen == {(p, t) for p in PANELS - {"dq_latest", "dq_failures"} for t in TICKERS} | {
        ("dq_latest", ""), ("dq_failures", "")}


def test_report_screenshot_is_saved_as_a_test_artifact(run_report, tmp_path):
    path, _ = run_report
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    if shot.exists():
        shot.unlink()
    proc = _browse(["--virtual-time-budget=20000", f"--screenshot={shot}",
                    "--window-size=1400,3000", path.as_uri()], tmp_path / "profile")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copy(path, ARTIFACTS / "report.html")


def test_report_page_lists_both_tickers_and_names_the_range(run_report):
    path, _ = run_report
    page = path.read_text("utf-8")
    for t in TICKERS:
        assert f'id="ticker-{t}"' in page
    # in exchange time, as the charts' axes, with UTC beside it; the last demo bar of the
    # window (Fri 2026-11-20) starts 19:00 New York time = 00:00 UTC on the 21st
    assert re.search(r"Range: bars starting \w{3} \d{4}-\d\d-\d\d \d\d:\d\d to "
                     r"Fri 2026-11-20 19:00 America/New_York \(\d{4}-\d\d-\d\d \d\d:\d\d UTC "
                     r"to 2026-11-21 00:00 UTC\)", page)

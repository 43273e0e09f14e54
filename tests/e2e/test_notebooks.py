"""Both notebooks run the way a user runs them: the kernel starts in notebooks/ with no
STOCKPIPE_HOME, so they must find the home the CLI uses from the repository root.

The tests do not touch this checkout's own .stockpipe (a developer's data): they lay out a
stand-in checkout in a temporary folder (this repository's pyproject.toml and notebooks/) and
build its home with `stockpipe run` from its root, exactly where a user's would be. The kernel
still imports this repository's runtime (the venv's editable install); only the folder it walks
up from is the stand-in's.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ("01_validate_data.ipynb", "02_dashboard_panels.ipynb")
ENV = ("STOCKPIPE_HOME", "STOCKPIPE_TICKERS", "STOCKPIPE_WINDOW_DAYS", "STOCKPIPE_DATABASE",
       "STOCKPIPE_TABLE_PREFIX", "STOCKPIPE_ATHENA_WORKGROUP", "POLYGON_API_KEY")


def chromium() -> str:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}: run `make chromium` (set CHROMIUM=path "
                    "for another binary)")
    return path


def lay_out_checkout(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    shutil.copytree(ROOT / "notebooks", folder / "notebooks")
    return folder


def run_from(root: Path, *args: str) -> Path:
    """`stockpipe run --source demo ARGS` from the checkout's root, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "run", "--source", "demo", *args, "--json"],
        capture_output=True, text=True, cwd=root, env=env, timeout=600, check=False,
    )
    assert proc.returncode == 0, f"stockpipe run failed ({proc.returncode}): {proc.stderr}"
    assert json.loads(proc.stdout.strip().splitlines()[-1])["published_table"]
    assert (root / ".stockpipe" / "catalog.duckdb").is_file()
    return root


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A stand-in checkout whose home was made by `stockpipe run` from its root, as a user's."""
    root = lay_out_checkout(tmp_path_factory.mktemp("checkout") / "stockpipe")
    return run_from(root, "--tickers", "AAPL,MSFT", "--end-date", "2026-11-20")


@pytest.fixture(scope="module")
def split_checkout(tmp_path_factory):
    """A checkout whose home holds the demo ticker SPLT (2-for-1 on Mon 2026-11-16), ingested
    over two weeks to 2026-11-20, so the published bars span the split."""
    root = lay_out_checkout(tmp_path_factory.mktemp("split") / "stockpipe")
    return run_from(root, "--tickers", "SPLT", "--end-date", "2026-11-20", "--days", "14")


@pytest.fixture
def as_a_user(monkeypatch):
    """No stockpipe variable in the kernel's environment; the venv's python runs the kernel."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    # The kernelspec runs `python`: make it this venv's interpreter.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def execute(root: Path, name: str, nb=None):
    """Run the notebook with the kernel's working directory in <root>/notebooks."""
    nb = nb if nb is not None else nbformat.read(root / "notebooks" / name, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(root / "notebooks")}}).execute()
    return nb


def plotly_outputs(nb) -> list:
    """Every displayed plotly figure's output (its mime bundle), in cell order."""
    return [o for c in nb.cells for o in c.get("outputs", [])
            if "application/vnd.plotly.v1+json" in o.get("data", {})]


def split_marks(output) -> list:
    """(x, dash, label) of each vertical line of a displayed figure, with the label at its x."""
    layout = output["data"]["application/vnd.plotly.v1+json"]["layout"]
    labels = {a["x"]: a["text"] for a in layout.get("annotations", [])}
    return [(s["x0"], s["line"]["dash"], labels.get(s["x0"]))
            for s in layout.get("shapes", []) if s["x0"] == s["x1"]]


def text_of(nb) -> str:
    """Everything the notebook printed or displayed as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_without_outputs_and_has_a_parameters_cell(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and 'BACKEND = "local"' in tagged[0].source
    assert "STOCKPIPE_HOME = None" in tagged[0].source
    steps = [c.source.splitlines()[0] for c in nb.cells
             if c.cell_type == "markdown" and c.source.startswith("## Step")]
    assert len(steps) >= 5
    assert [s.split(":")[0] for s in steps] == [f"## Step {i}" for i in range(1, len(steps) + 1)]


def test_validate_notebook_on_athena_only_reads_the_check_history():
    source = "\n".join(c.source for c in nbformat.read(
        ROOT / "notebooks" / "01_validate_data.ipynb", as_version=4).cells)
    # the read-only switch is recheck_quality's (tested in tests/unit/analytics); the notebook
    # must go through it and never call the recording step itself
    assert "recheck_quality(settings, engine, BACKEND)" in source
    assert "steps.quality(" not in source and "INSERT" not in source.upper()


def test_validate_notebook_finds_the_checkout_home_from_the_notebooks_folder(checkout,
                                                                            as_a_user):
    nb = execute(checkout, "01_validate_data.ipynb")
    out = text_of(nb)
    assert f"reading {(checkout / '.stockpipe').resolve()}" in out
    assert "present  stock_aggregate_prod_latest" in out and "MISSING" not in out
    assert "re-ran every check and recorded it in the local history" in out
    assert "PASSED" in out  # the re-run of the checks on the demo data
    assert "blocking failures: none" in out and "verdict: OK" in out
    assert "AAPL" in out and "MSFT" in out  # the profile lists both tickers
    assert not (checkout / "notebooks" / ".stockpipe").exists()


def test_panels_notebook_draws_every_panel_and_its_html_export_keeps_the_charts(
        checkout, as_a_user, tmp_path):
    nb = execute(checkout, "02_dashboard_panels.ipynb")
    out = text_of(nb)
    assert ("AAPL: exchange days 2026-11-14 to 2026-11-20, bars from 2026-11-14 05:00:00 to "
            "2026-11-21 04:59:59 UTC; tickers: ['AAPL', 'MSFT']") in out
    from runtime.checks import all_checks

    for title in ("Summary for the range: 1 rows", "Freshness: 1 rows",
                  "Price: hourly OHLC with VWAP: 80 rows",
                  "Volume per hour with 16-bar moving average: 80 rows",
                  f"Data quality: latest run: {len(all_checks())} rows"):
        assert title in out
    figures = plotly_outputs(nb)
    assert len(figures) == 3  # price, volume, volatility
    assert all("text/html" in o["data"] for o in figures)  # what an HTML export keeps
    # AAPL has no split: no marker, no sentence
    assert [split_marks(o) for o in figures] == [[], [], []]
    assert "Stock splits" not in out and "split markers" not in out

    executed = tmp_path / "02.ipynb"
    nbformat.write(nb, executed)
    proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html",
                           str(executed), "--output-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (tmp_path / "02.html").read_text("utf-8")
    divs = re.findall(r'<div class="plotly-graph-div" id="([\w-]+)"', page)
    assert len(divs) == 3
    for div in divs:
        assert re.search(rf'Plotly\.newPlot\(\s*"{div}"', page), div
    # plotly.js itself is in the file: the export shows charts offline
    assert re.search(r"plotly\.js v\d+\.\d+\.\d+", page)
    # and a browser with no network draws them (3 SVG layers per plotly chart)
    dom = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
         "--dump-dom", (tmp_path / "02.html").as_uri()],
        capture_output=True, text=True, timeout=240, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="main-svg"') >= 3 * len(divs)


def test_panels_notebook_marks_the_demo_split_on_every_chart_as_the_report_does(
        split_checkout, as_a_user):
    nb = execute(split_checkout, "02_dashboard_panels.ipynb")
    out = text_of(nb)
    assert "SPLT: exchange days 2026-11-14 to 2026-11-20" in out
    assert ("Stock splits in this range: 2-for-1 on 2026-11-16. Prices and volumes before each "
            "are on the new basis") in out
    figures = plotly_outputs(nb)
    titles = [o["data"]["application/vnd.plotly.v1+json"]["layout"]["title"]["text"]
              for o in figures]
    from runtime import panels

    assert titles == [f"SPLT: {panels.panel(n).title}" for n in ("price", "volume", "volatility")]
    # at the first bar on the new basis (04:00 in New York, the session's first extended hour)
    for o in figures:
        assert split_marks(o) == [("2026-11-16 04:00", "dot", "2-for-1 split")]
        # and in the HTML an export keeps
        assert "2-for-1 split" in o["data"]["text/html"]
    # The notebook's 7 days to Fri 11-20 start on Sat 11-14: the split's bar is the first
    # drawn, and is marked all the same (splits.sql compares it with the bar before the range).
    price = figures[0]["data"]["application/vnd.plotly.v1+json"]["data"][0]
    assert (price["x"][0], price["x"][-1]) == ("2026-11-16 04:00", "2026-11-20 19:00")
    # the report of the same run draws the same markers
    page = (split_checkout / ".stockpipe" / "reports" / "report_files" / "SPLT.html"
            ).read_text("utf-8")
    assert page.count('"x0":"2026-11-16 04:00"') == 3
    assert page.count('"text":"2-for-1 split"') == 3


# How many code cells run before the first one that reads data (the parameters cells).
@pytest.mark.parametrize(("name", "settings_cells"), [("01_validate_data.ipynb", 1),
                                                      ("02_dashboard_panels.ipynb", 2)])
def test_a_notebook_with_no_data_stops_at_its_first_cell_with_the_command_to_run(
        name, settings_cells, tmp_path, as_a_user):
    root = lay_out_checkout(tmp_path / "fresh")
    nb = nbformat.read(root / "notebooks" / name, as_version=4)
    with pytest.raises(CellExecutionError) as failed:
        execute(root, name, nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    ran = [i for i, c in enumerate(code) if c.execution_count]
    assert ran == list(range(settings_cells + 1))  # nothing after the connect cell ran
    message = str(failed.value)
    assert "NoDataError" in message
    assert f"no stockpipe data in {(root / '.stockpipe').resolve()}" in message
    assert f"run `make run` (or `stockpipe run`) from {root.resolve()} first" in message
    assert not (root / ".stockpipe").exists()  # looking created nothing
    assert not (root / "notebooks" / ".stockpipe").exists()

"""Both notebooks execute top to bottom with nbclient against a real local run, and their
structure stays as promised: a tagged parameters cell, one heading per step, no stored outputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ("01_validate_data.ipynb", "02_dashboard_panels.ipynb")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A local home after `stockpipe run` on demo data for two tickers."""
    home = tmp_path_factory.mktemp("nbhome")
    env = {k: v for k, v in os.environ.items() if k != "POLYGON_API_KEY"}
    env["STOCKPIPE_HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "run", "--source", "demo", "--tickers",
         "AAPL,MSFT", "--end-date", "2026-11-20", "--json"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600, check=False,
    )
    assert proc.returncode == 0, f"stockpipe run failed ({proc.returncode}): {proc.stderr}"
    assert json.loads(proc.stdout.strip().splitlines()[-1])["published_table"]
    return home


def execute(name: str, home: Path, monkeypatch):
    """Run the notebook in the venv's python3 kernel with STOCKPIPE_HOME pointing at `home`."""
    monkeypatch.setenv("STOCKPIPE_HOME", str(home))
    monkeypatch.delenv("STOCKPIPE_ATHENA_WORKGROUP", raising=False)
    # The kernelspec runs `python`: make it this venv's interpreter.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=300,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    return nb


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
    steps = [c.source.splitlines()[0] for c in nb.cells
             if c.cell_type == "markdown" and c.source.startswith("## Step")]
    assert len(steps) >= 5
    assert [s.split(":")[0] for s in steps] == [f"## Step {i}" for i in range(1, len(steps) + 1)]


def test_validate_notebook_reruns_checks_and_profiles_the_data(home, monkeypatch):
    nb = execute("01_validate_data.ipynb", home, monkeypatch)
    out = text_of(nb)
    assert "present  stock_aggregate_prod_latest" in out
    assert "PASSED" in out  # the re-run of the checks on the demo data
    assert "blocking failures: none" in out
    # The profile lists both tickers.
    assert "AAPL" in out and "MSFT" in out


def test_panels_notebook_runs_every_panel_with_rows(home, monkeypatch):
    nb = execute("02_dashboard_panels.ipynb", home, monkeypatch)
    out = text_of(nb)
    assert "AAPL from 2026-11-14 00:00:00 to 2026-11-21 00:00:00 UTC" in out
    from runtime.checks import all_checks

    for title in ("Summary for the range: 1 rows", "Price: hourly OHLC with VWAP: ",
                  "Volume per hour with 16-bar moving average: ",
                  f"Data quality: latest run: {len(all_checks())} rows"):
        assert title in out
    assert "Price: hourly OHLC with VWAP: 0 rows" not in out
    figures = [o for c in nb.cells for o in c.get("outputs", [])
               if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) >= 6  # stats, price, volume, volatility, two data-quality tables

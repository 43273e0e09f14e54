"""The Lambda path stays light and Python 3.9-compatible (docs/architecture.md, "Engines")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LAMBDA_MODULES = ("window", "polygon", "records", "storage", "sinks", "ingest", "handler")
HEAVY = ("numpy", "pandas", "duckdb", "sqlglot", "plotly", "exchange_calendars", "pyathena")


def test_importing_the_handler_path_pulls_in_no_local_only_library():
    code = (
        "import sys\n"
        + "".join(f"import runtime.{m}\n" for m in LAMBDA_MODULES)
        + f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("module", LAMBDA_MODULES + ("demo",))
def test_module_parses_as_python_39_with_postponed_annotations(module):
    source = (ROOT / "runtime" / f"{module}.py").read_text()
    tree = ast.parse(source, feature_version=(3, 9))
    futures = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    assert any(a.name == "annotations" for f in futures for a in f.names)

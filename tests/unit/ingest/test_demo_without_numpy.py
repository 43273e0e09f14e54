"""The demo source runs where the Lambda runs: no numpy, pandas or exchange_calendars."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Blocking a module in sys.modules makes any import of it raise ImportError, as in the Lambda
# package (runtime/ plus requests; the python3.12 runtime adds boto3, nothing numeric).
SCRIPT = """
import json, sys
for name in ("numpy", "pandas", "exchange_calendars", "duckdb", "pyarrow"):
    sys.modules[name] = None
from datetime import date
from runtime.demo import demo_fetch
result = demo_fetch("AAPL", date(2026, 11, 23), date(2026, 11, 27))
print(json.dumps({"bars": len(result.bars), "first": result.bars[0],
                  "source": result.source}))
"""


def test_demo_fetch_works_with_numpy_pandas_and_exchange_calendars_unavailable():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    # Mon-Wed full sessions (16 bars), Thanksgiving closed, Friday closes 13:00 (13 bars).
    assert got["bars"] == 3 * 16 + 13
    assert got["source"] == "demo"
    first = got["first"]
    assert sorted(first) == ["c", "h", "l", "n", "o", "t", "v", "vw"]
    assert first["t"] == 1795424400000  # 2026-11-23 04:00 America/New_York (09:00 UTC)
    assert first["l"] <= min(first["o"], first["c"]) <= max(first["o"], first["c"]) <= first["h"]

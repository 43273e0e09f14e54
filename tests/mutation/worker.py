"""One long-lived pytest process for the harness's SQL mutants.

The SQL files are read from disk at every query, so a mutant written into the scratch copy
takes effect in an interpreter that already imported everything: one `pytest.main` per mutant
here saves the interpreter start, the imports and the exchange calendar's load (most of the
time of a run). Python mutants need a fresh interpreter and do not come here.

Protocol: one JSON list of pytest arguments per line on stdin; one line with pytest's exit
code on stdout. pytest's own output is discarded.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    import pytest

    results = os.fdopen(os.dup(1), "w", buffering=1)
    quiet = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    os.dup2(quiet.fileno(), 1)
    sys.stdout = quiet
    for line in sys.stdin:
        code = int(pytest.main(json.loads(line)))
        results.write(f"{code}\n")


if __name__ == "__main__":
    main()

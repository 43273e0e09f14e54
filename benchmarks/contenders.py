"""The three contenders, each run in a fresh process by the harness:
`python -m benchmarks.contenders NAME ROOT [--granularity hour|day]` prints one JSON line with
per-phase seconds, row counts, files written and the process's own peak RSS.

- stockpipe: the real steps (crawl, transform, dedup, quality) on the LocalEngine, a first run
  (every table built from all raw data);
- pandas: benchmarks.pandas_baseline, the same three steps in pandas + pyarrow;
- floor: DuckDB reading the raw JSON and writing one Parquet file, no logic at all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List

from benchmarks.generate import load_manifest

CONTENDERS = ("stockpipe", "pandas", "floor")


def peak_rss_bytes() -> int:
    """This process's peak resident set size (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def count_files(root: Path, suffix: str = ".parquet") -> int:
    return sum(1 for _d, _s, files in os.walk(root) for f in files if f.endswith(suffix))


def _timed(phases: Dict[str, float], name: str, fn: Callable[[], object]) -> object:
    start = time.perf_counter()
    out = fn()
    phases[name] = time.perf_counter() - start
    return out


def stockpipe_settings(root: Path, granularity: str, tickers: List[str]):
    from runtime.settings import Settings

    return Settings(home=root, tickers=tuple(tickers), partition_granularity=granularity)


def open_local_engine(settings):
    from runtime.engines.local import LocalEngine

    return LocalEngine.from_settings(settings)


TRASH = ".trash"


def set_aside(path: Path, root: Path) -> None:
    """Move a previous run's output out of the way (a rename) instead of deleting it now.

    Deleting thousands of files and folders just before a timed run slows the run's own file
    creation on ext4 (it avoids reusing recently freed inodes): the same 4,016-partition write
    took 6.3-8.1 s right after a delete and 4.1-5.4 s without one. A real first run deletes
    nothing, so every contender's old output goes to `root/.trash`, emptied when the whole
    benchmark is done (harness.empty_trash)."""
    if path.exists():
        trash = root / TRASH
        trash.mkdir(parents=True, exist_ok=True)
        path.rename(trash / f"{path.name}-{uuid.uuid4().hex}")


def empty_trash(root: Path) -> None:
    shutil.rmtree(root / TRASH, ignore_errors=True)


def fresh_home(settings) -> None:
    """Forget the catalog and curated tables: the benchmark measures a first run, not a warm one."""
    for p in (settings.catalog_path, Path(str(settings.catalog_path) + ".wal")):
        if p.exists():
            p.unlink()
    root = Path(settings.home)
    set_aside(settings.lake_dir / "curated", root)
    set_aside(settings.lake_dir / "archive", root)


def run_stockpipe(root: Path, granularity: str) -> Dict[str, object]:
    """crawl (timed apart), then transform + dedup + quality: the timed pipeline (a fresh home,
    so both build their tables from all raw data)."""
    from runtime import steps
    from runtime.storage import LocalStorage

    manifest = load_manifest(root)
    settings = stockpipe_settings(root, granularity, manifest.tickers)
    storage = LocalStorage()
    fresh_home(settings)
    phases: Dict[str, float] = {}
    engine = _timed(phases, "open_engine", lambda: open_local_engine(settings))
    try:
        _timed(phases, "crawl", lambda: steps.crawl(settings, engine, storage))
        _timed(phases, "transform", lambda: steps.transform(settings, engine, storage))
        _timed(phases, "dedup", lambda: steps.dedup(settings, engine, storage))
        result = _timed(phases, "quality", lambda: steps.quality(settings, engine, storage))
        parquet_rows = engine.execute(f"SELECT count(*) FROM {settings.parquet_table}").scalar()
        sans_dup_rows = engine.execute(f"SELECT count(*) FROM {settings.sans_dup_table}").scalar()
    finally:
        engine.close()
    checks = {c.name: c.failing_rows for c in getattr(result, "checks", [])}
    return {
        "phases": phases,
        "timed_seconds": phases["transform"] + phases["dedup"] + phases["quality"],
        "parquet_rows": int(parquet_rows),
        "sans_dup_rows": int(sans_dup_rows),
        "checks": checks,
        "parquet_files": count_files(Path(settings.table_location(settings.parquet_table))),
        "sans_dup_files": count_files(Path(settings.table_location(settings.sans_dup_table))),
        "sans_dup_dir": settings.table_location(settings.sans_dup_table),
    }


def run_pandas(root: Path, granularity: str) -> Dict[str, object]:
    from benchmarks import pandas_baseline as pb

    manifest = load_manifest(root)
    raw = root / "lake" / "raw"
    out = root / "pandas"
    set_aside(out, root)
    parquet, sans_dup = out / "parquet", out / "sans_dup"
    phases: Dict[str, float] = {}
    now = datetime.now(timezone.utc)
    parquet_rows = _timed(phases, "transform", lambda: pb.transform(raw, parquet, granularity))
    sans_dup_rows = _timed(phases, "dedup", lambda: pb.dedup(parquet, sans_dup))
    checks = _timed(
        phases, "quality", lambda: pb.quality(raw, parquet, sans_dup, manifest.tickers, now)
    )
    return {
        "phases": phases,
        "timed_seconds": phases["transform"] + phases["dedup"] + phases["quality"],
        "parquet_rows": parquet_rows,
        "sans_dup_rows": sans_dup_rows,
        "checks": checks,
        "parquet_files": count_files(parquet),
        "sans_dup_files": count_files(sans_dup),
        "sans_dup_dir": str(sans_dup),
    }


def run_floor(root: Path, granularity: str) -> Dict[str, object]:
    """The least any engine must do: parse every raw JSON record once and write Parquet."""
    import duckdb

    out = root / "floor"
    set_aside(out, root)
    out.mkdir(parents=True)
    target = out / "raw.parquet"
    phases: Dict[str, float] = {}
    con = duckdb.connect()
    glob = f"{root / 'lake' / 'raw'}/**"
    _timed(
        phases,
        "copy",
        lambda: con.execute(
            f"COPY (SELECT * FROM read_json('{glob}', format = 'newline_delimited')) "
            f"TO '{target}' (FORMAT PARQUET)"
        ),
    )
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    con.close()
    return {
        "phases": phases,
        "timed_seconds": phases["copy"],
        "parquet_rows": int(rows),
        "parquet_files": 1,
    }


RUNNERS = {"stockpipe": run_stockpipe, "pandas": run_pandas, "floor": run_floor}


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.contenders")
    ap.add_argument("name", choices=CONTENDERS)
    ap.add_argument("root", type=Path)
    ap.add_argument("--granularity", choices=("hour", "day"), default="hour")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    out = RUNNERS[args.name](args.root.resolve(), args.granularity)
    out.update(
        contender=args.name,
        granularity=args.granularity,
        process_seconds=time.perf_counter() - start,
        peak_rss_bytes=peak_rss_bytes(),
    )
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

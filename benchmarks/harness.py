"""Runs the contenders at each size in fresh subprocesses, checks that they agree, and records
the results (benchmarks/results.json, results.md, results.png)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Optional

from benchmarks.generate import Size, ensure
from benchmarks.limits import PANDAS_MAX_RAW_ROWS, PANDAS_RSS_CAP

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / ".data"
DEFAULT_SIZES = ("10x30", "100x90", "500x365")
# The pipeline must write the same sans-dup table as the pandas baseline.
COMPARE_SQL = """
WITH a AS (SELECT {cols} FROM read_parquet('{a}/**/*.parquet', hive_partitioning = true,
                                            hive_types_autocast = false)),
     b AS (SELECT {cols} FROM read_parquet('{b}/**/*.parquet', hive_partitioning = true,
                                            hive_types_autocast = false))
SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)),
       (SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a)),
       (SELECT count(*) FROM a), (SELECT count(*) FROM b)
"""
COLUMNS = (
    "ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, transactions, "
    "ingested_at, CAST(day_hour_partition AS varchar) AS day_hour_partition"
)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def warm_raw(root: Path) -> int:
    """Read every raw object once, so each contender starts with the raw lake in the page cache.

    The contenders write gigabytes between them, which pushes raw objects out of the cache at
    random: a timed run could then read its input from disk (seen: the same stage statement
    took 6.5 s, then 11 s). Returns the bytes read."""
    total = 0
    for folder, _dirs, files in os.walk(root / "lake" / "raw"):
        for name in files:
            with open(os.path.join(folder, name), "rb") as fh:
                while chunk := fh.read(8 << 20):
                    total += len(chunk)
    return total


def run_contender(name: str, root: Path, granularity: str = "hour",
                  rss_cap_bytes: Optional[int] = None) -> Dict[str, object]:
    """One contender in a fresh interpreter; its JSON line back, plus the wall time seen here.

    With `rss_cap_bytes`, the child is watched and killed if its resident memory passes the cap
    (the machine is shared: a baseline that needs 15 GB must not take everyone's memory); the
    result then says so instead of carrying numbers."""
    cmd = [sys.executable, "-m", "benchmarks.contenders", name, str(root), "--granularity",
           granularity]
    warm_raw(root)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=err, text=True)
        peak_seen = _watch(proc, rss_cap_bytes)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if peak_seen is not None and peak_seen > (rss_cap_bytes or 0) and proc.returncode != 0:
        return {"contender": name, "granularity": granularity, "killed": True,
                "killed_at_rss_bytes": peak_seen, "wall_seconds_with_startup": wall,
                "timed_seconds": None, "peak_rss_bytes": peak_seen}
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"contender {name} ({granularity}) failed on {root}:\n{tail}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["wall_seconds_with_startup"] = wall
    return result


def _watch(proc: subprocess.Popen, cap: Optional[int]) -> Optional[int]:
    """Wait for `proc`; if `cap` is set, poll its RSS and kill it past the cap. Peak seen."""
    if not cap:
        proc.wait()
        return None
    import psutil

    peak = 0
    try:
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.Error:
                break
            if peak > cap:
                proc.kill()
                break
            time.sleep(0.25)
    finally:
        proc.wait()
    return peak


def compare_sans_dup(a_dir: str, b_dir: str) -> Dict[str, int]:
    """Rows only in a, only in b, and both sizes (0, 0, n, n means identical tables)."""
    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute(COMPARE_SQL.format(cols=COLUMNS, a=a_dir.rstrip("/"),
                                             b=b_dir.rstrip("/"))).fetchone()
    finally:
        con.close()
    return {"only_stockpipe": row[0], "only_pandas": row[1], "stockpipe_rows": row[2],
            "pandas_rows": row[3]}


def machine() -> Dict[str, object]:
    import duckdb
    import pandas
    import pyarrow

    try:
        import psutil

        mem = psutil.virtual_memory().total
        load = os.getloadavg()
    except ImportError:  # psutil is a dev dependency
        mem, load = None, None
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1) if mem else None,
        "loadavg_at_start": [round(x, 2) for x in load] if load else None,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
        "code": _code_version(),
    }


def _code_version() -> str:
    """The commit measured, and whether runtime/ had uncommitted edits at the time."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "runtime"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes under runtime/" if dirty else "")


def best_of(repeat: int, name: str, root: Path, granularity: str = "hour",
            rss_cap_bytes: Optional[int] = None) -> Dict[str, object]:
    """Run a contender `repeat` times and keep the fastest run: other work on shared cores only
    ever adds time. Every run's seconds are kept in `repeats`."""
    runs = [run_contender(name, root, granularity, rss_cap_bytes) for _ in range(max(1, repeat))]
    done = [r for r in runs if not r.get("killed")]
    if not done:
        return runs[0]
    best = min(done, key=lambda r: r["timed_seconds"])
    best["repeats"] = [r["timed_seconds"] for r in done]
    return best


def bench_size(size: Size, granularities: List[str], with_pandas: bool,
               rss_cap_bytes: Optional[int] = None, repeat: int = 1) -> Dict[str, object]:
    root = DATA / size.label
    start = time.perf_counter()
    manifest, generated = ensure(root, size)
    gen_seconds = time.perf_counter() - start
    log(f"{size.label}: {manifest.raw_rows:,} raw rows in {manifest.objects} objects "
        f"({'generated' if generated else 'reused'} in {gen_seconds:.1f}s)")
    out: Dict[str, object] = {
        "size": size.label,
        "manifest": {k: v for k, v in asdict(manifest).items() if k not in ("tickers", "sessions")},
        "sessions": len(manifest.sessions),
        "generate_seconds": gen_seconds if generated else None,
        "runs": [],
    }
    runs: List[Dict[str, object]] = out["runs"]  # type: ignore[assignment]
    log(f"{size.label}: floor")
    runs.append(best_of(repeat, "floor", root))
    for gran in granularities:
        log(f"{size.label}: stockpipe ({gran} partitions)")
        sp = best_of(repeat, "stockpipe", root, gran)
        runs.append(sp)
        if with_pandas:
            log(f"{size.label}: pandas ({gran} partitions)")
            # The baseline is repeated too, except where one run takes minutes.
            reps = repeat if manifest.raw_rows <= PANDAS_MAX_RAW_ROWS else 1
            pdr = best_of(reps, "pandas", root, gran, rss_cap_bytes)
            runs.append(pdr)
            if pdr.get("killed"):
                log(f"{size.label}: pandas killed at {pdr['killed_at_rss_bytes'] / 2**30:.1f} GB")
                continue
            cmp = compare_sans_dup(str(sp["sans_dup_dir"]), str(pdr["sans_dup_dir"]))
            cmp["checks_agree"] = sp.get("checks") == pdr.get("checks")
            cmp["granularity"] = gran
            out.setdefault("comparisons", []).append(cmp)
            log(f"{size.label}: sans-dup comparison {cmp}")
    for r in runs:
        secs = r.get("timed_seconds")
        r["rows_per_second"] = manifest.raw_rows / secs if secs else None
    return out


def run(sizes: List[Size], out_md: Path, middle_granularity: bool = True,
        extras: bool = True, pandas_max_rows: int = PANDAS_MAX_RAW_ROWS,
        rss_cap_bytes: Optional[int] = PANDAS_RSS_CAP, repeat: int = 2) -> Dict[str, object]:
    """Benchmark every size, then the extras; write results.json/.md/.png beside `out_md`."""
    from benchmarks import report

    ordered = sorted(sizes, key=lambda s: s.tickers * s.days)
    results: Dict[str, object] = {
        "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "sizes": [],
        "options": {"sizes": [s.label for s in ordered], "pandas_max_rows": pandas_max_rows,
                    "pandas_rss_cap_bytes": rss_cap_bytes, "repeat": repeat},
    }
    # Both partition granularities at the middle size and the largest.
    both = {len(ordered) // 2, len(ordered) - 1} if middle_granularity else set()
    for i, size in enumerate(ordered):
        grans = ["hour", "day"] if i in both else ["hour"]
        est_rows = size.tickers * size.days * 252 / 365 * 16 * 5
        with_pandas = est_rows <= pandas_max_rows
        if not with_pandas:
            log(f"{size.label}: pandas baseline skipped (~{est_rows:,.0f} raw rows > "
                f"{pandas_max_rows:,}); it is extrapolated from the smaller sizes")
        results["sizes"].append(  # type: ignore[union-attr]
            bench_size(size, grans, with_pandas, rss_cap_bytes, repeat)
        )
        _save(results, out_md)
    # Previous outputs were set aside during the runs (contenders.set_aside); delete them now
    # that nothing is timed any more.
    from benchmarks.contenders import empty_trash

    for size in ordered:
        empty_trash(DATA / size.label)
    if extras:
        from benchmarks import extras as ex

        log("ingestion: Firehose calls per 1,000 bars")
        results["ingestion"] = ex.firehose_calls()
        log("default job end to end")
        results["default_job"] = ex.default_job()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    _save(results, out_md)
    report.write(results, out_md)
    return results


def _save(results: Dict[str, object], out_md: Path) -> None:
    out_md.parent.mkdir(parents=True, exist_ok=True)
    out_md.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))


def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m benchmarks",
                                 description="stockpipe scale and speed benchmark (issue #7)")
    ap.add_argument("--sizes", default=",".join(DEFAULT_SIZES),
                    help="comma-separated TICKERSxDAYS (default %(default)s)")
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    ap.add_argument("--no-extras", action="store_true",
                    help="skip the Firehose-call count and the default-job timing")
    ap.add_argument("--pandas-max-rows", type=int, default=PANDAS_MAX_RAW_ROWS,
                    help="skip the pandas baseline above this many raw rows (default %(default)s)")
    ap.add_argument("--pandas-rss-cap-gb", type=float, default=PANDAS_RSS_CAP / 2**30,
                    help="kill the pandas baseline past this RSS (default %(default)s)")
    ap.add_argument("--repeat", type=int, default=2,
                    help="runs per contender, fastest kept (default %(default)s; the pandas "
                    "baseline runs once above --pandas-max-rows)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite results.md/.png from an existing results.json")
    args = ap.parse_args(argv)
    if args.report_only:
        from benchmarks import report

        report.write(json.loads(args.out.with_suffix(".json").read_text()), args.out)
        return 0
    sizes = [Size.parse(s) for s in args.sizes.split(",") if s.strip()]
    run(sizes, args.out, extras=not args.no_extras, pandas_max_rows=args.pandas_max_rows,
        rss_cap_bytes=int(args.pandas_rss_cap_gb * 2**30), repeat=args.repeat)
    log(f"wrote {args.out}")
    return 0

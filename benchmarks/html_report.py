"""The HTML report at scale: `python -m benchmarks.html_report [--tickers 30] [--days 90]`.

Builds a demo home of N tickers x D days with `stockpipe run`, then times `stockpipe report`
as a user runs it (a fresh process, imports included), measures every file it writes, and
opens the overview and the largest ticker page in headless Chromium, reading how long the page
took to draw its charts (`data-render-ms`, set by the page once every chart is drawn, counted
from navigation start). Results: benchmarks/report_results.json and the "HTML report" section
of benchmarks/results.md (kept when `make bench` rewrites the rest of that file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "report_results.json"
MARK_BEGIN = "<!-- html-report:begin -->"
MARK_END = "<!-- html-report:end -->"
TARGET_BUILD_S = 5.0
TARGET_FILE_BYTES = 2 * 10**6
TARGET_LOAD_S = 3.0
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")
END_DATE = "2026-11-20"


def tickers(n: int) -> List[str]:
    """N distinct 4-letter symbols, the same on every run."""
    import random

    rng, out = random.Random(16), set()
    while len(out) < n:
        out.add("".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)))
    return sorted(out)


GRANULARITY: Optional[str] = None  # STOCKPIPE_PARTITION_GRANULARITY for the runs, if set


def _children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: List[str], **kw) -> Tuple[subprocess.CompletedProcess, float, float]:
    """(process, wall seconds, CPU seconds of it and its children)."""
    cpu, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    return proc, time.perf_counter() - start, _children_cpu() - cpu


def _cli(home: Path, *args: str) -> Tuple[subprocess.CompletedProcess, float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STOCKPIPE_", "POLYGON_"))}
    env["STOCKPIPE_HOME"] = str(home)
    if GRANULARITY:
        env["STOCKPIPE_PARTITION_GRANULARITY"] = GRANULARITY
    return _run([sys.executable, "-m", "runtime.cli", *args], cwd=REPO, env=env, timeout=1800)


def make_home(home: Path, n: int, days: int) -> None:
    proc, _, _ = _cli(home, "run", "--source", "demo", "--tickers", ",".join(tickers(n)), "--days",
                str(days), "--end-date", END_DATE, "--json")
    if proc.returncode != 0:
        raise SystemExit(f"stockpipe run failed ({proc.returncode}): {proc.stderr[-2000:]}")


def time_build(home: Path, out: Path, days: int, repeat: int) -> Tuple[List[float], List[float]]:
    """(wall seconds, CPU seconds) of each `stockpipe report` process."""
    walls, cpus = [], []
    for _ in range(repeat):
        proc, wall, cpu = _cli(home, "report", "--days", str(days), "--out", str(out))
        if proc.returncode != 0:
            raise SystemExit(f"stockpipe report failed: {proc.stderr[-2000:]}")
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def sizes(out: Path) -> Dict[str, int]:
    files = [out / "report.html", *sorted((out / "report_files").iterdir())]
    return {str(p.relative_to(out)): p.stat().st_size for p in files}


def load(page: Path, profile: Path) -> Dict[str, float]:
    """One cold open in headless Chromium: the page's own draw time and the process's."""
    proc, wall, cpu = _run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                            "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
                           timeout=240)
    found = re.search(r'data-render-ms="(\d+)"', proc.stdout)
    errors = re.search(r"data-js-errors=\"([^\"]*)\"", proc.stdout)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"chromium did not draw {page}: {proc.stderr[-1000:]}")
    return {"render_s": int(found.group(1)) / 1000, "process_s": wall, "process_cpu_s": cpu,
            "js_errors": errors.group(1) if errors else "?"}


def measure(n: int, days: int, repeat: int, work: Path) -> Dict[str, object]:
    home = work / "home"
    if not (home / "catalog.duckdb").exists():
        make_home(home, n, days)
    result: Dict[str, object] = {"tickers": n, "days": days, "ranges": []}
    # The target's range, then the longest range still drawn hourly (the largest pages).
    from runtime.report.span import HOURLY_MAX_DAYS

    for report_days in (days, HOURLY_MAX_DAYS):
        out = work / f"out-{report_days}"
        out.mkdir(exist_ok=True)
        builds, build_cpu = time_build(home, out, report_days, repeat)
        files = sizes(out)
        pages = {k: v for k, v in files.items() if k.endswith(".html")}
        largest_page = max(pages, key=pages.get)
        tickers_pages = {k: v for k, v in pages.items() if k != "report.html"}
        loads = {}
        # The overview, and the largest page that draws charts (plotly.js included).
        for name in ("report.html", max(tickers_pages, key=tickers_pages.get)):
            opens = [load(out / name, work / f"profile-{report_days}-{i}")
                     for i in range(repeat)]
            loads[name] = {"render_s": [o["render_s"] for o in opens],
                           "process_s": [o["process_s"] for o in opens],
                           "process_cpu_s": [o["process_cpu_s"] for o in opens],
                           "js_errors": sorted({o["js_errors"] for o in opens})}
        result["ranges"].append({
            "report_days": report_days, "build_s": builds, "build_cpu_s": build_cpu,
            "files": len(files),
            "largest_file": max(files, key=files.get), "largest_file_bytes": max(files.values()),
            "largest_page": largest_page, "largest_page_bytes": pages[largest_page],
            "total_bytes": sum(files.values()), "loads": loads,
        })
    return result


def _cpu(values: Optional[List[float]]) -> str:
    return f", {min(values):.2f} s CPU" if values else ""


def _ok(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def _run_section(results: Dict) -> List[str]:
    """One run's paragraph and tables."""
    n, days = results["tickers"], results["days"]
    flag = f" --granularity {results['granularity']}" if results.get("granularity") else ""
    lines = [f"`python -m benchmarks.html_report --tickers {n} --days {days}{flag}`, run "
             f"{results['when']} on {results['machine']}"
             f"{', partitions by ' + results['granularity'] if results.get('granularity') else ''}"
             ". `stockpipe report` timed as a fresh "
             "process (imports included), best of the runs listed; sizes of every file it "
             "writes; Chromium: the page's own time from navigation start to every chart drawn "
             "(`data-render-ms`), cold profile, best of the runs listed. CPU seconds (user + "
             "system, the process and its children) are what the work costs; wall seconds on a "
             "shared machine also hold the waits for other processes' turns on the cores.", "",
             "| target | measured | result |", "|---|---|---|"]
    main = results["ranges"][0]
    build = min(main["build_s"])
    cpu = main.get("build_cpu_s") or []
    lines.append(f"| {n} tickers x {days} days builds in < {TARGET_BUILD_S:.0f} s | "
                 f"{build:.2f} s (runs: {', '.join(f'{x:.2f}' for x in main['build_s'])}"
                 f"{'; CPU ' + ', '.join(f'{x:.2f}' for x in cpu) + ' s' if cpu else ''}) | "
                 f"{_ok(build < TARGET_BUILD_S)} |")
    for r in results["ranges"]:
        lines.append(f"| largest page < 2 MB ({r['report_days']}-day report) | "
                     f"{r['largest_page']}: {r['largest_page_bytes'] / 1e6:.3f} MB | "
                     f"{_ok(r['largest_page_bytes'] < TARGET_FILE_BYTES)} |")
    for r in results["ranges"]:
        lines.append(f"| largest file < 2 MB ({r['report_days']}-day report) | "
                     f"{r['largest_file']}: {r['largest_file_bytes'] / 1e6:.3f} MB | "
                     f"{_ok(r['largest_file_bytes'] < TARGET_FILE_BYTES)} |")
    for r in results["ranges"]:
        for name, opened in r["loads"].items():
            best = min(opened["render_s"])
            lines.append(
                f"| loads in headless Chromium < {TARGET_LOAD_S:.0f} s ({r['report_days']}-day "
                f"report, {name}) | {best:.2f} s drawn (runs: "
                f"{', '.join(f'{x:.2f}' for x in opened['render_s'])}; whole Chromium process "
                f"{min(opened['process_s']):.2f} s wall"
                f"{_cpu(opened.get('process_cpu_s'))}); script errors: "
                f"{', '.join(opened['js_errors'])} | {_ok(best < TARGET_LOAD_S)} |")
    lines.append("")
    lines.append("| report | build wall s (all runs) | build CPU s | files | total MB | "
                 "largest page |")
    lines.append("|---|---|---|---|---|---|")
    for r in results["ranges"]:
        cpus = ", ".join(f"{x:.2f}" for x in r.get("build_cpu_s") or []) or "-"
        lines.append(f"| {r['report_days']} days | {', '.join(f'{x:.2f}' for x in r['build_s'])}"
                     f" | {cpus} | {r['files']} | {r['total_bytes'] / 1e6:.2f} | "
                     f"{r['largest_page']} ({r['largest_page_bytes'] / 1e3:.0f} kB) |")
    return lines


def runs_of(saved: Dict) -> List[Dict]:
    """The recorded runs, one per partition granularity (a lone run is a list of one)."""
    return saved["runs"] if "runs" in saved else [saved]


def section(saved: Dict) -> str:
    """The results.md section (between markers, so it can be replaced in place)."""
    lines = [MARK_BEGIN, "## HTML report (issue 16)", ""]
    for run in runs_of(saved):
        lines += _run_section(run) + [""]
    lines.append(MARK_END)
    return "\n".join(lines) + "\n"


def merged(saved: Optional[Dict], run: Dict) -> Dict:
    """`saved` runs with `run` in place of the one of the same granularity."""
    kept = [r for r in (runs_of(saved) if saved else [])
            if r.get("granularity") != run.get("granularity")]
    return {"runs": sorted(kept + [run], key=lambda r: r.get("granularity") or "")}


def with_section(markdown: str, results: Optional[Dict] = None) -> str:
    """`markdown` with the HTML report section replaced (or appended) from `results` (default:
    the saved report_results.json; unchanged when there is none)."""
    if results is None:
        if not RESULTS.exists():
            return markdown
        results = json.loads(RESULTS.read_text())
    block = section(results)
    pattern = re.compile(re.escape(MARK_BEGIN) + r".*?" + re.escape(MARK_END) + r"\n?", re.S)
    if pattern.search(markdown):
        return pattern.sub(lambda m: block, markdown)
    return markdown.rstrip("\n") + "\n\n" + block


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.html_report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickers", type=int, default=30)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, help="keep the home and reports here (default: temp)")
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    ap.add_argument("--granularity", choices=("hour", "day"),
                    help="STOCKPIPE_PARTITION_GRANULARITY for the runs (default: the default)")
    args = ap.parse_args(argv)
    global GRANULARITY
    GRANULARITY = args.granularity
    import platform

    with tempfile.TemporaryDirectory(prefix="stockpipe-report-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = measure(args.tickers, args.days, args.repeat, work)
        for r in results["ranges"]:
            r["file_sizes"] = sizes(work / f"out-{r['report_days']}")
    results["granularity"] = args.granularity
    results["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python " \
                         f"{platform.python_version()}"
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load_avg is not None:
        results["machine"] += f", load average {load_avg:.1f} when it ended"
    saved = merged(json.loads(RESULTS.read_text()) if RESULTS.exists() else None, results)
    RESULTS.write_text(json.dumps(saved, indent=1) + "\n")
    current = args.out.read_text() if args.out.exists() else ""
    args.out.write_text(with_section(current, saved))
    print(section(saved))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the local engine's time goes: `python -m benchmarks.profile SIZE [--granularity hour]`.

Runs crawl, transform, dedup and quality on generated data (same as the benchmark) with
the engine wrapped so every statement is timed, and under cProfile for the Python side. Writes
benchmarks/profile-<size>-<granularity>.md and prints its path.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.generate import Size, ensure

HERE = Path(__file__).resolve().parent


@dataclass
class Statement:
    step: str
    kind: str
    target: str
    seconds: float
    reads_raw: bool
    sql_head: str


def classify(sql: str) -> tuple:
    """('CTAS', 'table') / ('INSERT', 'table') / ('SELECT', '') ... from the statement text."""
    text = re.sub(r"--[^\n]*", "", sql).strip()
    upper = text.upper()
    m = re.match(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", text, re.I)
    if m and re.search(r"\)\s*AS\s|\bAS\s+SELECT\b|\bAS\s*\(", upper):
        return "CTAS", m.group(1)
    m = re.match(r"INSERT\s+INTO\s+(\w+)", text, re.I)
    if m:
        return "INSERT", m.group(1)
    m = re.match(r"CREATE\s+(?:EXTERNAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", text, re.I)
    if m:
        return "CREATE TABLE", m.group(1)
    m = re.match(r"(DROP\s+\w+|CREATE\s+OR\s+REPLACE\s+VIEW|SELECT|WITH|SHOW|DESCRIBE|\w+)",
                 text, re.I)
    return (m.group(1).upper() if m else "?"), ""


def timing_engine(engine: Any, log: List[Statement], step: Dict[str, str], raw_table: str):
    """Wrap `engine` so each execute() is timed into `log`; everything else passes through."""
    from runtime.engines.base import Engine

    raw_ref = re.compile(rf"\b{re.escape(raw_table)}\b", re.I)

    def reads(sql: str) -> bool:
        """Whether `sql` names the raw table outside comments and string literals."""
        return bool(raw_ref.search(re.sub(r"--[^\n]*|'(?:[^']|'')*'", "", sql)))

    class Timed(Engine):
        def __init__(self) -> None:
            self.database = getattr(engine, "database", "")

        def execute(self, sql: str):
            start = time.perf_counter()
            try:
                return engine.execute(sql)
            finally:
                kind, target = classify(sql)
                log.append(Statement(step["name"], kind, target, time.perf_counter() - start,
                                     reads(sql) and kind != "CREATE TABLE",
                                     " ".join(sql.split())[:140]))

        def create_stage(self, name, select_sql, location, **kwargs):
            start = time.perf_counter()
            try:
                return engine.create_stage(name, select_sql, location, **kwargs)
            finally:
                log.append(Statement(step["name"], "STAGE", name, time.perf_counter() - start,
                                     reads(select_sql),
                                     " ".join(select_sql.split())[:140]))

        def drop_stage(self, name, location, storage, **kwargs):
            return engine.drop_stage(name, location, storage, **kwargs)

        def consistent_reads(self):
            return engine.consistent_reads()

        def list_tables(self):
            return engine.list_tables()

        def table_exists(self, name: str) -> bool:
            return engine.table_exists(name)

        def close(self) -> None:
            engine.close()

        def __getattr__(self, name: str) -> Any:
            return getattr(engine, name)

    return Timed()


def profile(size: Size, granularity: str, root: Optional[Path] = None) -> Path:
    from benchmarks.contenders import (
        count_files,
        empty_trash,
        fresh_home,
        open_local_engine,
        stockpipe_settings,
    )
    from benchmarks.harness import warm_raw
    from runtime import steps
    from runtime.storage import LocalStorage

    root = root or HERE / ".data" / size.label
    manifest, _ = ensure(root, size)
    settings = stockpipe_settings(root, granularity, manifest.tickers)
    fresh_home(settings)
    warm_raw(root)  # as the harness does before each contender
    storage = LocalStorage()
    log: List[Statement] = []
    step = {"name": "open"}
    engine = timing_engine(open_local_engine(settings), log, step, settings.raw_table)
    step_seconds: Dict[str, float] = {}
    results: Dict[str, Any] = {}
    prof = cProfile.Profile()
    try:
        for name in ("crawl", "transform", "dedup", "quality"):
            step["name"] = name
            start = time.perf_counter()
            prof.enable()
            try:
                results[name] = getattr(steps, name)(settings, engine, storage)
            finally:
                prof.disable()
            step_seconds[name] = time.perf_counter() - start
    finally:
        engine.close()
    files = {
        t: count_files(Path(settings.table_location(t)))
        for t in (settings.parquet_table, settings.sans_dup_table)
    }
    empty_trash(root)  # the previous run's tables, set aside by fresh_home
    out = HERE / f"profile-{size.label}-{granularity}.md"
    out.write_text(_markdown(size, granularity, manifest, step_seconds, log, files, results,
                             prof))
    return out


def _markdown(size, granularity, manifest, step_seconds, log, files, results, prof) -> str:
    lines = [
        f"# Local engine profile: {size.label} ({manifest.raw_rows:,} raw rows in "
        f"{manifest.objects} objects), {granularity} partitions",
        "",
        "Generated by `python -m benchmarks.profile`; every engine statement timed, Python "
        "side under cProfile.",
        "",
        "| step | seconds | statements | statements reading raw JSON | seconds in statements |",
        "|---|---|---|---|---|",
    ]
    by_step: Dict[str, List[Statement]] = defaultdict(list)
    for s in log:
        by_step[s.step].append(s)
    for name, secs in step_seconds.items():
        sts = by_step.get(name, [])
        lines.append(f"| {name} | {secs:.2f} | {len(sts)} | {sum(s.reads_raw for s in sts)} "
                     f"| {sum(s.seconds for s in sts):.2f} |")
    lines += ["", "Files written: " + ", ".join(f"{t}: {n:,}" for t, n in files.items()), ""]
    for name in ("transform", "dedup"):
        r = results.get(name)
        if r is not None:
            lines.append(f"- {name}: {getattr(r, 'rows', '?'):,} rows, "
                         f"{getattr(r, 'partitions', '?')} partitions, "
                         f"{getattr(r, 'statements', '?')} statements")
    lines += ["", "## Statements by kind", "", "| step | kind | target | count | seconds "
              "| mean s | max s |", "|---|---|---|---|---|---|---|"]
    groups: Dict[tuple, List[float]] = defaultdict(list)
    for s in log:
        groups[(s.step, s.kind, s.target)].append(s.seconds)
    for (st, kind, target), secs in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
        lines.append(f"| {st} | {kind} | {target} | {len(secs)} | {sum(secs):.2f} "
                     f"| {sum(secs) / len(secs):.3f} | {max(secs):.3f} |")
    lines += ["", "## Ten slowest statements", ""]
    for s in sorted(log, key=lambda s: -s.seconds)[:10]:
        lines.append(f"- {s.seconds:.2f} s [{s.step}] `{s.sql_head}`")
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    lines += ["", "## Python side (cProfile, top 15 by own time)", "", "```",
              *[ln for ln in buf.getvalue().splitlines() if ln.strip()][:40], "```", ""]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    ap.add_argument("size", help="TICKERSxDAYS, e.g. 500x365")
    ap.add_argument("--granularity", choices=("hour", "day"), default="hour")
    args = ap.parse_args(argv)
    print(profile(Size.parse(args.size), args.granularity))
    return 0


if __name__ == "__main__":
    sys.exit(main())

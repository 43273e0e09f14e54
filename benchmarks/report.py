"""results.json -> results.md (tables, targets with pass/fail, machine, how to reproduce) and
results.png (matplotlib, offline; skipped with a note when matplotlib is missing)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

GB = 2**30
TARGET_SPEEDUP = 10.0  # stockpipe rows/s >= 10x pandas
TARGET_FLOOR_RATIO = 3.0  # stockpipe wall <= 3x floor
TARGET_RSS_BYTES = 4 * GB
TARGET_DEFAULT_JOB_S = 5.0
TARGET_FIREHOSE_CALLS = 3.0


def _runs(size: Dict, contender: str, granularity: Optional[str] = "hour") -> List[Dict]:
    """Completed runs only: a run killed at the memory cap has no numbers."""
    return [
        r for r in size["runs"]
        if r["contender"] == contender and not r.get("killed")
        and (granularity is None or r["granularity"] == granularity)
    ]


def _one(size: Dict, contender: str, granularity: str = "hour") -> Optional[Dict]:
    found = _runs(size, contender, granularity if contender != "floor" else None)
    return found[0] if found else None


def pandas_rate(results: Dict, size: Dict) -> Tuple[Optional[float], bool]:
    """pandas rows/s at `size`, or (extrapolated) the rate at the largest size it ran."""
    run = _one(size, "pandas")
    if run:
        return run["rows_per_second"], False
    measured = [(s["manifest"]["raw_rows"], _one(s, "pandas")) for s in results["sizes"]]
    measured = [(n, r) for n, r in measured if r]
    if not measured:
        return None, True
    # Holding rows/s constant flatters pandas: its rate only falls as its frames grow.
    return max(measured, key=lambda x: x[0])[1]["rows_per_second"], True


def _fmt_s(x: Optional[float]) -> str:
    return "-" if x is None else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def _fmt_rate(x: Optional[float]) -> str:
    return "-" if not x else f"{x:,.0f}"


def _fmt_gb(x: Optional[float]) -> str:
    return "-" if not x else f"{x / GB:.2f}"


def targets(results: Dict) -> List[Tuple[str, str, Optional[bool], str]]:
    """(target, measured, passed or None when not measured, note)."""
    out: List[Tuple[str, str, Optional[bool], str]] = []
    sizes = results.get("sizes", [])
    big = max(sizes, key=lambda s: s["manifest"]["raw_rows"]) if sizes else None
    if big:
        label = f"{big['size']} ({big['manifest']['raw_rows']:,} raw rows)"
        sp, fl = _one(big, "stockpipe"), _one(big, "floor")
        prate, extrapolated = pandas_rate(results, big)
        if sp and prate:
            ratio = sp["rows_per_second"] / prate
            note = "pandas rate extrapolated from a smaller size" if extrapolated else ""
            out.append((f"stockpipe >= {TARGET_SPEEDUP:.0f}x pandas rows/s at {label}",
                        f"{ratio:.1f}x", ratio >= TARGET_SPEEDUP, note))
        if sp and fl:
            ratio = sp["timed_seconds"] / fl["timed_seconds"]
            out.append((f"stockpipe wall <= {TARGET_FLOOR_RATIO:.0f}x floor at {label}",
                        f"{ratio:.1f}x ({_fmt_s(sp['timed_seconds'])} s vs "
                        f"{_fmt_s(fl['timed_seconds'])} s)", ratio <= TARGET_FLOOR_RATIO,
                        "" if ratio <= TARGET_FLOOR_RATIO else _floor_gap_note(sp)))
        day = _one(big, "stockpipe", "day")
        pday = _one(big, "pandas", "day")
        if day and pday:
            ratio = day["rows_per_second"] / pday["rows_per_second"]
            out.append((f"(option) stockpipe >= {TARGET_SPEEDUP:.0f}x pandas rows/s, both with "
                        f"day partitions, at {label}", f"{ratio:.1f}x",
                        ratio >= TARGET_SPEEDUP, "STOCKPIPE_PARTITION_GRANULARITY=day"))
        if day and fl:
            # Not the default layout, so reported beside the target rather than as it.
            ratio = day["timed_seconds"] / fl["timed_seconds"]
            out.append((f"(option) stockpipe with day partitions, wall <= "
                        f"{TARGET_FLOOR_RATIO:.0f}x floor at {label}",
                        f"{ratio:.1f}x ({_fmt_s(day['timed_seconds'])} s vs "
                        f"{_fmt_s(fl['timed_seconds'])} s)", ratio <= TARGET_FLOOR_RATIO,
                        "STOCKPIPE_PARTITION_GRANULARITY=day"))
        if sp:
            rss = sp["peak_rss_bytes"]
            out.append((f"stockpipe peak RSS < 4 GB at {label}", f"{rss / GB:.2f} GB",
                        rss < TARGET_RSS_BYTES, ""))
    job = results.get("default_job")
    if job:
        secs = job.get("seconds")
        out.append(("default job (1 ticker x 7 days, demo) end to end < 5 s",
                    "-" if secs is None else f"{secs:.2f} s",
                    None if secs is None else secs < TARGET_DEFAULT_JOB_S, job.get("note", "")))
    ing = results.get("ingestion")
    if ing:
        calls = ing.get("stockpipe_calls_per_1000_bars")
        out.append(("Firehose <= 3 API calls per 1,000 bars",
                    "-" if calls is None else f"{calls:g}",
                    None if calls is None else calls <= TARGET_FIREHOSE_CALLS, ing.get("note", "")))
    return out


def _floor_gap_note(sp: Dict) -> str:
    """Where a stockpipe run over the floor target spent its time (the remaining cause)."""
    phases = sp.get("phases") or {}
    parts = [f"{k} {phases[k]:.1f} s" for k in ("transform", "dedup", "quality") if k in phases]
    files = sp.get("parquet_files")
    text = "remaining: " + ", ".join(parts) if parts else ""
    if files:
        text += (f"{'; ' if text else ''}{files:,} Parquet files per table, written in "
                 "batches of at most 100 partitions; see docs/performance.md")
    return text


def markdown(results: Dict, png_name: Optional[str]) -> str:
    m = results["machine"]
    lines = [
        "# stockpipe scale benchmark (issue #7)",
        "",
        "Generated by `python -m benchmarks` (`make bench`); do not edit by hand: rerun it. "
        "What the numbers mean and where the time goes: [docs/performance.md]"
        "(../docs/performance.md).",
        "",
        f"Run {results.get('started', '?')} to {results.get('finished', '(unfinished)')}.",
        "",
        "## Targets",
        "",
        "| target | measured | result | note |",
        "|---|---|---|---|",
    ]
    for name, measured, passed, note in targets(results):
        verdict = "not measured" if passed is None else ("PASS" if passed else "FAIL")
        lines.append(f"| {name} | {measured} | {verdict} | {note} |")
    lines += [
        "",
        "## Transform + dedup + quality, side by side",
        "",
        "Raw rows = every delivery (each bar arrives 5 times). `seconds` is the timed work "
        "(transform + dedup + quality; for the floor, one JSON -> Parquet COPY), measured inside "
        "a fresh process per contender; `peak RSS` is that process's `ru_maxrss`. "
        "Rows/s = raw rows / seconds. Each contender ran "
        f"{results.get('options', {}).get('repeat', 1)} time(s) and the fastest run is shown "
        "(`all runs s` lists every run; other work on the shared cores only adds time), except "
        "the pandas baseline above `--pandas-max-rows`, which ran once.",
        "",
        "| size | raw rows | objects | contender | partitions | seconds | rows/s | peak RSS GB "
        "| Parquet files | sans-dup files | transform s | dedup s | quality s | crawl s "
        "| all runs s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in results["sizes"]:
        man = s["manifest"]
        for r in s["runs"]:
            if r.get("killed"):
                lines.append(
                    f"| {s['size']} | {man['raw_rows']:,} | {man['objects']:,} | {r['contender']} "
                    f"(killed at the memory cap) | {r['granularity']} | > "
                    f"{_fmt_s(r['wall_seconds_with_startup'])} | - "
                    f"| > {_fmt_gb(r['killed_at_rss_bytes'])} | - | - | - | - | - | - | - |"
                )
                continue
            ph = r.get("phases", {})
            gran = "-" if r["contender"] == "floor" else r["granularity"]
            lines.append(
                f"| {s['size']} | {man['raw_rows']:,} | {man['objects']:,} | {r['contender']} "
                f"| {gran} | {_fmt_s(r['timed_seconds'])} | {_fmt_rate(r['rows_per_second'])} "
                f"| {_fmt_gb(r['peak_rss_bytes'])} | {r.get('parquet_files', '-')} "
                f"| {r.get('sans_dup_files', '-')} | {_fmt_s(ph.get('transform'))} "
                f"| {_fmt_s(ph.get('dedup'))} | {_fmt_s(ph.get('quality'))} "
                f"| {_fmt_s(ph.get('crawl'))} "
                f"| {', '.join(_fmt_s(x) for x in r.get('repeats', [r['timed_seconds']]))} |"
            )
        if not _one(s, "pandas"):
            rate, _ = pandas_rate(results, s)
            if rate:
                lines.append(
                    f"| {s['size']} | {man['raw_rows']:,} | {man['objects']:,} | pandas "
                    f"(extrapolated, not run) | hour | ~{_fmt_s(man['raw_rows'] / rate)} "
                    f"| ~{_fmt_rate(rate)} | - | - | - | - | - | - | - | - |"
                )
    comps = [(s["size"], c) for s in results["sizes"] for c in s.get("comparisons", [])]
    if comps:
        lines += [
            "",
            "## Same answer",
            "",
            "The sans-dup tables of stockpipe and the pandas baseline, compared as multisets of "
            "full rows (`EXCEPT ALL` both ways), and the failing-row counts of every check:",
            "",
            "| size | partitions | stockpipe rows | pandas rows | only in stockpipe "
            "| only in pandas | check counts agree |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, c in comps:
            lines.append(
                f"| {label} | {c.get('granularity', 'hour')} | {c['stockpipe_rows']:,} "
                f"| {c['pandas_rows']:,} | {c['only_stockpipe']} | {c['only_pandas']} "
                f"| {'yes' if c.get('checks_agree') else 'NO'} |"
            )
    grans = [s for s in results["sizes"] if _one(s, "stockpipe", "day")]
    if grans:
        lines += [
            "",
            "## Partition granularity (`STOCKPIPE_PARTITION_GRANULARITY`)",
            "",
            "| size | partitions | Parquet files | sans-dup files | transform s | dedup s "
            "| quality s | total s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for s in grans:
            for g in ("hour", "day"):
                r = _one(s, "stockpipe", g)
                if r:
                    ph = r["phases"]
                    lines.append(
                        f"| {s['size']} | {g} | {r['parquet_files']:,} | {r['sans_dup_files']:,} "
                        f"| {_fmt_s(ph['transform'])} | {_fmt_s(ph['dedup'])} "
                        f"| {_fmt_s(ph['quality'])} | {_fmt_s(r['timed_seconds'])} |"
                    )
    ing = results.get("ingestion")
    if ing:
        lines += ["", "## Ingestion: Firehose API calls and bytes per 1,000 bars", ""]
        lines += ["| sender | API calls / 1,000 bars | bytes / 1,000 bars | note |",
                  "|---|---|---|---|"]
        for row in ing.get("rows", []):
            lines.append(f"| {row['sender']} | {row['calls_per_1000_bars']:g} "
                         f"| {row['bytes_per_1000_bars']:,.0f} | {row.get('note', '')} |")
        if ing.get("note"):
            lines += ["", ing["note"]]
    job = results.get("default_job")
    if job:
        lines += ["", "## Default job end to end", "",
                  f"`{job.get('command', 'stockpipe run')}`: "
                  + ("not measured" if job.get("seconds") is None else f"{job['seconds']:.2f} s")
                  + (f" ({job['note']})" if job.get("note") else "")]
        if job.get("runs"):
            lines.append("")
            lines.append("Runs (s): " + ", ".join(f"{x:.2f}" for x in job["runs"]))
    if png_name:
        lines += ["", f"![rows per second and peak memory by size]({png_name})", "",
                  "(plotted offline with matplotlib's Agg backend)"]
    lines += [
        "",
        "## Machine",
        "",
        f"- CPU: {m.get('cpu')} ({m.get('cores')} cores), memory {m.get('memory_gb')} GB; "
        f"load average at start {m.get('loadavg_at_start')} (the cores are shared with other "
        "work, so seconds are noisy; ratios between contenders run back to back are steadier)",
        f"- Python {m.get('python')}, DuckDB {m.get('duckdb')}, pandas {m.get('pandas')}, "
        f"pyarrow {m.get('pyarrow')}; {m.get('platform')}",
        f"- Code measured: {m.get('code', 'unknown')}",
        "",
        "## Reproduce",
        "",
        "```",
        "make install-dev",
        f"python -m benchmarks --sizes {','.join(s['size'] for s in results['sizes'])}"
        + _extra_flags(results.get("options", {})),
        "```",
        "",
        "Data is generated once per size under `benchmarks/.data/<size>/` (git-ignored) in the "
        "Firehose raw layout and reused; delete that folder to regenerate. "
        "`--pandas-max-rows N` sets the size above which the pandas baseline is extrapolated "
        "instead of run; `--report-only` rewrites this page from results.json.",
        "",
    ]
    return "\n".join(lines)


def _extra_flags(options: Dict) -> str:
    from benchmarks.limits import PANDAS_MAX_RAW_ROWS, PANDAS_RSS_CAP

    out = ""
    if options.get("repeat", 2) != 2:
        out += f" --repeat {options['repeat']}"
    if options.get("pandas_max_rows", PANDAS_MAX_RAW_ROWS) != PANDAS_MAX_RAW_ROWS:
        out += f" --pandas-max-rows {options['pandas_max_rows']}"
    cap = options.get("pandas_rss_cap_bytes", PANDAS_RSS_CAP)
    if cap != PANDAS_RSS_CAP:
        out += f" --pandas-rss-cap-gb {cap / GB:g}"
    return out


def plot(results: Dict, png: Path) -> bool:
    """rows/s and peak RSS per contender and size, log scales; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = (("stockpipe", "hour", "o", "-", "stockpipe"), ("pandas", "hour", "s", "-", "pandas"),
              ("floor", "hour", "^", "-", "floor"),
              ("stockpipe", "day", "o", "--", "stockpipe, day partitions"))
    for contender, gran, marker, style, label in series:
        xs, rates, rss = [], [], []
        for s in results["sizes"]:
            r = _one(s, contender, gran)
            if r:
                xs.append(s["manifest"]["raw_rows"])
                rates.append(r["rows_per_second"])
                rss.append(r["peak_rss_bytes"] / GB)
        if xs:
            ax1.plot(xs, rates, marker=marker, linestyle=style, label=label)
            ax2.plot(xs, rss, marker=marker, linestyle=style, label=label)
    ax1.set(xscale="log", yscale="log", xlabel="raw rows", ylabel="raw rows / second",
            title="throughput (transform + dedup + quality)")
    ax2.set(xscale="log", xlabel="raw rows", ylabel="peak RSS (GB)", title="peak memory")
    ax2.axhline(TARGET_RSS_BYTES / GB, color="grey", linestyle="--", linewidth=1)
    from matplotlib.ticker import NullFormatter

    for ax in (ax1, ax2):
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels overlap on a log axis
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return True


def write(results: Dict, out_md: Path) -> None:
    png = out_md.with_suffix(".png")
    has_png = plot(results, png)
    from benchmarks.html_report import with_section

    # The HTML report's section comes from its own benchmark: carried over, not dropped.
    out_md.write_text(with_section(markdown(results, png.name if has_png else None)))

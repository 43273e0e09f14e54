"""The two small figures of issue #7: Firehose API calls and bytes per 1,000 bars, and the
default job (1 ticker x 7 days, demo) end to end."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

# A fixed "now" so the demo window, and so the bar count, is the same on every run.
FIXED_NOW = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)


class CountingFirehose:
    """A stand-in boto3 Firehose client that accepts everything and counts calls and bytes."""

    def __init__(self) -> None:
        self.calls = 0
        self.records = 0
        self.bytes = 0
        self.batch_sizes: List[int] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: List[Dict[str, bytes]]) -> Dict:
        self.calls += 1
        self.records += len(Records)
        self.bytes += sum(len(r["Data"]) for r in Records)
        self.batch_sizes.append(len(Records))
        return {
            "FailedPutCount": 0,
            "Encrypted": False,
            "RequestResponses": [{"RecordId": f"r{i}"} for i in range(len(Records))],
        }

    def put_record(self, DeliveryStreamName: str, Record: Dict[str, bytes]) -> Dict:
        self.calls += 1
        self.records += 1
        self.bytes += len(Record["Data"])
        return {"RecordId": f"r{self.calls}", "Encrypted": False}


def ingest_with_counting_firehose(tickers: int, days: int = 7) -> Dict[str, Any]:
    """The real run_ingest (demo source) into the real FirehoseSink over a counting client,
    and the original design's one put_record per bar over the same records."""
    from benchmarks.generate import ticker_names
    from runtime.ingest import run_ingest
    from runtime.settings import Settings
    from runtime.sinks import FirehoseSink
    from runtime.storage import LocalStorage

    home = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        settings = Settings(home=home, tickers=tuple(ticker_names(tickers)), window_days=days)
        batched = CountingFirehose()
        captured: List[bytes] = []

        class Capture(FirehoseSink):
            def put(self, records):  # keep the lines for the one-call-per-bar replay
                records = list(records)
                captured.extend(records)
                super().put(records)

        sink = Capture("stockpipe-bench", client=batched, sleep=lambda s: None)
        summary = run_ingest(settings, source="demo", sink=sink, storage=LocalStorage(),
                             now=FIXED_NOW)
        sink.flush()
        per_bar = CountingFirehose()
        for data in captured:  # the original: one PutRecord per bar
            per_bar.put_record(DeliveryStreamName="stockpipe-bench", Record={"Data": data})
    finally:
        shutil.rmtree(home, ignore_errors=True)
    bars = summary.bars
    return {"tickers": tickers, "days": days, "bars": bars, "batched": batched,
            "per_bar": per_bar}


def firehose_calls(scale_tickers: int = 100) -> Dict[str, Any]:
    rows = []
    figures: Dict[str, Any] = {}
    for tickers in (1, scale_tickers):
        res = ingest_with_counting_firehose(tickers)
        bars = res["bars"]
        for sender, client in (("stockpipe FirehoseSink (PutRecordBatch)", res["batched"]),
                               ("original: one PutRecord per bar", res["per_bar"])):
            rows.append({
                "sender": f"{sender}, {tickers} ticker(s) x 7 days = {bars:,} bars",
                "calls": client.calls,
                "calls_per_1000_bars": round(client.calls * 1000 / bars, 2),
                "bytes_per_1000_bars": client.bytes * 1000 / bars,
                "note": (f"{client.calls} call(s)" + (
                    f", batches of {max(client.batch_sizes)} records at most"
                    if client.batch_sizes else "")),
            })
        figures[tickers] = res
    scale = figures[scale_tickers]
    return {
        "rows": rows,
        "stockpipe_calls_per_1000_bars": round(scale["batched"].calls * 1000 / scale["bars"], 2),
        "note": (
            f"The target is judged at {scale_tickers} tickers x 7 days ({scale['bars']:,} bars): "
            "PutRecordBatch takes up to 500 records (and 4 MiB), so at scale it costs "
            f"{scale['batched'].calls * 1000 / scale['bars']:.2f} calls per 1,000 bars. "
            "A run with fewer than 500 bars (the default job) makes one call in all, which is "
            "more than 3 per 1,000 bars only because 1,000 bars are never sent."
        ),
    }


def default_job(repeats: int = 3) -> Dict[str, Any]:
    """`stockpipe run --source demo --json` in a fresh home, as a new user runs it after install."""
    exe = Path(sys.executable).parent / "stockpipe"
    if not exe.exists():
        return {"seconds": None, "note": f"{exe} not found: run `make install` first"}
    times: List[float] = []
    reported: List[Optional[float]] = []
    codes: List[int] = []
    last_err = ""
    for _ in range(repeats):
        home = Path(tempfile.mkdtemp(prefix="bench-default-"))
        try:
            start = time.perf_counter()
            proc = subprocess.run(
                [str(exe), "run", "--home", str(home), "--source", "demo", "--json"],
                capture_output=True, text=True,
            )
            times.append(time.perf_counter() - start)
            codes.append(proc.returncode)
            last_err = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
            try:
                reported.append(json.loads(proc.stdout)["seconds"])
            except (ValueError, KeyError, TypeError):
                reported.append(None)
        finally:
            shutil.rmtree(home, ignore_errors=True)
    ok = all(c == 0 for c in codes)
    return {
        "command": "stockpipe run --home <fresh dir> --source demo --json",
        "seconds": statistics.median(times) if ok else None,
        "runs": times,
        "reported_seconds": reported,
        "exit_codes": codes,
        "note": "median of fresh-home runs, process start to exit" if ok
        else f"exit codes {codes}; last stderr line: {last_err}",
    }

"""`stockpipe run` end to end on the local embedded default with demo data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.checks import all_checks

pytestmark = pytest.mark.e2e

END = "2026-11-20"
BARS_PER_SESSION = 16  # demo bars run 04:00-19:00 New York time

CHECK_NAMES = sorted(c.name for c in all_checks())
BLOCKING = sorted(c.name for c in all_checks() if c.severity == "error")
AAPL_7_DAYS = 6 * BARS_PER_SESSION  # sessions 2026-11-13, 16, 17, 18, 19, 20
# 30 days ending 2026-11-20 = 2026-10-21..11-20: Oct 21-23, 26-30, Nov 2-6, 9-13, 16-20.
PER_TICKER_30_DAYS = 23 * BARS_PER_SESSION


def _run_args(home: Path, *extra: str):
    return ["run", "--home", str(home), "--tickers", "AAPL", "--days", "7",
            "--end-date", END, *extra]


def test_run_prints_counts_every_check_and_the_published_table(home, run_cli, make_lake):
    result = run_cli(*_run_args(home))
    assert result.code == 0, result.err
    assert f"rows: raw {AAPL_7_DAYS}, parquet {AAPL_7_DAYS}, sans-dup {AAPL_7_DAYS}" in result.out
    for name in CHECK_NAMES:
        assert re.search(rf"(PASS|FAIL|WARN)\s+{name}\s", result.out), name
    for name in BLOCKING:
        assert re.search(rf"PASS\s+{name}\s", result.out), name
    published = re.search(r"published: (stock_aggregate_prod_\d{8}_\d{6})", result.out)
    assert published
    report = re.search(r"report: (\S+)", result.out).group(1)
    assert Path(report).is_file() and Path(report).stat().st_size > 1000
    # auto with no key chose demo, and said so
    assert "source: demo (auto: POLYGON_API_KEY is not set)" in result.err

    lake = make_lake(home)
    assert lake.prod_tables() == [published.group(1)]
    assert lake.scalar("SELECT count(*) FROM stock_aggregate_prod_latest") == AAPL_7_DAYS
    first = lake.rows(
        "SELECT ticker, bar_time, day_hour_partition FROM stock_aggregate_prod_latest "
        "ORDER BY bar_time_ms LIMIT 1"
    )[0]
    # The first demo bar starts 04:00 New York (EST) on 2026-11-13 = 09:00 UTC.
    assert (first[0], str(first[1]), first[2]) == (
        "AAPL", "2026-11-13 09:00:00", "2026-11-13-04"
    )


def test_run_json_has_the_documented_keys_with_real_values(home, run_cli):
    first = run_cli(*_run_args(home, "--json"))
    assert first.code == 0, first.err
    data = first.json()  # exactly one JSON object on stdout
    assert set(data) >= {"raw_rows", "parquet_rows", "sans_dup_rows", "checks",
                         "published_table", "report", "seconds", "mode", "raw_objects_read",
                         "partitions_rewritten"}
    # The first run builds every table: full, saying why.
    assert (data["mode"], data["full_refresh_reason"]) == (
        "full", "table stock_aggregate_parquet does not exist")
    assert data["raw_objects_read"] == 1
    assert data["partitions_rewritten"] == 6  # six sessions, day partitions
    assert data["raw_rows"] == data["parquet_rows"] == data["sans_dup_rows"] == AAPL_7_DAYS
    assert sorted(c["name"] for c in data["checks"]) == CHECK_NAMES
    for c in data["checks"]:
        assert set(c) == {"name", "severity", "failing_rows", "passed"}
        assert c["passed"] == (c["failing_rows"] == 0)
        if c["severity"] == "error":
            assert c["passed"], c
    assert re.fullmatch(r"stock_aggregate_prod_\d{8}_\d{6}", data["published_table"])
    assert Path(data["report"]).is_file()
    assert data["seconds"] > 0

    # The same window again: raw keeps both deliveries, dedup folds them back to one each.
    second = run_cli(*_run_args(home, "--json")).json()
    assert (second["mode"], second["raw_objects_read"], second["partitions_rewritten"]) == (
        "incremental", 1, 6)
    assert "full_refresh_reason" not in second
    assert second["raw_rows"] == second["parquet_rows"] == 2 * AAPL_7_DAYS
    assert second["sans_dup_rows"] == AAPL_7_DAYS <= second["raw_rows"]
    assert second["published_table"] != data["published_table"]


def test_under_cron_the_console_script_logs_one_line_per_ticker_and_step(home, tmp_path):
    """As cron runs it: no terminal, no stdin, stdout and stderr to files."""
    script = Path(sys.executable).parent / "stockpipe"
    env = {k: v for k, v in os.environ.items() if k != "POLYGON_API_KEY"}
    out, err = tmp_path / "out.json", tmp_path / "err.log"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.run(
            [str(script), "run", "--home", str(home), "--tickers", "AAPL,MSFT", "--days", "7",
             "--end-date", END, "--json"],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env, timeout=600,
            check=False,
        )
    log = err.read_text()
    assert proc.returncode == 0, log
    data = json.loads(out.read_text())
    assert data["raw_rows"] == data["sans_dup_rows"] == 2 * AAPL_7_DAYS
    lines = log.splitlines()
    assert lines[0] == "source: demo (auto: POLYGON_API_KEY is not set)"
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info    "
    for ticker in ("AAPL", "MSFT"):
        assert [ln for ln in lines if re.fullmatch(
            rf"{stamp}{ticker}: {AAPL_7_DAYS} bars \(0 rejected\) in \d+\.\ds", ln)], log
    done = [re.fullmatch(rf"{stamp}\[(\d)/5\] (\w+): done in \d+\.\ds(, (\d+) rows)?( \(.*\))?",
                         ln) for ln in lines]
    steps = [(m.group(2), m.group(4)) for m in done if m]
    rows = str(2 * AAPL_7_DAYS)
    assert steps == [("crawl", None), ("transform", rows), ("dedup", rows),
                     ("quality", None), ("publish", rows)]
    # every stderr line but the source notice is a timestamped log line
    assert all(re.match(stamp, ln) for ln in lines[1:]), log


def test_log_format_json_gives_one_object_per_line_with_the_tickers(home, tmp_path):
    script = Path(sys.executable).parent / "stockpipe"
    proc = subprocess.run(
        [str(script), "ingest", "--home", str(home), "--tickers", "AAPL,MSFT", "--days", "7",
         "--end-date", END, "--source", "demo", "--log-format", "json"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stderr.splitlines()]
    assert {r["level"] for r in records} == {"info"}
    per_ticker = [(r["ticker"], r["bars"]) for r in records if "bars" in r and "ticker" in r]
    assert per_ticker == [("AAPL", AAPL_7_DAYS), ("MSFT", AAPL_7_DAYS)]
    starts = [(r["ticker"], r["index"], r["total"]) for r in records if "index" in r]
    assert starts == [("AAPL", 1, 2), ("MSFT", 2, 2)]
    assert proc.stdout.startswith(f"ingested {2 * AAPL_7_DAYS} bars")


def test_dotted_tickers_over_30_days_and_a_rerun_publishes_identical_data(
    home, run_cli, make_lake
):
    args = ["run", "--home", str(home), "--tickers", "AAPL,MSFT,BRK.B", "--days", "30",
            "--end-date", END, "--source", "demo", "--json"]
    first = run_cli(*args)
    assert first.code == 0, first.err
    one = first.json()
    assert one["sans_dup_rows"] == one["raw_rows"] == 3 * PER_TICKER_30_DAYS
    second = run_cli(*args)
    assert second.code == 0, second.err
    two = second.json()
    assert two["sans_dup_rows"] == one["sans_dup_rows"]
    assert two["raw_rows"] == 2 * one["raw_rows"]
    assert two["published_table"] != one["published_table"]

    lake = make_lake(home, ("AAPL", "MSFT", "BRK.B"))
    cols = ("ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, "
            "transactions, day_hour_partition")
    a, b = one["published_table"], two["published_table"]
    for x, y in ((a, b), (b, a)):
        diff = f"SELECT {cols} FROM {x} EXCEPT SELECT {cols} FROM {y}"
        assert lake.rows(diff) == []
    per_ticker = dict(lake.rows(f"SELECT ticker, count(*) FROM {b} GROUP BY ticker"))
    assert per_ticker == {t: PER_TICKER_30_DAYS for t in ("AAPL", "MSFT", "BRK.B")}
    # The view follows the newest archive.
    assert lake.scalar(
        "SELECT count(*) FROM stock_aggregate_prod_latest WHERE ticker = 'BRK.B'"
    ) == PER_TICKER_30_DAYS
    assert sorted(lake.prod_tables()) == sorted([a, b])
    # BRK.B reached the file names of the raw lake intact.
    raw_tickers = {r["ticker"] for r in lake.raw_records()}
    assert raw_tickers == {"AAPL", "MSFT", "BRK.B"}


def test_run_with_a_blocking_failure_exits_3_and_keeps_the_previous_copy(
    home, run_cli, make_lake
):
    first = run_cli(*_run_args(home, "--json")).json()
    lake = make_lake(home)
    before = lake.rows("SELECT * FROM stock_aggregate_prod_latest ORDER BY bar_time_ms")
    # A zero-volume bar outside the window, so the next ingest does not restate it.
    from datetime import datetime, timezone

    lake.inject_raw([{
        "ticker": "AAPL", "t": 1_790_000_000_000, "o": 10, "h": 11, "l": 9, "c": 10, "v": 0,
        "vw": 10, "n": 1, "ingested_at": "2026-11-21T12:00:00.000Z", "request_id": "bad",
        "window_from": "2026-09-20", "window_to": "2026-09-27", "source": "demo",
    }], arrival=datetime(2026, 11, 21, 12, tzinfo=timezone.utc))
    lake.close()
    result = run_cli(*_run_args(home, "--json"))
    assert result.code == 3
    data = json.loads(result.out)  # still exactly one JSON object
    assert data["published_table"] is None and data["report"] is None
    failed = [c for c in data["checks"] if not c["passed"] and c["severity"] == "error"]
    assert failed == [{"name": "zero_values", "severity": "error", "failing_rows": 1,
                       "passed": False}]
    assert data["raw_rows"] == data["parquet_rows"] == 2 * AAPL_7_DAYS + 1
    assert data["sans_dup_rows"] == AAPL_7_DAYS + 1
    assert "nothing published" in result.err
    assert lake.prod_tables() == [first["published_table"]]
    assert lake.rows("SELECT * FROM stock_aggregate_prod_latest ORDER BY bar_time_ms") == before


@pytest.fixture
def report_disk_full(monkeypatch):
    """report.html cannot be written (its disk is full); every other file can."""
    import errno

    real = Path.write_text

    def write_text(self, *args, **kwargs):
        if self.name.startswith(".tmp-report.html"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


def test_a_report_failure_after_a_publish_is_a_warning_and_exit_0(
    home, run_cli, make_lake, report_disk_full
):
    result = run_cli(*_run_args(home, "--json"))
    # The pipeline published: exit 0, so a scheduler does not rerun it into a second archive.
    assert result.code == 0, result.err
    data = result.json()
    target = home / "reports" / "report.html"
    assert data["report"] is None
    assert data["report_error"] == (
        f"cannot write the report to {target}: No space left on device; pass --out with a "
        "writable file or folder"
    )
    assert make_lake(home).prod_tables() == [data["published_table"]]
    warnings = [line for line in result.err.splitlines() if "warning" in line]
    assert warnings == [
        f"stockpipe: warning: {data['published_table']} was published, but the report was not "
        f"written: {data['report_error']}; rebuild it with `stockpipe report`"
    ]


def test_workflow_reports_the_report_failure_the_same_way(home, run_cli, report_disk_full):
    assert run_cli("ingest", "--home", str(home), "--tickers", "AAPL", "--days", "7",
                   "--end-date", END).code == 0
    result = run_cli("workflow", "--home", str(home), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["published_table"] and data["report"] is None
    assert "No space left on device" in data["report_error"]
    assert f"stockpipe: warning: {data['published_table']} was published" in result.err


def test_a_successful_run_has_no_report_error(home, run_cli):
    data = run_cli(*_run_args(home, "--json")).json()
    assert data["report_error"] is None and Path(data["report"]).is_file()

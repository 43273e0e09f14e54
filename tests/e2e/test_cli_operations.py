"""Operating stockpipe unattended: signals stop any command cleanly, `status` tells cron and
monitoring whether the data is current, and failures under --json are one object on stdout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runtime.checks import all_checks
from runtime.cli import lock_holder

pytestmark = pytest.mark.e2e

STOCKPIPE = str(Path(sys.executable).parent / "stockpipe")
KEY = "pk-test-not-a-real-key-7f3a"


def _env(**extra: str):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POLYGON_", "STOCKPIPE_"))}
    env.update(extra)
    return env


def _start(argv, env, err_path: Path) -> subprocess.Popen:
    """The console script as cron starts it: no stdin, stdout and stderr to files."""
    err = open(err_path, "w")
    proc = subprocess.Popen([STOCKPIPE, *argv], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=err, env=env)
    err.close()
    return proc


def _wait_for(path: Path, text: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text():
            return
        if proc.poll() is not None:
            pytest.fail(f"exited {proc.returncode} before {text!r}: {path.read_text()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{text!r} never appeared: {path.read_text()}")


@pytest.fixture
def stalling_polygon():
    """A loopback Polygon that accepts each request and never answers (until teardown)."""
    release = threading.Event()
    asked = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            asked.set()
            release.wait(60)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        release.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("signum", "code", "line"), [
    (signal.SIGTERM, 143, "stockpipe: stopped (SIGTERM)"),
    (signal.SIGINT, 130, "stockpipe: interrupted (SIGINT)"),
])
def test_a_signal_stops_a_run_waiting_on_the_api_and_frees_the_home(
    home, tmp_path, stalling_polygon, signum, code, line
):
    url, asked = stalling_polygon
    err = tmp_path / "err.log"
    proc = _start(["run", "--home", str(home), "--tickers", "AAPL"],
                  _env(POLYGON_API_KEY=KEY, POLYGON_BASE_URL=url), err)
    assert asked.wait(60), err.read_text()
    assert lock_holder(home).command == "run"  # the run holds the home while it waits
    proc.send_signal(signum)
    assert proc.wait(timeout=60) == code
    lines = err.read_text().splitlines()
    assert lines[-1] == line
    assert "Traceback" not in err.read_text() and KEY not in err.read_text()
    assert lock_holder(home) is None


def test_sigterm_mid_workflow_leaves_a_home_the_next_workflow_completes(home, tmp_path, run_cli):
    assert run_cli("ingest", "--home", str(home), "--source", "demo", "--tickers", "AAPL",
                   "--end-date", "2026-11-20").code == 0
    err = tmp_path / "err.log"
    proc = _start(["workflow", "--home", str(home)], _env(), err)
    _wait_for(err, "[2/5] transform:", proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert err.read_text().splitlines()[-1] == "stockpipe: stopped (SIGTERM)"
    assert lock_holder(home) is None
    # the statement in flight ended or rolled back: the catalog opens and a rerun publishes
    again = run_cli("workflow", "--home", str(home), "--json")
    assert again.code == 0, again.err
    assert again.json()["published_table"].startswith("stock_aggregate_prod_")


def test_sigterm_stops_the_schedule_with_143(home, tmp_path):
    err = tmp_path / "err.log"
    proc = _start(["schedule", "--home", str(home)], _env(), err)
    _wait_for(err, "next workflow:", proc, timeout=60)
    _wait_for(err, "next ingest:", proc, timeout=60)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    lines = err.read_text().splitlines()
    assert lines[-1] == "stockpipe: stopped (SIGTERM)"
    assert "Traceback" not in err.read_text()
    assert lock_holder(home) is None


# ---- --json failures --------------------------------------------------------------------------
def test_a_failing_run_under_json_prints_one_error_object_on_stdout(home, run_cli, monkeypatch):
    monkeypatch.setenv("POLYGON_API_KEY", KEY)
    monkeypatch.setenv("POLYGON_BASE_URL", "http://127.0.0.1:9")  # discard: refused at once
    from runtime.polygon import PolygonClient

    original = PolygonClient.from_settings.__func__
    monkeypatch.setattr(PolygonClient, "from_settings", classmethod(
        lambda cls, settings, **kw: original(cls, settings, sleep=lambda s: None, **kw)))
    result = run_cli("run", "--home", str(home), "--json")
    assert result.code == 1
    error = result.json()
    assert set(error) == {"error", "exit_code", "hint"}
    assert error["exit_code"] == 1
    assert error["error"].startswith("AAPL: cannot connect to 127.0.0.1:9")
    assert error["hint"] == "check the network and POLYGON_BASE_URL, or try again later"
    assert result.messages[-1] == f"stockpipe: error: {error['error']}"
    assert KEY not in result.out + result.err


# ---- status -----------------------------------------------------------------------------------
def _status(run_cli, home, *extra):
    result = run_cli("status", "--home", str(home), "--json", *extra)
    return result.code, result.json()


def test_status_of_a_current_home_exits_0(home, run_cli):
    # the demo window ending today includes the last completed session
    assert run_cli("run", "--home", str(home), "--source", "demo", "--tickers", "AAPL,MSFT",
                   "--days", "7").code == 0
    code, status = _status(run_cli, home, "--tickers", "AAPL,MSFT")
    assert (code, status["state"], status["problems"]) == (0, "current", [])
    assert [t["ticker"] for t in status["freshness"]["tickers"]] == ["AAPL", "MSFT"]
    assert all(t["current"] for t in status["freshness"]["tickers"])
    pub = status["last_publish"]
    assert pub["table"].startswith("stock_aggregate_prod_") and pub["rows"] > 0
    published = datetime.strptime(pub["published_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(datetime.now(timezone.utc).replace(tzinfo=None) - published) < timedelta(minutes=30)
    assert status["checks"]["passed"] is True
    assert len(status["checks"]["checks"]) == len(all_checks())
    assert status["archives"]["kept"] == 1 and status["archives"]["bytes"] > 0
    assert status["disk_bytes"]["home"] > status["disk_bytes"]["archive"] > 0
    raw_files = [p for p in (home / "lake" / "raw").rglob("*") if p.is_file()]
    assert status["raw_objects"] == len(raw_files) > 0
    assert status["disk_bytes"]["raw"] == sum(p.stat().st_size for p in raw_files)
    assert status["lock"] is None
    assert status["settings"]["tickers"] == ["AAPL", "MSFT"]
    assert status["settings"]["polygon_api_key_set"] is False
    text = run_cli("status", "--home", str(home), "--tickers", "AAPL,MSFT")
    assert text.code == 0 and text.out.splitlines()[0] == "state: current"


def test_status_of_an_old_window_is_stale_and_exits_2(home, run_cli):
    assert run_cli("run", "--home", str(home), "--source", "demo", "--tickers", "AAPL",
                   "--end-date", "2026-11-20").code == 0
    code, status = _status(run_cli, home, "--tickers", "AAPL")
    assert (code, status["state"]) == (2, "stale")
    (aapl,) = status["freshness"]["tickers"]
    assert (aapl["ticker"], aapl["current"]) == ("AAPL", False)
    assert aapl["latest_bar"] == "2026-11-21T00:00:00Z"  # 19:00 New York on the 20th
    session = status["freshness"]["last_completed_session"]
    assert status["problems"] == [f"no bars since the {session} session for AAPL"]


def test_status_after_a_refused_publish_is_failed_and_exits_2(make_lake, home, run_cli):
    assert run_cli("run", "--home", str(home), "--source", "demo", "--tickers", "AAPL",
                   "--days", "7").code == 0
    lake = make_lake(home)
    record = dict(lake.raw_records()[0], v=0)  # a zero-volume restatement fails zero_values
    record["ingested_at"] = "2099-01-01T00:00:00.000Z"
    lake.inject_raw([record], arrival=datetime.now(timezone.utc))
    lake.close()
    assert run_cli("workflow", "--home", str(home)).code == 3
    code, status = _status(run_cli, home, "--tickers", "AAPL")
    assert (code, status["state"]) == (2, "failed")
    assert status["checks"]["failed"] == ["zero_values"]
    assert status["last_publish"] is not None  # the earlier production copy stays


def test_status_of_a_fresh_home_exits_2_and_creates_nothing(home, run_cli):
    home.mkdir()
    code, status = _status(run_cli, home)
    assert (code, status["state"]) == (2, "never published")
    assert not (home / "catalog.duckdb").exists()


def test_status_while_another_process_writes_names_it(home, run_cli, tmp_path):
    assert run_cli("run", "--home", str(home), "--source", "demo", "--tickers", "AAPL",
                   "--end-date", "2026-11-20").code == 0
    hold = ("import sys\nfrom runtime.cli import home_lock\n"
            "with home_lock(sys.argv[1], command='workflow'):\n"
            "    print('held', flush=True)\n    sys.stdin.readline()\n")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(home)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_cli("status", "--home", str(home), "--wait", "0.2", "--json")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.code == 1
    status = result.json()
    assert status["state"] == "unknown"
    assert (status["lock"]["pid"], status["lock"]["command"]) == (holder.pid, "workflow")
    assert result.messages[0].startswith(
        f"stockpipe: waiting up to 0.2s for PID {holder.pid}: stockpipe workflow since ")
    assert result.messages[-1].startswith(
        f"stockpipe: data status unknown: another stockpipe process (PID {holder.pid}: "
        "stockpipe workflow since ")


def test_tables_details_give_rows_partitions_location_and_size(home, run_cli):
    assert run_cli("run", "--home", str(home), "--source", "demo", "--tickers", "AAPL",
                   "--end-date", "2026-11-20").code == 0
    out = run_cli("tables", "--home", str(home), "--details").out.splitlines()
    assert out[0].split() == ["name", "kind", "rows", "partitions", "location", "size"]
    rows = {line.split()[0]: line.split() for line in out[2:-1]}
    lake = (home / "lake").resolve()
    # 6 sessions x 16 hourly bars, one day partition per session (the default granularity)
    assert rows["stock_aggregate_sans_dup"][:5] == [
        "stock_aggregate_sans_dup", "table", "96", "6",
        f"{lake}/curated/stock_aggregate_sans_dup/"]
    assert rows["stock_aggregate_sans_dup"][6] in ("kB", "MB")
    assert rows["stock_aggregate_raw"][:5] == [
        "stock_aggregate_raw", "table", "96", "-", f"{lake}/raw/"]
    assert rows["stock_aggregate_prod_latest"] == [
        "stock_aggregate_prod_latest", "view", "96", "-", "-", "-"]
    assert out[-1] == f"({len(rows)} rows)"

"""CLI pieces that need no engine: argument parsing, result formatting, the scheduler."""

from __future__ import annotations

import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from runtime import cli


def test_format_rows_table_aligns_columns_and_counts_rows():
    text = cli.format_rows(["ticker", "close"], [("AAPL", 189.5), ("BRK.B", None)], "table")
    assert text.splitlines() == [
        "ticker  close",
        "------  -----",
        "AAPL    189.5",
        "BRK.B   NULL",
        "(2 rows)",
    ]


def test_format_rows_csv_and_json():
    rows = [("AAPL", 1), ("BRK.B", None)]
    assert cli.format_rows(["t", "n"], rows, "csv") == "t,n\nAAPL,1\nBRK.B,"
    assert json.loads(cli.format_rows(["t", "n"], rows, "json")) == [
        {"t": "AAPL", "n": 1},
        {"t": "BRK.B", "n": None},
    ]


def test_format_rows_of_a_statement_without_columns():
    assert cli.format_rows([], [], "table") == "OK"
    assert cli.format_rows([], [], "json") == "[]"


def test_home_and_debug_are_accepted_before_and_after_the_command(tmp_path):
    parser = cli.build_parser()
    before = parser.parse_args(["--home", str(tmp_path), "--debug", "tables"])
    after = parser.parse_args(["tables", "--home", str(tmp_path), "--debug"])
    for args in (before, after):
        assert args.home == tmp_path
        assert args.debug is True


def test_run_options_parse():
    args = cli.build_parser().parse_args(
        ["run", "--tickers", "AAPL,BRK.B", "--days", "30", "--end-date", "2026-11-20",
         "--source", "demo", "--json"]
    )
    assert (args.tickers, args.days, str(args.end_date), args.source, args.json) == (
        "AAPL,BRK.B", 30, "2026-11-20", "demo", True
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--days", "0"], "--days must be between 1 and 3660"),
        (["run", "--end-date", "2026-13-01"], "--end-date must be YYYY-MM-DD"),
        (["workflow", "--from", "nope"], "invalid choice: 'nope'"),
    ],
)
def test_bad_arguments_exit_1_with_a_one_line_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args(argv)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1, err


def test_ticker_error_is_one_line_exit_1_without_traceback(tmp_path):
    err = io.StringIO()
    code = cli.main(["ingest", "--home", str(tmp_path), "--tickers", "AA'PL", "--source", "demo"],
                    stdout=io.StringIO(), stderr=err)
    assert code == 1
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("stockpipe: error: --tickers: ticker")
    assert "Traceback" not in err.getvalue()


def test_scheduler_runs_ingest_at_11_and_workflow_at_12_new_york_time(tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    from runtime.settings import Settings

    console = cli.Console(io.StringIO(), io.StringIO(), json_mode=False)
    scheduler = cli.build_scheduler(Settings(home=tmp_path), console, BackgroundScheduler)
    ny = ZoneInfo("America/New_York")
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"ingest", "workflow"}
    # Across the DST change (2026-11-01): the next fire is 11:00 / 12:00 local on both sides.
    summer = datetime(2026, 10, 30, 12, 30, tzinfo=ny)
    winter = datetime(2026, 11, 2, 9, 0, tzinfo=ny)
    ingest = jobs["ingest"].trigger
    assert ingest.get_next_fire_time(None, summer) == datetime(2026, 10, 31, 11, 0, tzinfo=ny)
    assert ingest.get_next_fire_time(None, winter) == datetime(2026, 11, 2, 11, 0, tzinfo=ny)
    workflow = jobs["workflow"].trigger
    nxt = workflow.get_next_fire_time(None, winter)
    assert (nxt.hour, nxt.utcoffset().total_seconds()) == (12, -5 * 3600)


# ---- output formats ---------------------------------------------------------------------------
def test_csv_shows_booleans_and_millisecond_timestamps_as_athena_does():
    from datetime import date

    rows = [(True, datetime(2026, 1, 2, 3, 4, 5, 123000), datetime(2026, 1, 2, 3, 4, 5),
             date(2026, 1, 2), None, 'say "hi", now')]
    text = cli.format_rows(["b", "ts", "ts0", "d", "n", "s"], rows, "csv")
    assert text == (
        "b,ts,ts0,d,n,s\n"
        'true,2026-01-02 03:04:05.123,2026-01-02 03:04:05,2026-01-02,,"say ""hi"", now"'
    )


def test_json_output_is_valid_json_for_nan_infinity_and_decimals():
    from decimal import Decimal

    rows = [(float("nan"), float("inf"), Decimal("0.10"), Decimal("12345678901234567890.12"),
             datetime(2026, 1, 2, 3, 4, 5, 123000), [1.5, float("-inf")], False)]
    text = cli.format_rows(["n", "i", "d", "big", "ts", "arr", "b"], rows, "json")
    # allow_nan=False in json.loads' counterpart: the text must parse as strict JSON
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON")) == [{
        "n": "NaN", "i": "Infinity", "d": 0.1, "big": "12345678901234567890.12",
        "ts": "2026-01-02 03:04:05.123", "arr": [1.5, "-Infinity"], "b": False,
    }]


def test_table_keeps_one_line_per_row_when_a_value_holds_a_newline():
    text = cli.format_rows(["a", "b"], [("line1\nline2", True), ("", None)], "table")
    assert text.splitlines() == [
        "a             b",
        "------------  ----",
        "line1\\nline2  true",
        "              NULL",
        "(2 rows)",
    ]


# ---- console, logging, pipes ------------------------------------------------------------------
class _Tty(io.StringIO):
    def isatty(self):
        return True


def _clock():
    return "2026-12-01T11:00:00Z"


def test_runtime_logs_are_progress_on_a_terminal_and_log_lines_otherwise():
    import logging

    log = logging.getLogger("runtime.polygon")

    def emit(err, **kw):
        console = cli.Console(io.StringIO(), err, clock=_clock, **kw)
        with cli.runtime_logging(console, debug=False):
            log.warning("AAPL: attempt %d/5 failed", 1)
            log.info("fetched 16 bars", extra={"ticker": "AAPL", "bars": 16})
            log.debug("urllib3 chatter")
            log.error("buffered records could not be\ndelivered")
        return err.getvalue()

    assert emit(_Tty(), json_mode=False) == (
        "  AAPL: attempt 1/5 failed\n  fetched 16 bars\n"
        "stockpipe: buffered records could not be delivered\n"
    )
    # cron, CI, `| tee`: every record is a line with a UTC time and a level
    assert emit(io.StringIO(), json_mode=False).splitlines() == [
        "2026-12-01T11:00:00Z warning AAPL: attempt 1/5 failed",
        "2026-12-01T11:00:00Z info    fetched 16 bars",
        "2026-12-01T11:00:00Z error   buffered records could not be delivered",
    ]
    # --log-format json: one object per line, with the record's own fields
    lines = emit(io.StringIO(), json_mode=True, log_format="json").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"time": "2026-12-01T11:00:00Z", "level": "warning",
         "message": "AAPL: attempt 1/5 failed"},
        {"time": "2026-12-01T11:00:00Z", "level": "info", "message": "fetched 16 bars",
         "ticker": "AAPL", "bars": 16},
        {"time": "2026-12-01T11:00:00Z", "level": "error",
         "message": "buffered records could not be delivered"},
    ]
    # the handler is gone after the command
    assert not any(isinstance(h, cli.ConsoleLog) for h in logging.getLogger("runtime").handlers)


def test_progress_is_quiet_on_a_terminal_under_json_but_logged_elsewhere():
    tty = _Tty()
    cli.Console(io.StringIO(), tty, json_mode=True).progress("[1/6] crawl: done in 0.1s")
    assert tty.getvalue() == ""
    piped = io.StringIO()
    cli.Console(io.StringIO(), piped, json_mode=True, clock=_clock).progress(
        "ingest: [1/2] AAPL")
    assert piped.getvalue() == "2026-12-01T11:00:00Z info    ingest: [1/2] AAPL\n"


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_pipe_ends_quietly_with_141(tmp_path):
    err = io.StringIO()
    code = cli.main(["query", "--home", str(tmp_path), "SELECT 1 AS x"], stdout=_ClosedPipe(),
                    stderr=err)
    # `stockpipe query ... | head` after head left: no "error: BrokenPipeError" line
    assert (code, err.getvalue()) == (141, "")


# ---- one process per home ---------------------------------------------------------------------
HOLD_LOCK = """
import sys, time
from runtime.cli import home_lock
with home_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def locked_home(tmp_path):
    """A home whose lock another process holds until the test ends; yields (home, pid)."""
    import subprocess
    import sys
    from pathlib import Path

    home = tmp_path / "home"
    repo = Path(cli.__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(home)], cwd=repo,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield home, proc.pid
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.mark.parametrize(
    "argv", [["run", "--source", "demo"], ["ingest"], ["query", "SELECT 1", "--wait", "0"]]
)
def test_second_process_on_a_home_fails_with_one_line_and_writes_nothing(locked_home, argv):
    home, pid = locked_home
    err = io.StringIO()
    code = cli.main([*argv, "--home", str(home)], stdout=io.StringIO(), stderr=err)
    assert code == 1
    assert err.getvalue().splitlines() == [
        f"stockpipe: error: another stockpipe process (PID {pid}) is using {home}; wait for it "
        "to finish, or use another --home"
    ]
    # nothing landed under the busy home: no raw files, no catalog
    assert sorted(p.name for p in home.iterdir()) == [cli.LOCK_NAME]


def test_lock_is_free_again_after_a_command(tmp_path):
    assert cli.main(["tables", "--home", str(tmp_path)], stdout=io.StringIO(),
                    stderr=io.StringIO()) == 0
    assert cli.lock_holder(tmp_path) is None
    with cli.home_lock(tmp_path, command="tables"):
        holder = cli.lock_holder(tmp_path)
        assert (holder.pid, holder.command) == (__import__("os").getpid(), "tables")
    assert cli.lock_holder(tmp_path) is None


def test_a_symlinked_lock_is_refused_and_its_target_left_intact(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / cli.LOCK_NAME).symlink_to(victim)
    err = io.StringIO()
    code = cli.main(["tables", "--home", str(home)], stdout=io.StringIO(), stderr=err)
    assert code == 1
    assert err.getvalue().splitlines() == [
        f"stockpipe: error: {home / cli.LOCK_NAME} is a symbolic link; stockpipe does not "
        "follow it (it would overwrite the link's target): remove the link and run again"
    ]
    assert victim.read_text() == "keep me\n"


def test_a_dangling_symlinked_lock_creates_nothing_at_its_target(tmp_path):
    target = tmp_path / "elsewhere" / "planted"
    target.parent.mkdir()
    (tmp_path / cli.LOCK_NAME).symlink_to(target)
    with pytest.raises(cli.lock.UnsafeLockPath, match="is a symbolic link"):
        with cli.home_lock(tmp_path):
            pass
    assert not target.exists()


def test_a_hard_linked_lock_is_refused_and_the_other_name_left_intact(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    home = tmp_path / "home"
    home.mkdir()
    __import__("os").link(victim, home / cli.LOCK_NAME)
    with pytest.raises(cli.lock.UnsafeLockPath, match=r"has 2 names \(a hard link"):
        with cli.home_lock(home):
            pass
    assert victim.read_text() == "keep me\n"


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_lock_path_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    import os

    path = tmp_path / cli.LOCK_NAME
    if kind == "directory":
        path.mkdir()
        expected = f"cannot open the lock file {path}: Is a directory"
    else:
        os.mkfifo(path)
        expected = f"the lock file {path} is not a regular file; stockpipe writes its PID"
    with pytest.raises(cli.lock.UnsafeLockPath) as err:
        with cli.home_lock(tmp_path):
            pass
    assert str(err.value).startswith(expected)


# ---- schedule ---------------------------------------------------------------------------------
def test_schedule_lists_the_next_runs_in_new_york_and_utc(tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    from runtime.settings import Settings

    console = cli.Console(io.StringIO(), io.StringIO(), json_mode=False)
    scheduler = cli.build_scheduler(Settings(home=tmp_path), console, BackgroundScheduler)
    # Sunday 2026-11-29 18:00 EST: both jobs next fire on Monday, EST = UTC-5
    now = datetime(2026, 11, 29, 23, 0, tzinfo=ZoneInfo("UTC"))
    assert cli.next_runs(scheduler, now) == [
        "ingest: Mon 2026-11-30 11:00 EST (16:00 UTC)",
        "workflow: Mon 2026-11-30 12:00 EST (17:00 UTC)",
    ]
    # between the two: the workflow comes first
    now = datetime(2026, 7, 1, 15, 30, tzinfo=ZoneInfo("UTC"))  # 11:30 EDT
    assert cli.next_runs(scheduler, now) == [
        "workflow: Wed 2026-07-01 12:00 EDT (16:00 UTC)",
        "ingest: Thu 2026-07-02 11:00 EDT (15:00 UTC)",
    ]


def test_schedule_command_prints_next_runs_and_ctrl_c_ends_it_with_130(tmp_path, monkeypatch):
    from apscheduler.schedulers.blocking import BlockingScheduler

    monkeypatch.delenv("POLYGON_API_KEY", raising=False)
    def interrupted(self, *a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(BlockingScheduler, "start", interrupted)
    err = io.StringIO()
    code = cli.main(["schedule", "--home", str(tmp_path)], stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert code == 130
    assert lines[:2] == [
        "source: demo (auto: POLYGON_API_KEY is not set)",
        "scheduled: ingest 11:00 and workflow 12:00 America/New_York for AAPL in "
        f"{tmp_path}; Ctrl-C or SIGTERM stops",
    ]
    assert sorted(line.split(":")[0] for line in lines[2:4]) == ["next ingest", "next workflow"]
    assert lines[4:] == ["stockpipe: interrupted (SIGINT)"]
    assert "Traceback" not in err.getvalue()


def test_a_failing_scheduled_job_reports_one_line_and_the_schedule_goes_on(locked_home):
    from apscheduler.schedulers.background import BackgroundScheduler

    from runtime.settings import Settings

    home, pid = locked_home
    err = io.StringIO()
    console = cli.Console(io.StringIO(), err, json_mode=False)
    scheduler = cli.build_scheduler(Settings(home=home), console, BackgroundScheduler,
                                    lock_wait_seconds=0)
    job = {j.id: j for j in scheduler.get_jobs()}["ingest"]
    job.func()  # must not raise into the scheduler
    lines = err.getvalue().splitlines()
    assert lines[0] == (
        f"scheduled ingest: failed: another stockpipe process (PID {pid}) is using {home}; "
        "wait for it to finish, or use another --home"
    )
    assert lines[1].startswith("next ingest: ") and lines[1].endswith(" UTC)")
    assert len(lines) == 2

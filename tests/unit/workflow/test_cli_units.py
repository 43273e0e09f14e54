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
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_ticker_error_is_one_line_exit_1_without_traceback(tmp_path):
    err = io.StringIO()
    code = cli.main(["ingest", "--home", str(tmp_path), "--tickers", "AA'PL", "--source", "demo"],
                    stdout=io.StringIO(), stderr=err)
    assert code == 1
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("stockpipe: error: ticker")
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

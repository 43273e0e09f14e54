"""The home a read-only command is pointed at, and stderr under `--log-format json`: a
mistyped --home is named (never created), and every stderr line is a JSON record."""

from __future__ import annotations

import json

import pytest

from .conftest import END

pytestmark = pytest.mark.e2e

READERS = [
    ("status",), ("tables",), ("query", "SELECT 1"), ("checks",), ("report",),
]


@pytest.mark.parametrize("command", READERS, ids=[c[0] for c in READERS])
def test_a_reader_on_a_missing_home_names_it_exits_1_and_creates_nothing(
    tmp_path, run_cli, command
):
    home = tmp_path / "typo"
    result = run_cli(*command, "--home", str(home))
    assert (result.code, result.out) == (1, "")
    assert result.messages == [
        f"stockpipe: error: the stockpipe home {home} does not exist; pass the right --home "
        "(or $STOCKPIPE_HOME), or create it with `stockpipe ingest` or `stockpipe run`"
    ]
    assert not home.exists()


def test_status_of_a_home_that_is_a_file_names_the_path(tmp_path, run_cli):
    home = tmp_path / "notes.txt"
    home.write_text("not a home\n")
    result = run_cli("status", "--home", str(home), "--json")
    assert result.code == 1
    assert result.json() == {
        "error": f"the stockpipe home {home} is not a folder; pass the home folder with --home "
                 "(or $STOCKPIPE_HOME)",
        "exit_code": 1,
        "hint": "pass the home folder with --home (or $STOCKPIPE_HOME)",
    }
    assert home.read_text() == "not a home\n"


def test_notices_are_json_records_under_log_format_json(home, run_cli):
    result = run_cli("ingest", "--home", str(home), "--tickers", "AAPL", "--days", "2",
                     "--end-date", END.isoformat(), "--log-format", "json")
    assert result.code == 0, result.err
    records = [json.loads(line) for line in result.err.splitlines()]
    assert records[0]["level"] == "info"
    assert records[0]["message"] == "source: demo (auto: POLYGON_API_KEY is not set)"


def test_an_error_is_a_json_record_under_log_format_json(tmp_path, run_cli):
    result = run_cli("status", "--home", str(tmp_path / "none"), "--log-format", "json")
    assert result.code == 1
    (record,) = [json.loads(line) for line in result.err.splitlines()]
    assert (record["level"], record["exit_code"]) == ("error", 1)
    assert record["message"].startswith(f"the stockpipe home {tmp_path / 'none'} does not exist")


def test_text_log_format_keeps_plain_notices(home, run_cli):
    result = run_cli("ingest", "--home", str(home), "--tickers", "AAPL", "--days", "2",
                     "--end-date", END.isoformat())
    assert result.err.splitlines()[0] == "source: demo (auto: POLYGON_API_KEY is not set)"

"""`stockpipe query`, `tables`, `checks` and `report` on a published home."""

from __future__ import annotations

import csv
import io
import json

import pytest

pytestmark = pytest.mark.e2e

FIRST_BARS = (
    "SELECT ticker, bar_time_ms, day_hour_partition FROM stock_aggregate_prod_latest "
    "ORDER BY bar_time_ms LIMIT 2"
)
# The first two demo bars: 2026-11-13 04:00 and 05:00 EST = 09:00 and 10:00 UTC.
EXPECTED = [("AAPL", 1794560400000, "2026-11-13-04"), ("AAPL", 1794564000000, "2026-11-13-05")]


@pytest.fixture
def home_published(home, run_cli):
    result = run_cli("run", "--home", str(home), "--tickers", "AAPL", "--days", "7",
                     "--end-date", "2026-11-20", "--source", "demo", "--json")
    assert result.code == 0, result.err
    return home


def test_select_in_table_csv_and_json(home_published, run_cli):
    h = str(home_published)
    table = run_cli("query", "--home", h, FIRST_BARS)
    assert table.code == 0, table.err
    assert table.out.splitlines() == [
        "ticker  bar_time_ms    day_hour_partition",
        "------  -------------  ------------------",
        "AAPL    1794560400000  2026-11-13-04",
        "AAPL    1794564000000  2026-11-13-05",
        "(2 rows)",
    ]
    as_csv = run_cli("query", "--home", h, "--format", "csv", FIRST_BARS)
    rows = list(csv.reader(io.StringIO(as_csv.out)))
    assert rows[0] == ["ticker", "bar_time_ms", "day_hour_partition"]
    assert [tuple(r[:1]) + (int(r[1]), r[2]) for r in rows[1:]] == EXPECTED
    as_json = run_cli("query", "--home", h, "--format", "json", FIRST_BARS)
    assert [tuple(d.values()) for d in json.loads(as_json.out)] == EXPECTED


def test_ctas_through_query_creates_a_table(home_published, run_cli, tmp_path):
    h = str(home_published)
    location = (tmp_path / "analyst" / "aapl_daily").as_posix() + "/"
    ctas = (
        "CREATE TABLE aapl_daily WITH (external_location = '" + location + "', "
        "format = 'PARQUET', write_compression = 'SNAPPY') AS "
        "SELECT substr(day_hour_partition, 1, 10) AS day, sum(volume) AS volume "
        "FROM stock_aggregate_prod_latest GROUP BY 1"
    )
    created = run_cli("query", "--home", h, ctas)
    assert created.code == 0, created.err
    tables = run_cli("tables", "--home", h)
    assert "aapl_daily" in tables.out.split()
    days = run_cli("query", "--home", h, "--format", "json", "SELECT count(*) AS n FROM aapl_daily")
    assert json.loads(days.out) == [{"n": 6}]  # six sessions in the window


def test_invalid_statement_exits_1_with_the_engine_message(home_published, run_cli):
    bad = run_cli("query", "--home", str(home_published), "SELECT nope FROM no_such_table")
    assert bad.code == 1
    assert bad.out == ""
    lines = bad.messages
    assert len(lines) == 1 and lines[0].startswith("stockpipe: error:")
    assert "no_such_table" in lines[0]
    assert "Traceback" not in bad.err


def test_tables_lists_every_role(home_published, run_cli):
    names = run_cli("tables", "--home", str(home_published)).out.split()
    for role in ("raw", "parquet", "sans_dup", "dq_results", "prod_latest"):
        assert f"stock_aggregate_{role}" in names
    assert len([n for n in names if n.startswith("stock_aggregate_prod_2")]) == 1


def test_checks_command_appends_a_run_to_the_history(home_published, run_cli):
    h = str(home_published)
    before = run_cli("query", "--home", h, "--format", "json",
                     "SELECT count(DISTINCT run_id) AS runs FROM stock_aggregate_dq_results")
    assert json.loads(before.out) == [{"runs": 1}]
    result = run_cli("checks", "--home", h, "--json")
    assert result.code == 0, result.err
    assert len(result.json()["checks"]) == 10
    after = run_cli("query", "--home", h, "--format", "json",
                    "SELECT count(DISTINCT run_id) AS runs, count(*) AS n "
                    "FROM stock_aggregate_dq_results")
    assert json.loads(after.out) == [{"runs": 2, "n": 20}]  # 10 checks per run


def test_report_command_writes_the_file(home_published, run_cli, tmp_path):
    out = tmp_path / "r" / "report.html"
    result = run_cli("report", "--home", str(home_published), "--out", str(out))
    assert result.code == 0, result.err
    assert result.out.strip() == str(out)
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_per_step_on_a_terminal_and_quiet_with_json(home_published):
    from runtime.cli import main

    err = _Tty()
    out = io.StringIO()
    assert main(["workflow", "--home", str(home_published), "--from", "quality"],
                stdout=out, stderr=err) == 0
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("[1/2] quality: ")
    assert any(line.startswith("[2/2] publish: done in ") for line in lines)
    assert "published: stock_aggregate_prod_" in out.getvalue()

    quiet = _Tty()
    out = io.StringIO()
    assert main(["workflow", "--home", str(home_published), "--from", "publish", "--json"],
                stdout=out, stderr=quiet) == 0
    assert quiet.getvalue() == ""
    assert json.loads(out.getvalue())["steps"] == ["publish"]

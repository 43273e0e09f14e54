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
    # an analyst's folder inside the lake (a location outside it is PERMISSION_DENIED)
    location = (home_published / "lake" / "analyst" / "aapl_daily").as_posix() + "/"
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
    archives = [n for n in names if n.startswith("stock_aggregate_prod_2")]
    assert len(archives) == 2 and archives[1] == archives[0] + "_splits"  # one archive pair


def test_checks_command_appends_a_run_to_the_history(home_published, run_cli):
    h = str(home_published)
    before = run_cli("query", "--home", h, "--format", "json",
                     "SELECT count(DISTINCT run_id) AS runs FROM stock_aggregate_dq_results")
    assert json.loads(before.out) == [{"runs": 1}]
    result = run_cli("checks", "--home", h, "--json")
    assert result.code == 0, result.err
    assert len(result.json()["checks"]) == 15
    after = run_cli("query", "--home", h, "--format", "json",
                    "SELECT count(DISTINCT run_id) AS runs, count(*) AS n "
                    "FROM stock_aggregate_dq_results")
    assert json.loads(after.out) == [{"runs": 2, "n": 30}]  # 15 checks per run


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


def test_query_refuses_to_read_or_write_outside_the_lake(home, run_cli, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\nnot for the analyst\n")
    h = str(home)
    home.mkdir()
    read = run_cli("query", "--home", h, f"SELECT * FROM read_csv('{secret}')")
    assert read.code == 1
    assert read.out == "" and "not for the analyst" not in read.err
    assert "FUNCTION_NOT_FOUND: Table function 'read_csv' not registered" in read.err
    dump = tmp_path / "dump"
    write = run_cli("query", "--home", h,
                    f"CREATE TABLE dump WITH (external_location = '{dump}/') AS SELECT 1 AS a")
    assert write.code == 1
    assert f"PERMISSION_DENIED: Access Denied: location '{dump}' of table 'dump'" in write.err
    assert not dump.exists()


def _stockpipe_on_a_full_disk(*argv: str):
    """`stockpipe ...` in a process that cannot grow any file (RLIMIT_FSIZE 0): as on a full
    disk, every write that adds a byte fails (EFBIG instead of ENOSPC)."""
    import os
    import resource
    import signal
    import subprocess
    import sys

    def no_room() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))

    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "runtime.cli", *argv], preexec_fn=no_room,
                          capture_output=True, text=True, env=env, timeout=120)


def test_reading_commands_work_when_no_file_can_grow(home_published):
    h = str(home_published)
    tables = _stockpipe_on_a_full_disk("tables", "--home", h)
    assert tables.returncode == 0, tables.stderr
    assert "stock_aggregate_prod_latest" in tables.stdout.splitlines()
    count = _stockpipe_on_a_full_disk(
        "query", "--home", h, "--format", "csv", "SELECT count(*) AS n FROM "
        "stock_aggregate_prod_latest")
    assert count.returncode == 0, count.stderr
    assert count.stdout.split() == ["n", "96"]
    status = _stockpipe_on_a_full_disk("status", "--home", h, "--json")
    assert status.returncode in (0, 2), status.stderr  # current or stale, not an error
    assert json.loads(status.stdout)["lock"] is None
    # A statement that writes still needs room, and says which file it could not write.
    ctas = _stockpipe_on_a_full_disk("query", "--home", h, "CREATE TABLE x AS SELECT 1 AS a")
    assert ctas.returncode == 1
    assert "File too large" in ctas.stderr and str(home_published) in ctas.stderr


def test_query_refuses_to_drop_the_table_behind_the_production_view(home_published, run_cli):
    h = str(home_published)
    view = "stock_aggregate_prod_latest"
    (table,) = [t for t in run_cli("tables", "--home", h).out.split()
                if "_prod_2" in t and not t.endswith("_splits")]
    for sql in (f"DROP TABLE {table}", f"DROP TABLE IF EXISTS {table.upper()}",
                f"-- tidy up\nDROP TABLE stock_aggregates.{table}"):
        refused = run_cli("query", "--home", h, sql)
        assert refused.code == 1
        assert refused.err.strip() == (
            f"stockpipe: error: {table} is the table behind the view {view}, which production's "
            f"readers query; move the view first (CREATE OR REPLACE VIEW {view} AS SELECT * FROM "
            f"<another stock_aggregate_prod_... table>), then drop {table}"
        )
    assert run_cli("query", "--home", h, f"SELECT count(*) FROM {view}").code == 0
    # Once the view has moved, the old archive can go.
    moved = run_cli("query", "--home", h, "CREATE TABLE analyst_copy AS SELECT * FROM "
                    f"{table}")
    assert moved.code == 0, moved.err
    assert run_cli("query", "--home", h, f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM "
                   "analyst_copy").code == 0
    dropped = run_cli("query", "--home", h, f"DROP TABLE {table}")
    assert dropped.code == 0, dropped.err
    assert "96" in run_cli("query", "--home", h, f"SELECT count(*) FROM {view}").out

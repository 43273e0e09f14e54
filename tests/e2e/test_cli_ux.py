"""What a user meets at the command line: one-line errors, reruns of part of the workflow, report
paths, and query output as Athena shows it."""

from __future__ import annotations

import socket

import pytest

pytestmark = pytest.mark.e2e

KEY = "pk-test-not-a-real-key-7f3a"


def _closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def no_backoff(monkeypatch):
    """The client's retries without their real sleeps (1 + 2 + 4 + 8 s)."""
    from runtime.polygon import PolygonClient

    original = PolygonClient.from_settings.__func__

    def fast(cls, settings, **kw):
        return original(cls, settings, sleep=lambda seconds: None, **kw)

    monkeypatch.setattr(PolygonClient, "from_settings", classmethod(fast))


def test_unreachable_api_is_one_line_exit_1_without_the_key(home, run_cli, monkeypatch,
                                                             no_backoff):
    port = _closed_port()
    monkeypatch.setenv("POLYGON_API_KEY", KEY)
    monkeypatch.setenv("POLYGON_BASE_URL", f"http://127.0.0.1:{port}")
    result = run_cli("run", "--home", str(home), "--tickers", "AAPL,MSFT")
    assert result.code == 1
    assert result.messages == [
        "source: polygon (auto: POLYGON_API_KEY is set)",
        f"stockpipe: error: AAPL: cannot connect to 127.0.0.1:{port}: connection refused "
        "(after 5 attempts); check POLYGON_BASE_URL and the network, or try again later",
    ]
    assert KEY not in result.err + result.out
    assert result.out == ""


def test_run_with_an_unwritable_report_path_fails_before_ingesting(home, run_cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "report.html"
    result = run_cli("run", "--home", str(home), "--source", "demo", "--out", str(out))
    assert result.code == 1
    assert result.messages[-1] == (
        f"stockpipe: error: cannot write the report to {out}: {blocker} is a file; "
        "pass --out with a writable file or folder"
    )
    assert not (home / "lake").exists()  # nothing ingested, nothing to clean up


@pytest.fixture
def published(home, run_cli):
    result = run_cli("run", "--home", str(home), "--tickers", "AAPL", "--days", "7",
                     "--end-date", "2026-11-20", "--source", "demo")
    assert result.code == 0, result.err
    return home


def test_report_command_to_an_unwritable_path_is_one_line(published, run_cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_cli("report", "--home", str(published), "--out", str(blocker / "r.html"))
    assert result.code == 1
    assert result.messages == [
        f"stockpipe: error: cannot write the report to {blocker / 'r.html'}: {blocker} is a file; "
        "pass --out with a writable file or folder"
    ]


@pytest.mark.parametrize("step", ["transform", "dedup"])
def test_workflow_from_a_middle_step_rebuilds_its_table(published, run_cli, step):
    before = (published / "reports" / "report.html").stat().st_mtime_ns
    result = run_cli("workflow", "--home", str(published), "--from", step, "--json")
    assert result.code == 0, result.err
    data = result.json()
    steps = ["transform", "dedup", "quality", "publish"]
    assert data["steps"] == steps[steps.index(step):]
    assert data["published_table"].startswith("stock_aggregate_prod_")
    # the report follows the new production copy: rewritten, not left from the first run
    page = published / "reports" / "report.html"
    assert data["report"] == str(page)
    assert page.stat().st_mtime_ns > before
    # 6 sessions x 16 demo bars, once each
    count = run_cli("query", "--home", str(published), "--format", "csv",
                    "SELECT count(*) AS n FROM stock_aggregate_sans_dup")
    assert count.out.splitlines() == ["n", "96"]


def test_query_csv_of_booleans_timestamps_and_nulls_matches_athena(published, run_cli):
    result = run_cli(
        "query", "--home", str(published), "--format", "csv",
        "SELECT true AS b, TIMESTAMP '2026-01-02 03:04:05.123' AS ts, min(bar_time) AS first, "
        "CAST(NULL AS varchar) AS n FROM stock_aggregate_prod_latest",
    )
    assert result.code == 0, result.err
    # first demo bar: 2026-11-13 04:00 EST = 09:00 UTC
    assert result.out.splitlines() == [
        "b,ts,first,n", "true,2026-01-02 03:04:05.123,2026-11-13 09:00:00,"
    ]


@pytest.mark.parametrize(("command", "what"), [
    ("workflow", "run the workflow on"), ("checks", "check"), ("report", "report"),
])
def test_a_home_without_raw_data_says_to_ingest_first(home, run_cli, command, what):
    home.mkdir()
    result = run_cli(command, "--home", str(home))
    assert (result.code, result.out) == (1, "")
    assert result.messages == [
        f"stockpipe: error: nothing to {what} yet: no raw data in {home.resolve() / 'lake/raw'}/; "
        "run `stockpipe ingest` first (or `stockpipe run`, which ingests, runs the workflow and "
        "writes the report)"
    ]
    # no step ran: no catalog, no curated table, no report
    assert not (home / "catalog.duckdb").exists() and not (home / "reports").exists()


def test_checks_after_an_ingest_alone_says_to_run_the_workflow(home, run_cli):
    assert run_cli("ingest", "--home", str(home), "--source", "demo").code == 0
    result = run_cli("checks", "--home", str(home), "--json")
    assert result.code == 1
    message = (
        "nothing to check yet: stock_aggregate_raw, stock_aggregate_parquet, "
        f"stock_aggregate_sans_dup not in the catalog of {home}; run `stockpipe workflow` first"
    )
    assert result.messages == [f"stockpipe: error: {message}"]
    assert result.json() == {"error": message, "exit_code": 1,
                             "hint": "run `stockpipe workflow` first"}


def test_query_of_a_mistyped_table_or_column_gets_athena_error_names(published, run_cli):
    table = run_cli("query", "--home", str(published), "SELECT * FROM stock_aggregate_prod")
    assert table.code == 1
    assert table.messages == [
        "stockpipe: error: TABLE_NOT_FOUND: Table 'stock_aggregates.stock_aggregate_prod' does "
        "not exist; `stockpipe tables` lists the catalog "
        "[statement: SELECT * FROM stock_aggregate_prod]"
    ]
    column = run_cli("query", "--home", str(published),
                     "SELECT closing FROM stock_aggregate_prod_latest")
    assert column.code == 1
    (line,) = column.messages
    assert line.startswith("stockpipe: error: COLUMN_NOT_FOUND: Column 'closing' cannot be "
                           'resolved (similar: "close"')


def test_unaliased_aggregate_is_named_like_athena(published, run_cli):
    result = run_cli("query", "--home", str(published), "--format", "csv",
                     "SELECT ticker, count(*) FROM stock_aggregate_prod_latest GROUP BY 1")
    assert result.out.splitlines() == ["ticker,_col1", "AAPL,96"]

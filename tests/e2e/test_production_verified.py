"""A production copy that cannot be read in full is never reported as fine: status, report and
checks name the table or file and exit non-zero, and a new publish repairs it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

VIEW = "stock_aggregate_prod_latest"


@pytest.fixture
def published(home, run_cli):
    """A current home (the demo window ends today) and the table behind the view."""
    result = run_cli("run", "--home", str(home), "--source", "demo", "--tickers", "AAPL",
                     "--days", "7", "--json")
    assert result.code == 0, result.err
    table = result.json()["published_table"]
    status = run_cli("status", "--home", str(home), "--json")
    assert status.code == 0, status.out
    assert status.json()["production"] == {
        "view": VIEW, "table": table, "rows": result.json()["sans_dup_rows"],
        "files": status.json()["production"]["files"], "manifest": True, "readable": True,
        "problems": []}
    return home, table


def _files(home: Path, table: str):
    return sorted((home / "lake" / "archive" / table).rglob("*.parquet"))


def _reports_unreadable(run_cli, home, problem: str) -> None:
    status = run_cli("status", "--home", str(home), "--json")
    assert status.code == 2
    data = status.json()
    assert data["state"] == "unreadable"
    assert problem in data["problems"]
    assert data["production"]["problems"] == [problem]
    text = run_cli("status", "--home", str(home))
    assert text.out.splitlines()[:2] == ["state: unreadable", f"  {problem}"]

    message = (f"the production copy behind {VIEW} cannot be read in full: {problem}. Readers "
               "get errors or miss rows: publish a new copy with `stockpipe workflow --from "
               "publish` (the next run does it too), or restore the files")
    report = run_cli("report", "--home", str(home), "--out", str(home / "r.html"))
    assert (report.code, report.out) == (1, "")
    assert report.messages == [f"stockpipe: error: no report written: {message}"]
    assert not (home / "r.html").exists()

    checks = run_cli("checks", "--home", str(home), "--json")
    assert checks.code == 1
    assert checks.json()["passed"] is True  # the candidate data is fine; production is not
    assert checks.json()["production"]["problems"] == [problem]
    assert checks.messages == [f"stockpipe: error: {message}"]


def test_a_deleted_production_file_is_named_and_a_new_publish_repairs_it(published, run_cli):
    home, table = published
    gone = _files(home, table)[0]
    gone.unlink()
    name = gone.relative_to(home / "lake" / "archive" / table)
    location = f"{(home / 'lake' / 'archive' / table).resolve()}/"
    _reports_unreadable(
        run_cli, home, f"1 file(s) of {table} are gone from {location}: {name}")

    repaired = run_cli("workflow", "--home", str(home), "--from", "publish", "--json")
    assert repaired.code == 0, repaired.err
    assert repaired.json()["published_table"] != table
    after = run_cli("status", "--home", str(home), "--json")
    assert (after.code, after.json()["state"]) == (0, "current")


def test_a_damaged_production_file_is_named(published, run_cli):
    home, table = published
    damaged = _files(home, table)[-1]
    size = damaged.stat().st_size
    damaged.write_bytes(b"\0" * size)  # same size, not Parquet any more
    name = damaged.relative_to(home / "lake" / "archive" / table)
    status = run_cli("status", "--home", str(home), "--json").json()
    (problem,) = status["production"]["problems"]
    assert problem.startswith(
        f"1 file(s) of {table} cannot be read: {name} (ArrowInvalid: ")
    _reports_unreadable(run_cli, home, problem)


def test_the_views_table_missing_from_the_catalog_is_named(published, run_cli, make_lake):
    home, table = published
    lake = make_lake(home)
    lake.engine.execute(f"DROP TABLE {table}")  # as a catalog edit outside stockpipe would
    lake.close()
    _reports_unreadable(run_cli, home,
                        f"{VIEW} selects from {table}, which is not in the catalog (dropped)")


def test_a_file_added_to_the_copy_after_publish_is_named(published, run_cli):
    home, table = published
    first = _files(home, table)[0]
    extra = first.with_name("added-later.parquet")
    extra.write_bytes(first.read_bytes())  # readers would count its rows twice
    name = extra.relative_to(home / "lake" / "archive" / table)
    _reports_unreadable(run_cli, home, f"{table} has files publish did not write: {name}")

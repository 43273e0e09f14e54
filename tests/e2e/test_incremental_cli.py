"""The incremental contract at the command line: `--full-refresh`, bounded archives and
`stockpipe prune --keep N`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

ARGS = ("--end-date", "2026-11-20", "--days", "3", "--source", "demo", "--json")


def _archives(run_cli, home):
    out = run_cli("tables", "--home", str(home))
    return sorted(t for t in out.out.split()
                  if t.startswith("stock_aggregate_prod_2") and not t.endswith("_splits"))


def test_full_refresh_on_demand_then_incremental_again(home, run_cli):
    assert run_cli("run", "--home", str(home), *ARGS).code == 0
    forced = run_cli("workflow", "--home", str(home), "--full-refresh", "--json")
    assert forced.code == 0, forced.err
    data = forced.json()
    assert (data["mode"], data["full_refresh_reason"]) == ("full", "a full refresh was requested")
    assert data["raw_objects_read"] == 1
    after = run_cli("workflow", "--home", str(home), "--json").json()
    assert (after["mode"], after["raw_objects_read"], after["partitions_rewritten"]) == (
        "incremental", 0, 0)


def test_publish_keeps_archive_keep_copies_and_prune_drops_the_rest(home, run_cli, monkeypatch):
    monkeypatch.setenv("STOCKPIPE_ARCHIVE_KEEP", "2")
    published = []
    for _ in range(3):
        result = run_cli("workflow", "--home", str(home), "--json") if published else run_cli(
            "run", "--home", str(home), *ARGS)
        assert result.code == 0, result.err
        published.append(result.json()["published_table"])
    # Three publishes, two kept: the oldest went with its files.
    assert _archives(run_cli, home) == sorted(published[1:])
    assert not (home / "lake" / "archive" / published[0]).exists() or not any(
        p.is_file() for p in (home / "lake" / "archive" / published[0]).rglob("*"))
    pruned = run_cli("prune", "--home", str(home), "--keep", "1", "--json")
    assert pruned.code == 0, pruned.err
    assert pruned.json()["dropped"] == [published[1]]
    assert _archives(run_cli, home) == [published[2]]
    view = run_cli("query", "--home", str(home), "--format", "csv",
                   "SELECT count(*) AS n FROM stock_aggregate_prod_latest")
    assert view.code == 0 and view.out.split()[-1] != "0"


def test_prune_refuses_a_keep_below_one(home, run_cli, capsys):
    # A usage error: argparse prints one line and exits 1.
    with pytest.raises(SystemExit) as info:
        run_cli("prune", "--home", str(home), "--keep", "0")
    assert info.value.code == 1
    assert "--keep: must be between 1 and 10000" in capsys.readouterr().err

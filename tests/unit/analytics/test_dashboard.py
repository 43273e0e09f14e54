"""The generated Grafana dashboard: the shape Grafana needs, Athena only, committed file fresh."""

import json
from pathlib import Path

import pytest
import yaml

from grafana import build
from runtime import panels
from runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD_FILE = ROOT / "grafana" / "dashboards" / "stockpipe.json"


@pytest.fixture(scope="module")
def board():
    return build.build_dashboard()


def _all_datasources(node):
    """Every `datasource` object anywhere in the dashboard JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource" and isinstance(value, dict):
                yield value
            yield from _all_datasources(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_datasources(item)


def test_committed_dashboard_equals_the_generated_one():
    assert DASHBOARD_FILE.read_text("utf-8") == build.render_dashboard(), (
        "grafana/dashboards/stockpipe.json is stale: run `python -m grafana.build`"
    )


def test_dashboard_has_uid_title_and_seven_day_default_range(board):
    assert board["uid"] == "stockpipe-hourly-bars"
    assert board["title"] == "stockpipe: hourly stock bars"
    assert board["time"] == {"from": "now-7d", "to": "now"}


def test_panels_have_unique_ids_and_non_overlapping_grid_positions(board):
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) == 6
    cells = set()
    for p in board["panels"]:
        pos = p["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] + pos["w"] <= 24
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & mine, f"panel {p['title']} overlaps another"
        cells |= mine


def test_panel_types_cover_candlestick_timeseries_stat_and_table(board):
    types = {p["title"].split(" - ")[0]: p["type"] for p in board["panels"]}
    assert types == {
        "Summary for the range": "stat",
        "Price: hourly OHLC with VWAP": "candlestick",
        "Volume per hour with 16-bar moving average": "timeseries",
        "Volatility: 16-bar rolling, annualised (%), and high-low range (%)": "timeseries",
        "Data quality: latest run": "table",
        "Data quality: failed checks history": "table",
    }


def test_every_datasource_reference_is_the_athena_plugin(board):
    refs = list(_all_datasources(board))
    assert len(refs) >= 2 * len(board["panels"])  # panel + target each
    assert {r["type"] for r in refs} == {"grafana-athena-datasource"}
    ds_var = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert ds_var[0]["query"] == "grafana-athena-datasource"


def test_each_target_carries_the_panel_sql_verbatim(board):
    settings = Settings()
    by_title = {p.title: p for p in panels.DRAWN}
    for p in board["panels"]:
        spec = by_title[p["title"].split(" - ")[0]]
        (target,) = p["targets"]
        assert target["rawSQL"] == panels.panel_sql(spec.name, settings)
        assert target["format"] == 1  # table: every query returns one wide frame
        if spec.per_ticker:
            assert "ticker = '$ticker'" in target["rawSQL"]
            assert "$__timeFilter(bar_time)" in target["rawSQL"]
            # Pruned on the production table's partition column (day partitions by default).
            assert "AND day_partition BETWEEN" in target["rawSQL"]
            assert "stock_aggregate_prod_latest" in target["rawSQL"]


def test_hour_partitions_prune_on_the_hour_column():
    hourly = Settings(partition_granularity="hour")
    for p in panels.DRAWN:
        if p.per_ticker:
            assert "AND day_hour_partition BETWEEN" in panels.panel_sql(p.name, hourly)


def test_ticker_variable_lists_tickers_from_the_production_view(board):
    (ticker,) = [v for v in board["templating"]["list"] if v["name"] == "ticker"]
    assert ticker["type"] == "query"
    assert ticker["multi"] is False  # panel SQL compares with one quoted value
    assert ticker["query"]["rawSQL"].rstrip().endswith(
        "SELECT DISTINCT ticker\nFROM stock_aggregate_prod_latest\nORDER BY ticker"
    )


def test_table_prefix_from_settings_reaches_the_panel_sql():
    board = build.build_dashboard(Settings(table_prefix="acme_bars"))
    sqls = [p["targets"][0]["rawSQL"] for p in board["panels"]]
    assert all("stock_aggregate" not in s for s in sqls)
    assert "FROM acme_bars_prod_latest" in sqls[1]
    assert "FROM acme_bars_dq_results" in sqls[-1]


def test_check_mode_reports_a_stale_file(tmp_path):
    stale = tmp_path / "stockpipe.json"
    stale.write_text("{}\n")
    assert build.main(["--check", "--out", str(stale)]) == 1
    assert build.main(["--out", str(stale)]) == 0
    assert build.main(["--check", "--out", str(stale)]) == 0
    assert json.loads(stale.read_text())["uid"] == "stockpipe-hourly-bars"


def test_datasource_provisioning_uses_environment_placeholders_and_no_keys():
    doc = yaml.safe_load((ROOT / "grafana/provisioning/datasources/athena.yaml").read_text())
    (ds,) = doc["datasources"]
    assert ds["type"] == "grafana-athena-datasource"
    data = ds["jsonData"]
    assert data["authType"] in ("default", "ec2_iam_role")
    assert data["catalog"] == "AwsDataCatalog"
    for key in ("defaultRegion", "database", "workgroup", "assumeRoleArn", "outputLocation"):
        assert data[key].startswith("$STOCKPIPE_"), key
    assert "secureJsonData" not in ds


def test_dashboard_provisioning_points_at_a_file_provider():
    doc = yaml.safe_load((ROOT / "grafana/provisioning/dashboards/stockpipe.yaml").read_text())
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "$STOCKPIPE_GRAFANA_DASHBOARDS"

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


def drawn(board):
    """The dashboard's panels other than rows."""
    return [p for p in board["panels"] if p["type"] != "row"]


def test_panels_have_unique_ids_and_non_overlapping_grid_positions(board):
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) == 9  # 2 rows, 2 data-quality tables, 5 per ticker
    cells = set()
    for p in board["panels"]:
        pos = p["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] + pos["w"] <= 24
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & mine, f"panel {p['title']} overlaps another"
        cells |= mine


def test_schema_version_is_the_current_one(board):
    assert board["schemaVersion"] == 42


def test_one_row_per_chosen_ticker_repeats_the_ticker_panels(board):
    rows = [p for p in board["panels"] if p["type"] == "row"]
    assert [(r["title"], r.get("repeat"), r["collapsed"]) for r in rows] == [
        ("Data quality", None, False), ("$ticker", "ticker", False)]
    ticker_row_y = rows[1]["gridPos"]["y"]
    below = [p for p in drawn(board) if p["gridPos"]["y"] > ticker_row_y]
    # everything under the repeated row is per ticker; the data-quality tables sit above it
    assert {p["title"].split(" - ")[0] for p in below} == {
        "Summary for the range", "Freshness", "Price: hourly OHLC with VWAP",
        "Volume per hour with 16-bar moving average",
        "Volatility: intraday, rolling 15 returns, annualised (%), and high-low range (%)"}
    assert all(p["title"].endswith(" - $ticker") for p in below)


def test_panel_types_cover_candlestick_timeseries_stat_and_table(board):
    types = {p["title"].split(" - ")[0]: p["type"] for p in drawn(board)}
    assert types == {
        "Summary for the range": "stat",
        "Freshness": "stat",
        "Price: hourly OHLC with VWAP": "candlestick",
        "Volume per hour with 16-bar moving average": "timeseries",
        "Volatility: intraday, rolling 15 returns, annualised (%), and high-low range (%)":
            "timeseries",
        "Data quality: latest run": "table",
        "Data quality: failed checks history": "table",
    }


def test_every_datasource_reference_is_the_athena_plugin(board):
    refs = list(_all_datasources(board))
    assert len(refs) >= 2 * len(drawn(board))  # panel + target each
    assert {r["type"] for r in refs} == {"grafana-athena-datasource"}
    ds_var = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert ds_var[0]["query"] == "grafana-athena-datasource"


def targets(board):
    """Every Athena query of the dashboard: panels, the ticker variable, the annotations."""
    found = [t for p in drawn(board) for t in p["targets"]]
    found += [v["query"] for v in board["templating"]["list"] if v["name"] == "ticker"]
    found += [a["target"] for a in board["annotations"]["list"]]
    return found


def test_each_target_carries_the_panel_sql_verbatim(board):
    settings = Settings()
    by_title = {p.title: p for p in panels.DRAWN}
    for p in drawn(board):
        spec = by_title[p["title"].split(" - ")[0]]
        (target,) = p["targets"]
        assert target["rawSQL"] == panels.panel_sql(spec.name, settings)
        assert target["format"] == 1  # table: every query returns one wide frame
        if spec.per_ticker:
            assert ("ticker = '$ticker'" in target["rawSQL"]
                    or "ticker IN (${ticker:singlequote})" in target["rawSQL"])
            assert "$__timeFilter(bar_time)" in target["rawSQL"]
            # Pruned on the production table's partition column (day partitions by default).
            assert "AND day_partition BETWEEN" in target["rawSQL"]
            assert "stock_aggregate_prod_latest" in target["rawSQL"]


def test_hour_partitions_prune_on_the_hour_column():
    hourly = Settings(partition_granularity="hour")
    for p in panels.DRAWN:
        if p.per_ticker:
            assert "AND day_hour_partition BETWEEN" in panels.panel_sql(p.name, hourly)


def test_every_query_reuses_athena_results_for_an_hour(board):
    found = targets(board)
    assert len(found) == len(drawn(board)) + 3  # the ticker variable, two annotations
    for target in found:
        args = target["connectionArgs"]
        assert args["resultReuseEnabled"] is True
        assert args["resultReuseMaxAgeInMinutes"] == 60


def test_ticker_variable_is_multi_select_with_all_and_reads_only_the_ranges_partitions(board):
    (ticker,) = [v for v in board["templating"]["list"] if v["name"] == "ticker"]
    assert ticker["type"] == "query"
    assert (ticker["multi"], ticker["includeAll"]) == (True, True)
    assert ticker["refresh"] == 2  # on time range change: the query depends on the range
    sql = ticker["query"]["rawSQL"]
    assert sql == panels.panel_sql("tickers", Settings())
    assert "WHERE day_partition BETWEEN" in sql and "$__timeFrom()" in sql


def test_each_failed_check_is_an_annotation_from_the_check_history(board):
    (annotation,) = [a for a in board["annotations"]["list"]
                     if a["name"] == "Data-quality failures"]
    assert annotation["enable"] is True and annotation["iconColor"] == "red"
    assert annotation["datasource"]["type"] == "grafana-athena-datasource"
    sql = annotation["target"]["rawSQL"]
    assert sql == panels.panel_sql("dq_annotations", Settings())
    assert "WHERE NOT passed" in sql and "$__timeFilter(run_at)" in sql


def test_each_split_is_an_annotation_from_the_production_view(board):
    names = [a["name"] for a in board["annotations"]["list"]]
    assert names == ["Data-quality failures", "Stock splits"]
    splits = board["annotations"]["list"][1]
    assert splits["enable"] is True and splits["iconColor"] == "purple"
    assert splits["datasource"]["type"] == "grafana-athena-datasource"
    sql = splits["target"]["rawSQL"]
    assert sql == panels.panel_sql("splits", Settings())
    # the chosen tickers' splits in the range, pruned on the partition column, from the
    # published view (the reader may read no raw table)
    assert "FROM stock_aggregate_prod_latest" in sql and "stock_aggregate_splits" not in sql
    assert "ticker IN (${ticker:singlequote})" in sql and "$__timeFilter(bar_time)" in sql
    assert "AND day_partition BETWEEN" in sql
    for column in ('bar_time AS "time"', "' AS text", "'split' AS tags"):  # Grafana's names
        assert column in sql


def test_data_quality_tables_colour_the_result_cell(board):
    tables = [p for p in drawn(board) if p["type"] == "table"]
    assert len(tables) == 2
    for table in tables:
        (result,) = [o for o in table["fieldConfig"]["overrides"]
                     if o["matcher"]["options"] == "result"]
        props = {p["id"]: p["value"] for p in result["properties"]}
        assert props["custom.cellOptions"]["type"] == "color-background"
        options = props["mappings"][0]["options"]
        assert {k: v["color"] for k, v in options.items()} == {
            "PASS": "green", "WARN": "orange", "FAIL": "red"}
        assert "AS result" in table["targets"][0]["rawSQL"]


def test_freshness_stat_turns_orange_then_red_as_the_latest_bar_ages(board):
    (fresh,) = [p for p in drawn(board) if p["title"] == "Freshness - $ticker"]
    (hours,) = [o for o in fresh["fieldConfig"]["overrides"]
                if o["matcher"]["options"] == "hours_since_latest_bar"]
    props = {p["id"]: p["value"] for p in hours["properties"]}
    assert props["thresholds"]["steps"] == [{"color": "green", "value": None},
                                            {"color": "orange", "value": 72},
                                            {"color": "red", "value": 96}]
    assert fresh["options"]["colorMode"] == "background"


def test_table_prefix_from_settings_reaches_the_panel_sql():
    board = build.build_dashboard(Settings(table_prefix="acme_bars"))
    sqls = [t["rawSQL"] for t in targets(board)]
    assert all("stock_aggregate" not in s for s in sqls)
    # 5 panels, the ticker variable and the split annotation
    assert sum("FROM acme_bars_prod_latest" in s for s in sqls) == 7
    assert sum("FROM acme_bars_dq_results" in s for s in sqls) == 3  # 2 tables + annotation


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
    assert ds["isDefault"] is False  # never taken over as the organisation's default
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


def test_the_athena_plugin_version_is_pinned_in_the_provisioning_docs():
    docs = (ROOT / "docs" / "grafana.md").read_text("utf-8")
    assert "grafana cli plugins install grafana-athena-datasource 3.3.3" in docs
    assert "GF_INSTALL_PLUGINS=grafana-athena-datasource 3.3.3" in docs
    provisioning = (ROOT / "grafana/provisioning/datasources/athena.yaml").read_text("utf-8")
    assert "version 3.3.3" in provisioning

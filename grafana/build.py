"""Generate grafana/dashboards/stockpipe.json with grafana-foundation-sdk.

Run `python -m grafana.build` after changing a panel SQL file or this layout; `--check` exits 1
when the committed file differs from what would be generated. Panel SQL comes from
runtime/sql/panels/ through runtime.panels, the same text the local report and notebooks run.

Layout: a data-quality row (latest run, failure history), then one row per ticker, repeated
for each value of the multi-select ticker variable (`All` included); a failed check is also an
annotation on every time axis, and so is each stock split of the chosen tickers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from grafana_foundation_sdk.builders import athena as athena_b
from grafana_foundation_sdk.builders import candlestick as candlestick_b
from grafana_foundation_sdk.builders import common as common_b
from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.builders import stat as stat_b
from grafana_foundation_sdk.builders import table as table_b
from grafana_foundation_sdk.builders import timeseries as timeseries_b
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import athena as athena_m
from grafana_foundation_sdk.models import candlestick as candlestick_m
from grafana_foundation_sdk.models import common as common_m
from grafana_foundation_sdk.models import dashboard as dashboard_m

from runtime import panels
from runtime.settings import EXCHANGE_TZ, Settings

PLUGIN_TYPE = "grafana-athena-datasource"
DASHBOARD_UID = "stockpipe-hourly-bars"
DASHBOARD_TITLE = "stockpipe: hourly stock bars"
DATASOURCE_VARIABLE = "datasource"
# Panels point at the data-source variable, so the dashboard works with the provisioned data
# source (uid stockpipe-athena) or any other Athena data source the user picks.
DATASOURCE = dashboard_m.DataSourceRef(type_val=PLUGIN_TYPE, uid="${" + DATASOURCE_VARIABLE + "}")
OUTPUT = Path(__file__).resolve().parent / "dashboards" / "stockpipe.json"
# The dashboard JSON model's current schema version (Grafana's last for the v1 dashboard API):
# Grafana would otherwise migrate the SDK's default (36) on every load.
SCHEMA_VERSION = 42
# Athena query-result reuse: the data changes once a day, so a query repeated within the hour
# (another viewer, a refresh, a ticker switched back) reads the stored result instead of
# scanning again. An hour bounds how stale a panel can be after the daily publish.
RESULT_REUSE_MINUTES = 60
# Hours since a ticker's latest bar at which the freshness stat turns orange and red: a Friday
# 19:00 bar seen on Monday before the daily run is ~65 hours old and still current.
FRESHNESS_WARN_HOURS = 72
FRESHNESS_STALE_HOURS = 96

# (panel name, x, y, w, h): explicit positions keep the JSON stable and the layout readable.
# y counts from the row above the panels (each row takes one grid unit).
QUALITY_ROW = (
    ("dq_latest", 0, 0, 12, 9),
    ("dq_failures", 12, 0, 12, 9),
)
TICKER_ROW = (
    ("stats", 0, 0, 18, 4),
    ("freshness", 18, 0, 6, 4),
    ("price", 0, 4, 24, 11),
    ("volume", 0, 15, 12, 9),
    ("volatility", 12, 15, 12, 9),
)
RESULT_COLOURS = {"PASS": "green", "WARN": "orange", "FAIL": "red"}


def _target(sql: str) -> athena_b.Dataquery:
    """An Athena query in table format: every panel query returns a wide frame."""
    return (
        athena_b.Dataquery()
        .ref_id("A")
        .datasource(DATASOURCE)
        .format(athena_m.FormatOptions.TABLE)
        .connection_args(athena_b.ConnectionArgs()
                         .result_reuse_enabled(True)
                         .result_reuse_max_age_in_minutes(RESULT_REUSE_MINUTES))
        .raw_sql(sql)
    )


def _override(name: str, **props: Any) -> dashboard_b.DashboardFieldConfigSourceOverrides:
    values = [dashboard_m.DynamicConfigValue(id_val=k.replace("__", "."), value=v)
              for k, v in props.items()]
    return (
        dashboard_b.DashboardFieldConfigSourceOverrides()
        .matcher(dashboard_m.MatcherConfig(id_val="byName", options=name))
        .properties(values)
    )


def _legend() -> common_b.VizLegendOptions:
    return (
        common_b.VizLegendOptions()
        .show_legend(True)
        .display_mode(common_m.LegendDisplayMode.LIST)
        .placement(common_m.LegendPlacement.BOTTOM)
    )


def _stats(p: panels.Panel, sql: str):
    return (
        stat_b.Panel()
        .reduce_options(common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .text_mode(common_m.BigValueTextMode.VALUE_AND_NAME)
        .color_mode(common_m.BigValueColorMode.NONE)
        .graph_mode(common_m.BigValueGraphMode.NONE)
        .decimals(2)
        .overrides([
            _override("last_close", displayName="Last close", unit="currencyUSD"),
            _override("change_abs", displayName="Change", unit="currencyUSD"),
            _override("change_pct", displayName="Change %", unit="percent"),
            _override("total_volume", displayName="Total volume", unit="short", decimals=0),
            _override("realised_vol_ann_pct", displayName="Intraday vol (ann., x sqrt(252x15))",
                      unit="percent", decimals=1),
            _override("bars", displayName="Bars", unit="none", decimals=0),
        ])
    )


def _price(p: panels.Panel, sql: str):
    return (
        candlestick_b.Panel()
        .mode(candlestick_m.VizDisplayMode.CANDLES)
        .candle_style(candlestick_m.CandleStyle.CANDLES)
        .color_strategy(candlestick_m.ColorStrategy.OPEN_CLOSE)
        .fields(candlestick_b.CandlestickFieldMap().open("open").high("high").low("low")
                .close("close").volume("volume"))
        .include_all_fields(True)
        .legend(_legend())
        .unit(p.unit)
        .overrides([
            _override("vwap", displayName="VWAP", custom__lineWidth=2),
            _override("volume", custom__hideFrom={"legend": True, "tooltip": False,
                                                  "viz": True}),
        ])
    )


def _volume(p: panels.Panel, sql: str):
    return (
        timeseries_b.Panel()
        .legend(_legend())
        .unit(p.unit)
        .draw_style(common_m.GraphDrawStyle.LINE)
        .line_width(2)
        .overrides([
            _override("volume", displayName="Volume", custom__drawStyle="bars",
                      custom__fillOpacity=60),
            _override("volume_ma_16", displayName="16-bar moving average (1 extended session)"),
        ])
    )


def _volatility(p: panels.Panel, sql: str):
    return (
        timeseries_b.Panel()
        .legend(_legend())
        .unit(p.unit)
        .line_width(2)
        .overrides([
            _override("volatility_ann_pct",
                      displayName="Intraday volatility, 15 returns, annualised x sqrt(252x15)"),
            _override("range_pct", displayName="High-low range (% of close)",
                      custom__drawStyle="bars", custom__fillOpacity=40,
                      custom__axisPlacement="right"),
        ])
    )


def _thresholds(*steps: Any) -> Dict[str, Any]:
    """Absolute thresholds: (colour, from value) pairs, the first from the bottom (None)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def _freshness(p: panels.Panel, sql: str):
    return (
        stat_b.Panel()
        .reduce_options(common_b.ReduceDataOptions().calcs(["lastNotNull"]).values(False)
                        .fields("/.*/"))
        .text_mode(common_m.BigValueTextMode.VALUE_AND_NAME)
        .color_mode(common_m.BigValueColorMode.BACKGROUND)
        .graph_mode(common_m.BigValueGraphMode.NONE)
        .thresholds(dashboard_b.ThresholdsConfig().mode(dashboard_m.ThresholdsMode.ABSOLUTE)
                    .steps([dashboard_m.Threshold(color="transparent", value=None)]))
        .overrides([
            _override("latest_bar", displayName="Latest bar", unit="dateTimeAsIso"),
            _override("hours_since_latest_bar", displayName="Hours since", unit=p.unit,
                      decimals=0, thresholds=_thresholds(
                          ("green", None), ("orange", FRESHNESS_WARN_HOURS),
                          ("red", FRESHNESS_STALE_HOURS))),
        ])
    )


def _table(p: panels.Panel, sql: str):
    # PASS / WARN / FAIL as coloured cells, so a failure stands out in a long history.
    mapping = {"type": "value", "options": {
        word: {"color": colour, "index": i}
        for i, (word, colour) in enumerate(RESULT_COLOURS.items())}}
    return (
        table_b.Panel().show_header(True).cell_height(common_m.TableCellHeight.SM)
        .overrides([
            _override("result", custom__cellOptions={"type": "color-background",
                                                     "mode": "basic"},
                      mappings=[mapping], custom__width=80),
            _override("passed", custom__hidden=True),
        ])
    )


BUILDERS = {"stats": _stats, "freshness": _freshness, "price": _price, "volume": _volume,
            "volatility": _volatility, "dq_latest": _table, "dq_failures": _table}


def _panel(panel_id: int, name: str, x: int, y: int, w: int, h: int, settings: Settings):
    p = panels.panel(name)
    sql = panels.panel_sql(name, settings)
    return (
        BUILDERS[name](p, sql)
        .id(panel_id)
        .title(p.title + (" - $ticker" if p.per_ticker else ""))
        .description(p.description)
        .datasource(DATASOURCE)
        .grid_pos(dashboard_m.GridPos(h=h, w=w, x=x, y=y))
        .with_target(_target(sql))
    )


def _as_json(builder: Any) -> Any:
    return json.loads(json.dumps(builder.build(), cls=JSONEncoder))


def build_dashboard(settings: Optional[Settings] = None) -> Dict[str, Any]:
    """The dashboard as a JSON-ready dict (default settings unless given)."""
    settings = settings or Settings()
    tickers_query = _as_json(_target(panels.panel_sql("tickers", settings)))
    datasource_var = (
        dashboard_b.DatasourceVariable(DATASOURCE_VARIABLE)
        .label("Athena data source")
        .type(PLUGIN_TYPE)
    )
    ticker_var = (
        dashboard_b.QueryVariable("ticker")
        .label("Ticker")
        .description("Tickers with bars in the time range; one row per ticker chosen")
        .datasource(DATASOURCE)
        .query(tickers_query)
        # The query reads only the range's partitions, so it must follow the range.
        .refresh(dashboard_m.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_m.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
    )
    failures = (
        dashboard_b.AnnotationQuery()
        .name(panels.panel("dq_annotations").title)
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("red")
    )
    # Split markers come from the production view (runtime/sql/panels/splits.sql): the reader
    # role may read only the published tables, and the marker is where the shown history changed
    # basis. One line per chosen ticker's split, on every time axis of the dashboard.
    splits = (
        dashboard_b.AnnotationQuery()
        .name(panels.panel("splits").title)
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("purple")
    )
    board = (
        dashboard_b.Dashboard(DASHBOARD_TITLE)
        .uid(DASHBOARD_UID)
        .description("Volume, price trend and volatility of hourly bars from the production "
                     f"view {settings.prod_latest_view}, and the data-quality check results.")
        .tags(["stockpipe", "athena", "stocks"])
        .timezone(EXCHANGE_TZ)
        .time("now-7d", "now")
        .refresh("1h")
        .editable()
        .with_variable(datasource_var)
        .with_variable(ticker_var)
        .annotation(failures)
        .annotation(splits)
    )
    panel_id, y = 0, 0
    for title, repeat, layout in (("Data quality", None, QUALITY_ROW),
                                  ("$ticker", "ticker", TICKER_ROW)):
        panel_id += 1
        row = dashboard_b.Row(title).id(panel_id).collapsed(False).grid_pos(
            dashboard_m.GridPos(h=1, w=24, x=0, y=y))
        if repeat:
            row = row.repeat(repeat)
        board = board.with_row(row)
        for name, x, dy, w, h in layout:
            panel_id += 1
            board = board.with_panel(_panel(panel_id, name, x, y + 1 + dy, w, h, settings))
        y += 1 + max(dy + h for _, _, dy, _, h in layout)
    out = _as_json(board)
    out["schemaVersion"] = SCHEMA_VERSION
    # The plugin reads an annotation's query from `target`, like a panel's; the SDK's
    # annotation target models only Grafana's built-in annotations, so it is set here.
    failures_json, splits_json = out["annotations"]["list"]
    failures_json["target"] = _as_json(_target(panels.panel_sql("dq_annotations", settings)))
    splits_json["target"] = _as_json(_target(panels.panel_sql("splits", settings)))
    return out


def render_dashboard(settings: Optional[Settings] = None) -> str:
    """The file's exact text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(build_dashboard(settings), indent=2, sort_keys=True) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grafana.build", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write the dashboard")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the file differs from the generated dashboard")
    parser.add_argument("--from-env", action="store_true",
                        help="take table names from STOCKPIPE_* variables instead of defaults")
    args = parser.parse_args(argv)
    text = render_dashboard(Settings.from_env() if args.from_env else None)
    if args.check:
        current = args.out.read_text("utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run `python -m grafana.build`", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, "utf-8")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

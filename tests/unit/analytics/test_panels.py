"""Every panel query, expanded as Grafana's Athena plugin would, runs on the local engine and
returns hand-computed values for the fixture dataset (see conftest.py)."""

import math
import statistics
from datetime import datetime, timedelta

import pytest

from runtime import panels
from runtime.errors import ConfigError, IdentifierError

# The fixture's constants (conftest.py documents the dataset).
START = datetime(2026, 11, 16, 14, 0)
N_AAPL = 20
TIME_FROM = datetime(2026, 11, 16, 0, 0)
TIME_TO = datetime(2026, 11, 18, 0, 0)
# Documented factor: 252 sessions x 15 intraday hourly returns in a 16-bar extended session.
ANNUALISE = math.sqrt(252 * 15)


def aapl_return(i: int) -> float:
    """The fixture's hourly log return into AAPL bar i (close alternates 100, 100e^0.01)."""
    return 0.01 if i % 2 else -0.01


# The fixture's AAPL bars run 09:00 ET on Mon 16th to 04:00 ET on the 17th: bars 0..14 are the
# 16th's session, bars 15..19 the 17th's. Intraday returns exist for bars 1..14 and 16..19; bar
# 15's step from the previous session is not one.
INTRADAY_BARS = [*range(1, 15), *range(16, 20)]


def run(engine, settings, name, ticker="AAPL", time_from=TIME_FROM, time_to=TIME_TO):
    p = panels.panel(name)
    return panels.run_panel(engine, settings, name, time_from, time_to,
                            ticker if p.per_ticker else None)


def test_price_panel_returns_candles_in_time_order_for_the_chosen_ticker_only(loaded, settings):
    result = run(loaded, settings, "price")
    assert result.columns == ["time", "open", "high", "low", "close", "vwap", "volume", "ticker"]
    assert len(result.rows) == N_AAPL  # the week-old bar and the mis-filed bar are excluded
    times = [r[0] for r in result.rows]
    assert times == [START + timedelta(hours=i) for i in range(N_AAPL)]
    first = result.records()[0]
    assert first == {"time": START, "open": 99.0, "high": 100.5, "low": 98.5, "close": 100.0,
                     "vwap": 99.5, "volume": 1000.0, "ticker": "AAPL"}
    assert result.records()[1]["close"] == pytest.approx(100 * math.exp(0.01))


def test_time_filter_is_inclusive_and_partition_bound_keeps_the_last_hour(loaded, settings):
    # To = 19:00 UTC = 14:00 ET: the upper partition bound is '2026-11-16-14', the bar's own.
    result = run(loaded, settings, "price", time_from=START, time_to=START + timedelta(hours=5))
    assert [r[0] for r in result.rows] == [START + timedelta(hours=i) for i in range(6)]


def test_partition_predicate_is_applied_not_only_the_time_filter(loaded, settings):
    # The fixture holds an AAPL bar at 14:30 UTC filed under partition 2026-11-01-09.
    result = run(loaded, settings, "price", time_from=START, time_to=START + timedelta(hours=1))
    assert [r[0] for r in result.rows] == [START, START + timedelta(hours=1)]


@pytest.mark.parametrize(
    ("utc", "expected"),
    [("2026-11-17 09:00:00", "2026-11-17-04"),   # EST, UTC-5
     ("2026-07-01 12:00:00", "2026-07-01-08"),   # EDT, UTC-4
     ("2026-11-16 03:00:00", "2026-11-15-22")],  # previous exchange day
)
def test_partition_bound_expression_converts_utc_macro_value_to_exchange_hour(engine, utc,
                                                                               expected):
    sql = (f"SELECT format_datetime(TIMESTAMP '{utc}' AT TIME ZONE 'UTC' "
           "AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH') AS p")
    assert engine.execute(sql).scalar() == expected


def test_volume_panel_sums_match_the_data_and_moving_average_spans_16_bars(loaded, settings):
    result = run(loaded, settings, "volume")
    assert result.columns == ["time", "volume", "volume_ma_16", "ticker"]
    volumes = [r[1] for r in result.rows]
    assert sum(volumes) == 39000.0  # 20 x 1000 + 100 x (0 + ... + 19)
    ma = [r[2] for r in result.rows]
    # no average until 16 bars are in the window: a 6-bar mean is not a 16-bar average
    assert ma[:15] == [None] * 15
    assert ma[15] == pytest.approx(1750.0)  # mean of bars 0..15: 1000 + 100 x 7.5
    assert ma[19] == pytest.approx(2150.0)  # mean of bars 4..19


def test_volume_panel_for_another_ticker_sees_only_its_bars(loaded, settings):
    result = run(loaded, settings, "volume", ticker="MSFT")
    assert [r[1] for r in result.rows] == [5.0, 6.0, 7.0]


def test_volatility_uses_only_intraday_returns_in_a_rolling_window_of_15(loaded, settings):
    result = run(loaded, settings, "volatility")
    assert result.columns == ["time", "volatility_ann_pct", "range_pct", "ticker"]
    vol = [r[1] for r in result.rows]
    # No value until a window holds 15 intraday returns (bar 16: returns of bars 1..14 and 16);
    # bar 15 opens a session, so it has no return and no value of its own.
    assert vol[:16] == [None] * 16
    for bar in (16, 19):
        k = INTRADAY_BARS.index(bar)
        window = [aapl_return(i) for i in INTRADAY_BARS[k - 14:k + 1]]
        assert len(window) == 15
        assert vol[bar] == pytest.approx(statistics.stdev(window) * ANNUALISE * 100)
    rng = [r[2] for r in result.rows]
    assert rng[0] == pytest.approx(2.0)  # (100.5 - 98.5) / 100
    c1 = 100 * math.exp(0.01)  # bar 1: open 100, close c1, high c1 + 0.5, low 99.5
    assert rng[1] == pytest.approx((c1 + 0.5 - 99.5) / c1 * 100)


def test_an_overnight_gap_does_not_raise_volatility(engine, settings):
    """Two sessions of flat-ish prices with a 20 % jump overnight: intraday volatility stays
    that of the small hourly moves."""
    from tests.unit.analytics.conftest import Bar, load_bars

    bars = []
    for day, base in ((16, 100.0), (17, 120.0)):
        for h in range(16):  # 04:00..19:00 ET = 09:00..00:00 UTC
            close = base * math.exp(0.001 * (h % 2))
            t = datetime(2026, 11, day, 9) + timedelta(hours=h)
            bars.append(Bar("AAPL", t, close, close + 0.1, close - 0.1, close, 100.0, close))
    load_bars(settings, engine, bars)
    result = run(engine, settings, "volatility", time_from=datetime(2026, 11, 16),
                 time_to=datetime(2026, 11, 18, 5))
    values = [r[1] for r in result.rows if r[1] is not None]
    # +-0.1 % hourly moves: 0.1 % x sqrt(252 x 15) ~ 6 %; the 20 % gap as a return: ~290 %
    assert values and max(values) < 10.0
    (row,) = run(engine, settings, "stats", time_from=datetime(2026, 11, 16),
                 time_to=datetime(2026, 11, 18, 5)).records()
    assert row["realised_vol_ann_pct"] < 10.0


def test_stats_panel_gives_last_close_change_volume_and_intraday_volatility(loaded, settings):
    (row,) = run(loaded, settings, "stats").records()
    last = 100 * math.exp(0.01)
    returns = [aapl_return(i) for i in INTRADAY_BARS]
    assert row["last_close"] == pytest.approx(last)
    assert row["change_abs"] == pytest.approx(last - 99.0)
    assert row["change_pct"] == pytest.approx((last / 99.0 - 1) * 100)
    assert row["total_volume"] == 39000.0
    assert row["realised_vol_ann_pct"] == pytest.approx(
        statistics.stdev(returns) * ANNUALISE * 100)
    assert row["bars"] == N_AAPL


def test_sessions_panel_gives_one_row_per_ticker_and_exchange_day(loaded, settings):
    result = panels.run_panel(loaded, settings, "sessions", TIME_FROM, TIME_TO,
                              ["AAPL", "MSFT"])
    rows = {(r["ticker"], r["session_day"]): r for r in result.records()}
    assert list(rows) == [("AAPL", "2026-11-16"), ("AAPL", "2026-11-17"),
                          ("MSFT", "2026-11-16")]
    first, second = rows["AAPL", "2026-11-16"], rows["AAPL", "2026-11-17"]
    assert (first["bars"], second["bars"]) == (15, 5)
    assert first["open"] == 99.0 and first["close"] == pytest.approx(100.0)  # bar 14
    assert second["open"] == 100.0 and second["close"] == pytest.approx(100 * math.exp(0.01))
    assert (first["volume"], second["volume"]) == (25500.0, 13500.0)
    assert (first["returns"], second["returns"]) == (14, 4)
    assert first["sum_sq_return"] == pytest.approx(14 * 0.0001)
    assert first["sum_return"] == pytest.approx(0.0)
    assert first["first_bar"] == START and second["last_bar"] == START + timedelta(hours=19)
    msft = rows["MSFT", "2026-11-16"]
    assert (msft["bars"], msft["volume"], msft["high"], msft["low"]) == (3, 18.0, 401.0, 399.0)
    # VWAP of the session weighted by volume: every MSFT bar has vwap 400.2
    assert msft["vwap"] == pytest.approx(400.2)


def test_a_multi_ticker_panel_returns_every_chosen_ticker_in_one_query(loaded, settings):
    sql = panels.panel_query("price", settings, TIME_FROM, TIME_TO, ["AAPL", "MSFT"])
    assert "ticker IN ('AAPL','MSFT')" in sql
    result = loaded.execute(sql)
    assert [r[-1] for r in result.rows] == ["AAPL"] * N_AAPL + ["MSFT"] * 3


def test_freshness_panel_gives_latest_bar_and_hours_to_the_range_end(loaded, settings):
    (row,) = run(loaded, settings, "freshness").records()
    assert row["latest_bar"] == START + timedelta(hours=19)  # 2026-11-17 09:00 UTC
    assert row["hours_since_latest_bar"] == 15  # to 2026-11-18 00:00 UTC


def test_dq_annotations_panel_gives_one_annotation_per_failed_check_in_range(loaded, settings):
    result = panels.run_panel(loaded, settings, "dq_annotations", datetime(2026, 11, 19),
                              datetime(2026, 11, 22))
    assert result.columns == ["time", "text", "tags"]
    assert result.rows == [
        (datetime(2026, 11, 20, 12), "duplicate_keys: 2 failing rows (blocking: nothing "
         "published; run r1)", "error"),
        (datetime(2026, 11, 21, 12), "freshness: 1 failing rows (warning; run r2)", "warning"),
    ]
    later = panels.run_panel(loaded, settings, "dq_annotations", datetime(2026, 11, 21, 1),
                             datetime(2026, 11, 22))
    assert [r[2] for r in later.rows] == ["warning"]


def test_stats_panel_for_an_empty_range_returns_one_row_of_nulls(loaded, settings):
    (row,) = run(loaded, settings, "stats", time_from=TIME_TO,
                 time_to=TIME_TO + timedelta(days=1)).records()
    assert row["bars"] == 0
    assert row["last_close"] is None and row["total_volume"] is None


def test_tickers_panel_lists_each_ticker_once_sorted(loaded, settings):
    assert run(loaded, settings, "tickers").rows == [("AAPL",), ("MSFT",)]


def test_tickers_panel_reads_only_the_partitions_of_the_range(loaded, settings):
    # MSFT's bars are all on the 16th: a range of the 17th lists AAPL only.
    later = run(loaded, settings, "tickers", time_from=datetime(2026, 11, 17, 5),
                time_to=TIME_TO)
    assert later.rows == [("AAPL",)]
    sql = panels.panel_sql("tickers", settings)
    assert "WHERE day_partition BETWEEN" in sql


def test_partition_column_comes_from_one_function_of_the_settings(settings):
    assert panels.partition_column(settings) == "day_partition"
    hourly = settings.replace(partition_granularity="hour")
    assert panels.partition_column(hourly) == "day_hour_partition"
    for name in ("price", "volume", "volatility", "stats", "sessions", "tickers", "freshness"):
        sql = panels.panel_sql(name, hourly)
        assert "day_hour_partition BETWEEN" in sql and "day_partition BETWEEN" not in sql, name


def test_data_range_panel_spans_every_bar_of_each_ticker(loaded, settings):
    rows = {r["ticker"]: r for r in run(loaded, settings, "data_range").records()}
    assert rows["AAPL"]["first_bar"] == START - timedelta(days=7)
    assert rows["AAPL"]["last_bar"] == START + timedelta(hours=N_AAPL - 1)
    assert rows["AAPL"]["bars"] == N_AAPL + 2
    assert (rows["MSFT"]["bars"], rows["MSFT"]["last_bar"]) == (3, START + timedelta(hours=2))


def test_dq_latest_panel_shows_only_the_newest_run_failures_first(loaded, settings):
    result = run(loaded, settings, "dq_latest")
    assert result.columns == ["result", "check_name", "severity", "failing_rows", "passed",
                              "run_at", "run_id"]
    assert [(r[0], r[1], r[3], r[4], r[6]) for r in result.rows] == [
        ("WARN", "freshness", 1, False, "r2"),
        ("PASS", "duplicate_keys", 0, True, "r2"),
        ("PASS", "null_values", 0, True, "r2"),
    ]


def test_dq_failures_panel_lists_failed_checks_newest_first(loaded, settings):
    result = run(loaded, settings, "dq_failures")
    assert result.columns == ["time", "result", "run_id", "check_name", "severity",
                              "failing_rows"]
    assert [r[1:] for r in result.rows] == [
        ("WARN", "r2", "freshness", "warning", 1),
        ("FAIL", "r1", "duplicate_keys", "error", 2),
    ]


def test_panel_query_refuses_a_ticker_that_could_inject_sql(settings):
    with pytest.raises(IdentifierError):
        panels.panel_query("price", settings, TIME_FROM, TIME_TO, "AAPL'; DROP TABLE x; --")


def test_per_ticker_panel_without_a_ticker_is_an_error(settings):
    with pytest.raises(ConfigError, match="per ticker"):
        panels.panel_query("volume", settings, TIME_FROM, TIME_TO)


def test_panel_sql_keeps_grafana_syntax_and_fills_the_table_name(settings):
    sql = panels.panel_sql("price", settings)
    assert "FROM stock_aggregate_prod_latest" in sql
    assert "ticker IN (${ticker:singlequote})" in sql
    assert "$__timeFilter(bar_time)" in sql and "{{" not in sql
    assert "'$ticker'" in panels.panel_sql("stats", settings)


def test_a_single_value_panel_refuses_a_list_of_tickers(settings):
    with pytest.raises(ConfigError, match="takes one ticker"):
        panels.panel_query("stats", settings, TIME_FROM, TIME_TO, ["AAPL", "MSFT"])


def test_every_registered_panel_has_its_sql_file():
    for p in panels.PANELS:
        assert panels.template(p.name).strip(), p.name


def _split_history():
    """Per ticker, one 14:00 UTC bar a day from the 16th to the 19th with the split_factor the
    adjusted view gives: AAPL 2-for-1 on the 17th and 3-for-1 on the 19th; MSFT 1-for-10 on the
    18th; NVDA 3-for-2, KO 2-for-3 and ODD 137-for-100 on the 17th."""
    from tests.unit.analytics.conftest import Bar

    factors = {"AAPL": (6.0, 3.0, 3.0, 1.0), "MSFT": (0.1, 0.1, 1.0, 1.0),
               "NVDA": (1.5, 1.0, 1.0, 1.0), "KO": (2 / 3, 1.0, 1.0, 1.0),
               "ODD": (1.37, 1.0, 1.0, 1.0)}
    return [Bar(t, datetime(2026, 11, 16 + d, 14), 10.0, 11.0, 9.0, 10.5, 100.0, 10.2,
                split_factor=f)
            for t, fs in factors.items() for d, f in enumerate(fs)]


def test_splits_panel_marks_each_split_at_the_first_bar_on_the_new_basis(settings, engine):
    from tests.unit.analytics.conftest import load_bars

    load_bars(settings, engine, _split_history())
    result = panels.run_panel(engine, settings, "splits", datetime(2026, 11, 16),
                              datetime(2026, 11, 20), ["AAPL", "MSFT", "NVDA", "KO", "ODD"])
    assert result.columns == ["time", "ticker", "split_day", "ratio", "ratio_text", "text",
                              "tags"]
    got = [(r["ticker"], r["time"], r["split_day"], r["ratio_text"], r["tags"])
           for r in result.records()]
    assert got == [
        ("AAPL", datetime(2026, 11, 17, 14), "2026-11-17", "2-for-1", "split"),
        ("AAPL", datetime(2026, 11, 19, 14), "2026-11-19", "3-for-1", "split"),
        ("KO", datetime(2026, 11, 17, 14), "2026-11-17", "2-for-3", "split"),
        ("MSFT", datetime(2026, 11, 18, 14), "2026-11-18", "1-for-10", "split"),
        ("NVDA", datetime(2026, 11, 17, 14), "2026-11-17", "3-for-2", "split"),
        ("ODD", datetime(2026, 11, 17, 14), "2026-11-17", "137-for-100", "split"),
    ]
    ratios = {(r["ticker"], r["split_day"]): r["ratio"] for r in result.records()}
    assert ratios[("AAPL", "2026-11-19")] == pytest.approx(3.0)
    assert ratios[("MSFT", "2026-11-18")] == pytest.approx(0.1)
    assert result.records()[0]["text"] == (
        "AAPL 2-for-1 split on 2026-11-17: the bars before it are on the new basis (prices "
        "divided by the ratio, volume multiplied)")


def test_splits_panel_marks_a_split_on_the_first_day_and_nothing_outside_the_range(settings,
                                                                                  engine):
    from tests.unit.analytics.conftest import load_bars

    load_bars(settings, engine, _split_history())
    # From the 17th: the split on the range's first day is marked (its bar is compared with the
    # one before the range), those on the 17th's other tickers too; none from before the range.
    later = panels.run_panel(engine, settings, "splits", datetime(2026, 11, 17),
                             datetime(2026, 11, 20), ["AAPL", "MSFT"])
    assert [(r["ticker"], r["split_day"]) for r in later.records()] == [
        ("AAPL", "2026-11-17"), ("AAPL", "2026-11-19"), ("MSFT", "2026-11-18")]
    from_18th = panels.run_panel(engine, settings, "splits", datetime(2026, 11, 18),
                                 datetime(2026, 11, 20), ["AAPL", "MSFT", "NVDA"])
    assert [(r["ticker"], r["split_day"]) for r in from_18th.records()] == [
        ("AAPL", "2026-11-19"), ("MSFT", "2026-11-18")]
    to_18th = panels.run_panel(engine, settings, "splits", datetime(2026, 11, 16),
                               datetime(2026, 11, 18, 12), ["AAPL"])
    assert [r["split_day"] for r in to_18th.records()] == ["2026-11-17"]
    sql = panels.panel_query("splits", settings, datetime(2026, 11, 17), datetime(2026, 11, 20),
                             ["AAPL"])
    assert "ticker IN ('AAPL')" in sql and "day_partition BETWEEN" in sql
    none = panels.run_panel(engine, settings, "splits", datetime(2026, 11, 16),
                            datetime(2026, 11, 20), ["ZZZ"])
    assert none.rows == []

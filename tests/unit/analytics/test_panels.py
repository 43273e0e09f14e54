"""Every panel query, expanded as Grafana's Athena plugin would, runs on the local engine and
returns hand-computed values for the fixture dataset (see conftest.py)."""

import math
import statistics
from datetime import datetime, timedelta

import pytest

from runtime import panels
from runtime.errors import ConfigError, IdentifierError
from runtime.sql_files import sql_path

# The fixture's constants (conftest.py documents the dataset).
START = datetime(2026, 11, 16, 14, 0)
N_AAPL = 20
TIME_FROM = datetime(2026, 11, 16, 0, 0)
TIME_TO = datetime(2026, 11, 18, 0, 0)
ANNUALISE = math.sqrt(252 * 16)  # documented factor: 252 sessions x 16 hourly bars


def run(engine, settings, name, ticker="AAPL", time_from=TIME_FROM, time_to=TIME_TO):
    p = panels.panel(name)
    return panels.run_panel(engine, settings, name, time_from, time_to,
                            ticker if p.per_ticker else None)


def test_price_panel_returns_candles_in_time_order_for_the_chosen_ticker_only(loaded, settings):
    result = run(loaded, settings, "price")
    assert result.columns == ["time", "open", "high", "low", "close", "vwap", "volume"]
    assert len(result.rows) == N_AAPL  # the week-old bar and the mis-filed bar are excluded
    times = [r[0] for r in result.rows]
    assert times == [START + timedelta(hours=i) for i in range(N_AAPL)]
    first = result.records()[0]
    assert first == {"time": START, "open": 99.0, "high": 100.5, "low": 98.5, "close": 100.0,
                     "vwap": 99.5, "volume": 1000.0}
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
    assert result.columns == ["time", "volume", "volume_ma_16"]
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


def test_volatility_of_alternating_one_percent_log_returns_matches_hand_computation(loaded,
                                                                                   settings):
    result = run(loaded, settings, "volatility")
    assert result.columns == ["time", "volatility_ann_pct", "range_pct"]
    vol = [r[1] for r in result.rows]
    # bar 0 has no return; bars 1..15 have fewer than 16 returns in their window: no value, not
    # an annualised deviation of two returns (which read as a spike or a calm)
    assert vol[:16] == [None] * 16
    # bar 16: returns of bars 1..16, eight +0.01 and eight -0.01 -> sd 0.01 * sqrt(16 / 15)
    assert vol[16] == pytest.approx(0.01 * math.sqrt(16 / 15) * ANNUALISE * 100)
    # bar 19: 16 returns, eight +0.01 and eight -0.01 -> sd 0.01 * sqrt(16 / 15)
    assert vol[19] == pytest.approx(0.01 * math.sqrt(16 / 15) * ANNUALISE * 100)
    assert vol[19] == pytest.approx(65.5805, abs=1e-4)
    rng = [r[2] for r in result.rows]
    assert rng[0] == pytest.approx(2.0)  # (100.5 - 98.5) / 100
    c1 = 100 * math.exp(0.01)  # bar 1: open 100, close c1, high c1 + 0.5, low 99.5
    assert rng[1] == pytest.approx((c1 + 0.5 - 99.5) / c1 * 100)


def test_stats_panel_gives_last_close_change_volume_and_realised_volatility(loaded, settings):
    (row,) = run(loaded, settings, "stats").records()
    last = 100 * math.exp(0.01)
    returns = [0.01 if i % 2 else -0.01 for i in range(1, N_AAPL)]
    assert row["last_close"] == pytest.approx(last)
    assert row["change_abs"] == pytest.approx(last - 99.0)
    assert row["change_pct"] == pytest.approx((last / 99.0 - 1) * 100)
    assert row["total_volume"] == 39000.0
    assert row["realised_vol_ann_pct"] == pytest.approx(
        statistics.stdev(returns) * ANNUALISE * 100)
    assert row["bars"] == N_AAPL


def test_stats_panel_for_an_empty_range_returns_one_row_of_nulls(loaded, settings):
    (row,) = run(loaded, settings, "stats", time_from=TIME_TO,
                 time_to=TIME_TO + timedelta(days=1)).records()
    assert row["bars"] == 0
    assert row["last_close"] is None and row["total_volume"] is None


def test_tickers_panel_lists_each_ticker_once_sorted(loaded, settings):
    assert run(loaded, settings, "tickers").rows == [("AAPL",), ("MSFT",)]


def test_data_range_panel_spans_every_bar_in_the_view(loaded, settings):
    (row,) = run(loaded, settings, "data_range").records()
    assert row["first_bar"] == START - timedelta(days=7)
    assert row["last_bar"] == START + timedelta(hours=N_AAPL - 1)
    assert row["bars"] == N_AAPL + 3 + 2


def test_dq_latest_panel_shows_only_the_newest_run_failures_first(loaded, settings):
    result = run(loaded, settings, "dq_latest")
    assert result.columns == ["run_at", "run_id", "check_name", "severity", "failing_rows",
                              "passed"]
    assert [(r[1], r[2], r[4], r[5]) for r in result.rows] == [
        ("r2", "freshness", 1, False),
        ("r2", "duplicate_keys", 0, True),
        ("r2", "null_values", 0, True),
    ]


def test_dq_failures_panel_lists_failed_checks_newest_first(loaded, settings):
    result = run(loaded, settings, "dq_failures")
    assert result.columns == ["time", "run_id", "check_name", "severity", "failing_rows"]
    assert [r[1:] for r in result.rows] == [
        ("r2", "freshness", "warning", 1),
        ("r1", "duplicate_keys", "error", 2),
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
    assert "'$ticker'" in sql and "$__timeFilter(bar_time)" in sql and "{{" not in sql


def test_every_registered_panel_has_its_sql_file():
    for p in panels.PANELS:
        assert panels.template(p.name).strip(), p.name


def test_panels_are_declared_by_their_sql_file_headers_in_dashboard_order():
    files = {e.name[:-4] for e in sql_path("panels").iterdir() if e.name.endswith(".sql")}
    assert {p.name for p in panels.PANELS} == files
    assert [p.name for p in panels.DRAWN] == [
        "stats", "price", "volume", "volatility", "dq_latest", "dq_failures"]
    price = panels.panel("price")
    assert (price.title, price.kind, price.unit, price.per_ticker, price.grid) == (
        "Price: hourly OHLC with VWAP", "candlestick", "currencyUSD", True, (0, 4, 24, 11))
    assert not panels.panel("dq_latest").per_ticker
    # A description wrapped over several header lines reads as one sentence.
    assert "(overnight, weekend) counts as one return" in panels.panel("volatility").description


def test_the_header_stays_out_of_the_sql_grafana_and_the_engines_run():
    for p in panels.PANELS:
        text = panels.template(p.name)
        assert "-- title:" not in text and "-- grid:" not in text, p.name
        assert text.lstrip().startswith(("--", "SELECT", "WITH")), p.name

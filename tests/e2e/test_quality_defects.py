"""Each defect injected into the lake fails exactly its check; nothing is published and the
previous production copy and view stay as they were."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from runtime import steps
from runtime.checks import all_checks
from runtime.errors import QualityCheckFailed
from runtime.records import iso_utc_ms

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(hours=2)  # a later delivery: its version of a bar wins dedup
QUALITY_AT = T0 + timedelta(hours=3)
AAPL_BARS = 96
VIEW = "stock_aggregate_prod_latest"
BLOCKING = {c.name for c in all_checks() if c.severity == "error"}


@pytest.fixture
def published(lake):
    """A home with one clean publish of AAPL demo bars; returns (prod table, view rows)."""
    lake.ingest(now=T0)
    wf = lake.workflow(now=T0 + timedelta(hours=1))
    assert wf.blocked is None
    assert {c.name for c in wf.quality.checks if not c.passed} == set()
    rows = lake.rows(f"SELECT * FROM {VIEW} ORDER BY bar_time_ms")
    assert len(rows) == AAPL_BARS
    return wf.published_table, rows


TARGET_MS = 1_795_014_000_000  # the bar of 2026-11-18 15:00 UTC = 10:00 EST


def _restate(lake, change):
    """Deliver a later version of the TARGET_MS bar with `change(original)` applied."""
    original = next(r for r in lake.raw_records() if r["t"] == TARGET_MS)
    record = dict(original, ingested_at=iso_utc_ms(T1), request_id="restated")
    record.update(change(original))
    lake.inject_raw([record], arrival=T1)
    return original, record


def _assert_refused_and_untouched(lake, run_cli, before, expected_failures, *extra):
    """Rerun the workflow through the CLI: exit 3, exactly `expected_failures` blocking checks
    failed, and the production view and archives are unchanged."""
    table, rows = before
    lake.close()  # the CLI opens the same catalog
    result = run_cli("workflow", "--home", str(lake.settings.home), *extra)
    assert result.code == 3, result.err
    assert "nothing published" in result.err
    latest = steps.latest_quality(lake.settings, lake.engine)
    failed = {c.name for c in latest.checks if c.severity == "error" and not c.passed}
    assert failed == expected_failures
    assert {c.name for c in latest.checks} == {c.name for c in all_checks()}
    assert lake.prod_tables() == [table]
    assert lake.rows(f"SELECT * FROM {VIEW} ORDER BY bar_time_ms") == rows
    return latest


def test_zero_volume_fails_only_zero_values(lake, run_cli, published):
    _restate(lake, lambda r: {"v": 0})
    latest = _assert_refused_and_untouched(lake, run_cli, published, {"zero_values"})
    assert {c.name: c.failing_rows for c in latest.checks}["zero_values"] == 1


def test_null_close_fails_only_null_values(lake, run_cli, published):
    _restate(lake, lambda r: {"c": None})
    _assert_refused_and_untouched(lake, run_cli, published, {"null_values"})


def test_high_below_low_fails_only_ohlc_consistency(lake, run_cli, published):
    _restate(lake, lambda r: {"h": r["l"] - 1.0})
    latest = _assert_refused_and_untouched(lake, run_cli, published, {"ohlc_consistency"})
    assert {c.name: c.failing_rows for c in latest.checks}["ohlc_consistency"] == 1


def test_negative_trade_count_fails_only_negative_values(lake, run_cli, published):
    _restate(lake, lambda r: {"n": -5})
    _assert_refused_and_untouched(lake, run_cli, published, {"negative_values"})


def test_finite_volume_that_rounds_to_infinity_fails_only_non_finite_values(
    lake, run_cli, published
):
    _restate(lake, lambda r: {"v": 1e308})
    latest = _assert_refused_and_untouched(lake, run_cli, published, {"non_finite_values"})
    assert {c.name: c.failing_rows for c in latest.checks}["non_finite_values"] == 1


@pytest.mark.parametrize("t", [-3_600_000, 16_725_225_600_000])  # 1969-12-31 23:00, 2500-01-01
def test_bar_from_1969_or_2500_in_raw_data_fails_only_bar_time_range(lake, run_cli, published, t):
    _restate(lake, lambda r: {"t": t})
    latest = _assert_refused_and_untouched(lake, run_cli, published, {"bar_time_range"})
    assert {c.name: c.failing_rows for c in latest.checks}["bar_time_range"] == 1


@pytest.mark.parametrize("ticker", ["aapl", "", "A;B"])
def test_malformed_ticker_in_raw_data_fails_only_ticker_format(lake, run_cli, published, ticker):
    _restate(lake, lambda r: {"ticker": ticker})
    latest = _assert_refused_and_untouched(lake, run_cli, published, {"ticker_format"})
    assert {c.name: c.failing_rows for c in latest.checks}["ticker_format"] == 1


def test_restated_bar_is_resolved_by_dedup_and_published(lake, run_cli, published):
    # A late trade moves the close to the middle of the bar's range: still a valid bar.
    original, record = _restate(lake, lambda r: {"c": round((r["h"] + r["l"]) / 2, 4)})
    assert record["c"] != original["c"]
    lake.close()
    result = run_cli("workflow", "--home", str(lake.settings.home), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert [c["name"] for c in data["checks"] if c["severity"] == "error" and not c["passed"]] == []
    assert data["published_table"] != published[0]
    assert lake.scalar(f"SELECT count(*) FROM {VIEW}") == AAPL_BARS
    assert lake.rows(f"SELECT close FROM {VIEW} WHERE bar_time_ms = {TARGET_MS}") == [
        (record["c"],)
    ]
    assert lake.scalar(f"SELECT count(*) FROM {lake.settings.raw_table}") == AAPL_BARS + 1


def test_firehose_retry_duplicate_in_raw_is_not_a_failure(lake, run_cli, published):
    original = next(r for r in lake.raw_records() if r["t"] == TARGET_MS)
    lake.inject_raw([original], arrival=T1)  # the same record delivered twice
    lake.close()
    result = run_cli("workflow", "--home", str(lake.settings.home), "--json")
    assert result.code == 0, result.err
    assert result.json()["published_table"] is not None
    assert lake.scalar(f"SELECT count(*) FROM {VIEW}") == AAPL_BARS


def _run_steps_until_dedup(lake):
    s, e, st = lake.settings, lake.engine, lake.storage
    for step in (steps.crawl, steps.transform, steps.dedup):
        step(s, e, st)


def _quality_then_publish_refused(lake, before, expected):
    table, rows = before
    result = steps.quality(lake.settings, lake.engine, lake.storage, now=QUALITY_AT)
    failed = {c.name for c in result.checks if c.severity == "error" and not c.passed}
    assert failed == expected
    assert not result.passed
    with pytest.raises(QualityCheckFailed, match="nothing published") as info:
        steps.publish(lake.settings, lake.engine, lake.storage, now=QUALITY_AT)
    assert info.value.exit_code == 3
    assert lake.prod_tables() == [table]
    assert lake.rows(f"SELECT * FROM {VIEW} ORDER BY bar_time_ms") == rows
    return result


def test_raw_row_lost_before_parquet_fails_only_the_row_count(lake, published):
    s, e, st = lake.settings, lake.engine, lake.storage
    steps.crawl(s, e, st)
    steps.transform(s, e, st, full_refresh=True)
    files = [u for u in st.list(s.table_location(s.parquet_table)) if u.endswith(".parquet")]
    assert files
    lost = e.execute(f"SELECT count(*) FROM {s.parquet_table}").scalar()
    st.delete_prefix(files[0])
    lost -= e.execute(f"SELECT count(*) FROM {s.parquet_table}").scalar()
    assert lost >= 1
    steps.dedup(s, e, st)
    result = _quality_then_publish_refused(lake, published, {"raw_parquet_row_count"})
    by_name = {c.name: c.failing_rows for c in result.checks}
    assert by_name["raw_parquet_row_count"] == lost


def test_duplicate_key_left_by_a_broken_dedup_fails_duplicate_keys(lake, published):
    # Dedup cannot leave a duplicate key, so simulate a broken dedup: one restated copy of a bar
    # appended to the deduplicated table.
    s = lake.settings
    _run_steps_until_dedup(lake)
    lake.engine.execute(
        f"INSERT INTO {s.sans_dup_table} SELECT ticker, bar_time, bar_time_ms, open, high, low, "
        f"close + 0.01, volume, vwap, transactions, ingested_at, adjusted_as_of, "
        f"day_hour_partition, day_partition "
        f"FROM {s.sans_dup_table} WHERE bar_time_ms = {TARGET_MS}"
    )
    result = _quality_then_publish_refused(lake, published, {"duplicate_keys"})
    assert {c.name: c.failing_rows for c in result.checks}["duplicate_keys"] == 1


def test_duplicate_full_row_fails_both_duplicate_checks(lake, published):
    s = lake.settings
    _run_steps_until_dedup(lake)
    lake.engine.execute(
        f"INSERT INTO {s.sans_dup_table} SELECT * FROM {s.sans_dup_table} "
        f"WHERE bar_time_ms = {TARGET_MS}"
    )
    _quality_then_publish_refused(lake, published, {"duplicate_keys", "duplicate_rows"})


def test_a_run_with_no_bars_fails_only_empty_table_and_keeps_production(lake, run_cli, published):
    # Every raw object gone (as after an API outage on a fresh lake): a full refresh rebuilds
    # the tables empty, which no other blocking check notices, and an empty copy must not
    # replace production.
    lake.storage.delete_prefix(lake.settings.raw_uri)
    table, rows = published
    # The CLI says what to run first instead of running six steps to a failed check ...
    lake.close()
    result = run_cli("workflow", "--home", str(lake.settings.home))
    assert result.code == 1
    assert "nothing to run the workflow on yet: no raw data" in result.err
    # ... and a full refresh (as the Glue jobs run it) refuses on empty_table alone.
    from runtime.runner import run_workflow

    wf = run_workflow(lake.settings, lake.engine, lake.storage, full_refresh=True,
                      now=T0 + timedelta(hours=4))
    assert wf.exit_code == 3 and wf.published_table is None
    failed = {c.name for c in wf.quality.checks if c.severity == "error" and not c.passed}
    assert failed == {"empty_table"}
    assert lake.prod_tables() == [table]
    assert lake.rows(f"SELECT * FROM {VIEW} ORDER BY bar_time_ms") == rows


def test_a_split_the_pipeline_does_not_know_fails_only_unexplained_split_jump(
    lake, run_cli, published
):
    # A later delivery of every bar from 2026-11-18 on at half the price and twice the volume,
    # as the API gives bars after a 2-for-1 split, with no split event landed.
    split_day_ms = TARGET_MS - 6 * 3_600_000  # 2026-11-18 04:00 EST, the first bar of the day
    later = []
    for r in lake.raw_records():
        if r["t"] >= split_day_ms:
            halved = {k: r[k] / 2 for k in ("o", "h", "l", "c", "vw")}
            later.append(dict(r, **halved, v=r["v"] * 2, ingested_at=iso_utc_ms(T1),
                              request_id="split-unknown"))
    lake.inject_raw(later, arrival=T1)
    latest = _assert_refused_and_untouched(lake, run_cli, published, {"unexplained_split_jump"})
    assert {c.name: c.failing_rows for c in latest.checks}["unexplained_split_jump"] == 1


def test_every_blocking_check_is_covered_here():
    covered = {"zero_values", "null_values", "ohlc_consistency", "negative_values",
               "raw_parquet_row_count", "duplicate_keys", "duplicate_rows", "empty_table",
               "non_finite_values", "bar_time_range", "ticker_format",
               "unexplained_split_jump"}
    assert covered == BLOCKING

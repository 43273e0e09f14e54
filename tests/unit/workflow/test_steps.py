"""Each workflow step on a handful of hand-written raw records, with hand-computed results."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from runtime import steps
from runtime.errors import QualityCheckFailed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
T_0900 = 1_794_560_400_000  # 2026-11-13 09:00 UTC = 04:00 EST
COLUMNS = ["ticker", "bar_time", "bar_time_ms", "open", "high", "low", "close", "volume",
           "vwap", "transactions", "ingested_at", "adjusted_as_of", "day_hour_partition",
           "day_partition"]


def _build(lake, *names):
    s, e, st = lake.settings, lake.engine, lake.storage
    out = {}
    for name in ("crawl",) + names:
        out[name] = getattr(steps, name)(s, e, st)
    return out


def _record_statements(engine):
    """The list that every statement `engine` executes from now on is appended to."""
    sent = []
    real_execute = engine.execute

    def recording(sql):
        sent.append(sql)
        return real_execute(sql)

    engine.execute = recording
    return sent


def test_transform_types_values_and_new_york_partition(mini, helpers):
    mini.raw([
        # ints where doubles are expected (the crawler may type either way)
        helpers.bar(T_0900, ticker="BRK.B", o=10, h=11, l=9, c=10, v=1000, vw=10.456, n=7),
        # 2026-11-14 00:00 UTC is still the 13th, 19:00, in New York
        helpers.bar(helpers.ms(2026, 11, 14, 0), c=10.75, v=2.5e6, vw=10.004, n=3),
        # summer time: 13:00 UTC = 09:00 EDT
        helpers.bar(helpers.ms(2026, 7, 1, 13), ingested_at="2026-07-01T13:05:01.250Z",
                    o=74.0625, h=75.145, l=73.7975, c=75.0875, v=135647.456),
    ])
    result = _build(mini, "transform")["transform"]
    # Partitioned by the New York day (the default): 2026-07-01 and 2026-11-13.
    assert (result.rows, result.partitions) == (3, 2)
    got = mini.engine.execute(
        f"SELECT * FROM {mini.settings.parquet_table} ORDER BY bar_time_ms"
    )
    assert got.columns == COLUMNS
    summer, brk, late = got.rows
    assert brk == ("BRK.B", datetime(2026, 11, 13, 9, 0), T_0900, 10.0, 11.0, 9.0, 10.0, 1000.0,
                   10.46, 7, datetime(2026, 11, 21, 12, 0), date(2026, 11, 20),
                   "2026-11-13-04", "2026-11-13")
    assert (late[1], late[6], late[7], late[8], late[12], late[13]) == (
        datetime(2026, 11, 14, 0, 0), 10.75, 2.5e6, 10.0, "2026-11-13-19", "2026-11-13"
    )
    assert (summer[1], summer[10], summer[12], summer[13]) == (
        datetime(2026, 7, 1, 13, 0), datetime(2026, 7, 1, 13, 5, 1, 250000), "2026-07-01-09",
        "2026-07-01",
    )
    # prices and volume rounded to 2 places, half away from zero (74.0625 -> 74.06 because the
    # double is 74.0625 exactly and Trino rounds half up: 74.06|25 -> 74.06)
    assert summer[3:8] == (74.06, 75.15, 73.8, 75.09, 135647.46)
    assert [type(v) for v in brk] == [str, datetime, int, float, float, float, float, float,
                                      float, int, datetime, date, str, str]


def test_day_granularity_partitions_by_new_york_date(make_mini, helpers):
    lake = make_mini(tickers=("AAPL",), partition_granularity="day")
    lake.raw([helpers.bar(T_0900), helpers.bar(helpers.ms(2026, 11, 14, 0)),
              helpers.bar(helpers.ms(2026, 11, 14, 5))])
    result = _build(lake, "transform")["transform"]
    assert result.partitions == 2
    parts = lake.rows(
        f"SELECT day_partition, count(*), min(day_hour_partition), max(day_hour_partition) "
        f"FROM {lake.settings.parquet_table} GROUP BY 1 ORDER BY 1"
    )
    assert parts == [("2026-11-13", 2, "2026-11-13-04", "2026-11-13-19"),
                     ("2026-11-14", 1, "2026-11-14-00", "2026-11-14-00")]


def test_hour_granularity_partitions_by_new_york_hour(make_mini, helpers):
    lake = make_mini(tickers=("AAPL",), partition_granularity="hour")
    lake.raw([helpers.bar(T_0900), helpers.bar(helpers.ms(2026, 11, 14, 0))])
    result = _build(lake, "transform")["transform"]
    assert result.partitions == 2
    got = lake.engine.execute(f"SELECT * FROM {lake.settings.parquet_table} LIMIT 1")
    assert got.columns == COLUMNS[:-1]  # no day column: the hour column is the partition
    assert lake.rows(f"SHOW PARTITIONS {lake.settings.parquet_table}") == [
        ("day_hour_partition=2026-11-13-04",), ("day_hour_partition=2026-11-13-19",)]


def test_dedup_keeps_latest_ingested_version(mini, helpers):
    mini.raw([
        helpers.bar(T_0900, c=10.1, ingested_at="2026-11-21T10:00:00.000Z"),
        helpers.bar(T_0900, c=10.3, ingested_at="2026-11-21T12:00:00.000Z"),
        helpers.bar(T_0900, c=10.2, ingested_at="2026-11-21T11:00:00.000Z"),
        helpers.bar(T_0900, ticker="MSFT", c=10.9),
        # same time, other ticker, and a Firehose retry (identical record twice)
        helpers.bar(T_0900 + 3_600_000),
        helpers.bar(T_0900 + 3_600_000),
    ])
    out = _build(mini, "transform", "dedup")
    assert (out["transform"].rows, out["dedup"].rows) == (6, 3)
    rows = mini.rows(
        f"SELECT ticker, bar_time_ms, close, ingested_at FROM {mini.settings.sans_dup_table} "
        "ORDER BY ticker, bar_time_ms"
    )
    assert rows == [
        ("AAPL", T_0900, 10.3, datetime(2026, 11, 21, 12, 0)),
        ("AAPL", T_0900 + 3_600_000, 10.5, datetime(2026, 11, 21, 12, 0)),
        ("MSFT", T_0900, 10.9, datetime(2026, 11, 21, 12, 0)),
    ]


def test_dedup_breaks_an_ingested_at_tie_the_same_way_every_time(mini, helpers):
    mini.raw([helpers.bar(T_0900, c=10.2), helpers.bar(T_0900, c=10.4),
              helpers.bar(T_0900, c=10.3)])
    for _ in range(2):
        _build(mini, "transform", "dedup")
        assert mini.rows(f"SELECT close FROM {mini.settings.sans_dup_table}") == [(10.4,)]


def test_full_refresh_rebuilds_from_all_raw_and_keeps_no_old_file(mini, helpers):
    s = mini.settings
    mini.raw([helpers.bar(T_0900)])
    _build(mini, "transform", "dedup")
    old = set(mini.storage.list(s.table_location(s.parquet_table)))
    mini.raw([helpers.bar(T_0900 + 3_600_000)])
    out = {
        name: getattr(steps, name)(s, mini.engine, mini.storage, full_refresh=True)
        for name in ("transform", "dedup")
    }
    assert [(r.mode, r.full_refresh_reason, r.rows) for r in out.values()] == [
        ("full", "a full refresh was requested", 2)] * 2
    assert out["transform"].raw_objects_read == 2
    files = set(mini.storage.list(s.table_location(s.parquet_table)))
    assert files and not files & old
    assert mini.rows(f"SELECT count(*) FROM {s.sans_dup_table}") == [(2,)]


def test_calendar_warnings_count_missing_hours_and_stale_tickers(make_mini, helpers):
    lake = make_mini(tickers=("AAPL", "MSFT"))
    # Window 2026-11-20 only: 7 regular-session hour bars expected per ticker (09-15 EST =
    # 14-20 UTC). AAPL has 14-17 UTC (3 missing), MSFT nothing (7 missing, and stale).
    lake.raw([helpers.bar(helpers.ms(2026, 11, 20, h), window_from="2026-11-20",
                          window_to="2026-11-20") for h in (14, 15, 16, 17)])
    _build(lake, "transform", "dedup")
    result = steps.quality(lake.settings, lake.engine, lake.storage, now=NOW)
    by_name = {c.name: c for c in result.checks}
    assert by_name["missing_session_hours"].failing_rows == 10
    assert by_name["freshness"].failing_rows == 1
    assert (by_name["freshness"].severity, by_name["freshness"].passed) == ("warning", False)
    assert result.passed  # warnings never block
    assert result.failed_errors == []


def test_quality_history_is_created_then_appended(mini, helpers):
    s = mini.settings
    mini.raw([helpers.bar(T_0900)])
    _build(mini, "transform", "dedup")
    first = steps.quality(s, mini.engine, mini.storage, now=NOW)
    second = steps.quality(s, mini.engine, mini.storage, now=NOW.replace(minute=5))
    assert first.run_id < second.run_id
    history = mini.rows(
        f"SELECT run_id, count(*), min(run_at) FROM {s.dq_table} GROUP BY run_id ORDER BY run_id"
    )
    assert history == [(first.run_id, 15, datetime(2026, 11, 21, 12, 0)),
                       (second.run_id, 15, datetime(2026, 11, 21, 12, 5))]
    latest = steps.latest_quality(s, mini.engine)
    assert latest.run_id == second.run_id
    assert [c.to_dict() for c in latest.checks] == [c.to_dict() for c in second.checks]


def test_publish_refuses_without_a_quality_run(mini, helpers):
    mini.raw([helpers.bar(T_0900)])
    _build(mini, "transform", "dedup")
    with pytest.raises(QualityCheckFailed, match="no quality run recorded"):
        steps.publish(mini.settings, mini.engine, mini.storage, now=NOW)
    assert mini.settings.prod_latest_view not in mini.engine.list_tables()


def test_publish_in_the_same_second_takes_the_next_free_name(mini, helpers):
    s = mini.settings
    mini.raw([helpers.bar(T_0900)])
    _build(mini, "transform", "dedup", "quality")
    first = steps.publish(s, mini.engine, mini.storage, now=NOW)
    second = steps.publish(s, mini.engine, mini.storage, now=NOW)
    assert (first.table, second.table) == (
        "stock_aggregate_prod_20261121_120000", "stock_aggregate_prod_20261121_120001"
    )
    assert second.location.endswith("/lake/archive/stock_aggregate_prod_20261121_120001/")
    assert mini.rows(f"SELECT count(*) FROM {first.table}") == [(1,)]
    assert mini.rows(f"SELECT count(*) FROM {s.prod_latest_view}") == [(1,)]
    assert second.quality_run_id == first.quality_run_id


def test_publish_refuses_after_a_failed_blocking_check(mini, helpers):
    s = mini.settings
    mini.raw([helpers.bar(T_0900)])
    _build(mini, "transform", "dedup", "quality")
    good = steps.publish(s, mini.engine, mini.storage, now=NOW)
    mini.raw([helpers.bar(T_0900 + 3_600_000, h=8)])  # high below low
    _build(mini, "transform", "dedup")
    result = steps.quality(s, mini.engine, mini.storage, now=NOW.replace(hour=13))
    assert [c.name for c in result.failed_errors] == ["ohlc_consistency"]
    with pytest.raises(QualityCheckFailed, match=r"ohlc_consistency \(1 rows\)"):
        steps.publish(s, mini.engine, mini.storage, now=NOW.replace(hour=13))
    tables = steps.archives(s, mini.engine)
    assert tables == [good.table]
    assert mini.rows(f"SELECT count(*) FROM {s.prod_latest_view}") == [(1,)]


def test_quality_runs_calendar_checks_last_and_reports_in_check_order(mini, helpers):
    # The exchange calendar loads in a worker thread while the other checks run: the two checks
    # that need it are sent last, yet results keep the order of the check files.
    from runtime.checks import all_checks

    s = mini.settings
    mini.raw([helpers.bar(T_0900)])
    _build(mini, "transform", "dedup")
    sent = _record_statements(mini.engine)
    result = steps.quality(s, mini.engine, mini.storage, now=NOW)

    assert [c.name for c in result.checks] == [c.name for c in all_checks()]
    checks = [q for q in sent if q.startswith("-- severity:")]
    # The 7 checks that count rows meeting a condition run in one scan; 8 run on their own.
    folded = [q for q in sent if q.startswith("-- quality: the row-wise checks in one scan")]
    assert len(checks) == 8 and len(folded) == 1
    assert folded[0].count("count(CASE WHEN") == 7
    # 2026-11-20 is the last completed session before NOW; its 00:00 New York is 05:00 UTC.
    assert "TIMESTAMP '2026-11-20 05:00:00.000'" in checks[-2] + checks[-1]
    assert all("${" not in q for q in checks)
    assert not any("TIMESTAMP '2026-11-20 05:00:00.000'" in q for q in checks[:-2])
    # Both calendar checks got their values: AAPL's only bar (2026-11-13 04:00 New York) is
    # older than the 2026-11-20 session, and none of the 7 regular hours (09:00-15:00) of the 6
    # sessions in the raw window 2026-11-13..20 (Fri, Mon-Fri) has a bar.
    by_name = {c.name: c.failing_rows for c in result.checks}
    assert (by_name["freshness"], by_name["missing_session_hours"]) == (1, 6 * 7)


def test_quality_raises_the_calendar_error_and_records_nothing(mini, helpers, monkeypatch):
    from runtime.errors import ConfigError

    s = mini.settings
    mini.raw([helpers.bar(T_0900)])
    _build(mini, "transform", "dedup")

    def no_calendar(*args):
        raise ConfigError("no completed XNYS session in the 20 days before 2026-11-21")

    import importlib

    monkeypatch.setattr(importlib.import_module("runtime.steps.quality_run"), "_calendar_values",
                        no_calendar)
    with pytest.raises(ConfigError, match="no completed XNYS session"):
        steps.quality(s, mini.engine, mini.storage, now=NOW)
    assert not mini.engine.table_exists(s.dq_table)


def test_quality_sends_only_millisecond_timestamp_literals(mini, helpers):
    # A whole-second run time must still be written as timestamp(3): Athena's CTAS of the
    # history table refuses a timestamp(0) column ("Incorrect timestamp precision").
    import re

    s = mini.settings
    mini.raw([helpers.bar(T_0900)])
    _build(mini, "transform", "dedup")
    sent = _record_statements(mini.engine)
    steps.quality(s, mini.engine, mini.storage, now=NOW)
    create = [q for q in sent if f"CREATE TABLE {s.dq_table}" in q]
    assert len(create) == 1
    assert "TIMESTAMP '2026-11-21 12:00:00.000'" in create[0]
    literals = [lit for q in sent for lit in re.findall(r"TIMESTAMP '([^']*)'", q)]
    assert literals and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", lit)
                            for lit in literals), literals


def test_latest_ingest_window_comes_from_the_newest_raw_object(mini):
    s, st = mini.settings, mini.storage
    assert steps.latest_ingest_window(s, st) is None  # nothing ingested yet
    older = f"{s.raw_uri}2026/11/20/16/test-1-2026-11-20-16-00-00-aaaa"
    newer = f"{s.raw_uri}2026/11/21/16/test-1-2026-11-21-16-00-00-bbbb"
    hidden = f"{s.raw_uri}2026/11/22/16/.test-1-2026-11-22-16-00-00-cccc"
    st.write(older, b'{"t":1,"window_from":"2026-11-12","window_to":"2026-11-19"}\n')
    st.write(newer, b'{"t":2,"window_from":"2026-11-13","window_to":"2026-11-20"}\n'
                    b'{"t":3,"window_from":"2026-11-13","window_to":"2026-11-20"}\n')
    st.write(hidden, b'{"t":4,"window_from":"2026-01-01","window_to":"2026-01-08"}\n')
    assert steps.latest_ingest_window(s, st) == ("2026-11-13", "2026-11-20")


def test_dedup_prefers_a_dated_version_and_keeps_one_of_the_undated(mini, helpers):
    # A version without ingested_at loses to any dated one (NULLS LAST, as Athena orders); a key
    # whose versions all lack it keeps exactly one, chosen by the tie-break columns.
    mini.raw([
        helpers.bar(T_0900, c=10.9, ingested_at=None),
        helpers.bar(T_0900, c=10.1, ingested_at="2026-11-21T10:00:00.000Z"),
        helpers.bar(T_0900 + 3_600_000, c=10.2, ingested_at=None),
        helpers.bar(T_0900 + 3_600_000, c=10.4, ingested_at=None),
    ])
    out = _build(mini, "transform", "dedup")
    assert (out["transform"].rows, out["dedup"].rows) == (4, 2)
    assert mini.rows(
        f"SELECT bar_time_ms, close, ingested_at FROM {mini.settings.sans_dup_table} "
        "ORDER BY bar_time_ms"
    ) == [(T_0900, 10.1, datetime(2026, 11, 21, 10, 0)), (T_0900 + 3_600_000, 10.4, None)]


def test_transform_records_each_raw_object_and_its_rows(mini, helpers):
    s = mini.settings
    mini.raw([helpers.bar(T_0900), helpers.bar(T_0900), helpers.bar(T_0900 + 3_600_000)])
    out = _build(mini, "transform", "dedup")
    assert (out["transform"].source_rows, out["dedup"].rows) == (3, 2)
    key = "2026/11/21/12/test-1-2026-11-21-12-00-00-00000001"
    assert mini.rows(
        f"SELECT event, object_key, source_rows, written_rows, mode FROM {s.lineage_table} "
        "WHERE table_name = 'stock_aggregate_parquet' AND event <> 'start' ORDER BY event"
    ) == [("commit", None, 3, 3, "full"), ("object", key, 3, None, None)]
    # The next run reads only the new object and records it under its own commit.
    mini.raw([helpers.bar(T_0900 + 7_200_000)])
    result = _build(mini, "transform")["transform"]
    assert (result.mode, result.raw_objects_read, result.source_rows) == ("incremental", 1, 1)
    assert steps.row_counts(s, mini.engine) == {
        "run_raw_rows": 1, "run_typed_rows": 1, "total_raw_rows": 4}


def test_row_count_check_compares_with_the_raw_rows_the_transform_read(mini, helpers):
    s = mini.settings
    mini.raw([helpers.bar(T_0900), helpers.bar(T_0900 + 3_600_000)])
    _build(mini, "transform", "dedup")
    # An object that lands after the transform is the next run's work, not a lost row.
    mini.raw([helpers.bar(T_0900 + 7_200_000)])

    def row_count_check():
        result = steps.quality(s, mini.engine, mini.storage, now=NOW)
        return next(c for c in result.checks if c.name == "raw_parquet_row_count")

    assert row_count_check().failing_rows == 0
    # A typed row lost outside the pipeline (its partition's files deleted) shows in the totals.
    mini.storage.delete_prefix(f"{s.table_location(s.parquet_table)}day_partition=2026-11-13/")
    check = row_count_check()
    assert (check.failing_rows, check.passed) == (2, False)
    # Without a lineage record (a table built by an older version), raw is counted instead:
    # the late object's row is then missing from the typed table as well.
    mini.engine.execute(f"DROP TABLE {s.lineage_table}")
    mini.storage.delete_prefix(s.table_location(s.lineage_table))  # never written, its files too
    assert steps.row_counts(s, mini.engine) is None
    check = row_count_check()
    assert (check.failing_rows, check.passed) == (3, False)


def test_prune_keeps_the_newest_and_never_the_view_s_copy(mini):
    s, e, st = mini.settings, mini.engine, mini.storage
    stamps = ["20261101_120000", "20261102_120000", "20261103_120000", "20261104_120000"]
    for stamp in stamps:
        table = s.prod_table(stamp)
        e.execute(f"CREATE TABLE {table} WITH (external_location = '{s.table_location(table)}', "
                  "format = 'PARQUET') AS SELECT 1 AS n")
    # The view reads the oldest copy (as after a clock that went back): it stays.
    e.execute(f"CREATE OR REPLACE VIEW {s.prod_latest_view} AS "
              f"SELECT * FROM {s.prod_table(stamps[0])}")
    result = steps.prune(s, e, st, keep=2, current=s.prod_table(stamps[0]))
    assert result.dropped == [s.prod_table(stamps[1])]
    assert result.kept == [s.prod_table(stamps[3]), s.prod_table(stamps[2]),
                           s.prod_table(stamps[0])]
    assert result.deleted_objects == 1
    assert not st.exists(s.table_location(s.prod_table(stamps[1])))
    assert steps.archives(s, e) == [s.prod_table(x) for x in (stamps[3], stamps[2], stamps[0])]


def test_row_wise_checks_in_one_scan_answer_as_each_check_alone(mini, helpers):
    from runtime.checks import all_checks
    from runtime.sql_files import render
    from runtime.steps import quality_run

    s = mini.settings
    mini.raw([
        helpers.bar(T_0900),
        helpers.bar(T_0900 + 3_600_000, h=8),  # high below low
        helpers.bar(T_0900 + 7_200_000, o=0, v=-1),  # a zero and a negative
        helpers.bar(T_0900 + 10_800_000, vw=None),  # a NULL
        helpers.bar(T_0900 + 14_400_000, ticker="aapl"),  # ticker format
        helpers.bar(4_102_444_800_000),  # 2100: in the future
    ])
    _build(mini, "transform", "dedup")
    sent = _record_statements(mini.engine)
    result = steps.quality(s, mini.engine, mini.storage, now=NOW)
    values = quality_run._check_values(s, mini.engine, NOW)
    alone = {}
    for check in all_checks():
        if not quality_run._uses_calendar(check):
            alone[check.name] = int(mini.engine.execute(
                render(check.sql_file, **values)).scalar() or 0)
    got = {c.name: c.failing_rows for c in result.checks if c.name in alone}
    assert got == alone
    assert {k: v for k, v in got.items() if v} == {
        "ohlc_consistency": 2, "zero_values": 1, "negative_values": 1, "null_values": 1,
        "ticker_format": 1, "bar_time_range": 1}
    assert sum(q.startswith("-- quality: the row-wise") for q in sent) == 1


def test_row_wise_checks_run_one_by_one_when_the_single_scan_fails(mini, helpers, monkeypatch):
    s = mini.settings
    mini.raw([helpers.bar(T_0900), helpers.bar(T_0900 + 3_600_000, h=8)])
    _build(mini, "transform", "dedup")
    sent = _record_statements(mini.engine)
    real = mini.engine.execute

    def refuse_the_single_scan(sql):
        if sql.startswith("-- quality: the row-wise"):
            from runtime.errors import EngineError
            raise EngineError("EXCEEDED_LOCAL_MEMORY_LIMIT")
        return real(sql)

    mini.engine.execute = refuse_the_single_scan
    result = steps.quality(s, mini.engine, mini.storage, now=NOW)
    assert [c.name for c in result.failed_errors] == ["ohlc_consistency"]
    assert len([q for q in sent if q.startswith("-- severity:")]) == 15

"""Raw JSON tables over a Firehose-layout prefix, as the `crawl` step declares them."""

from __future__ import annotations

import json

import pytest

from runtime.errors import EngineError, UnsupportedSQLError

from .conftest import write_firehose_object

RAW_DDL = (
    "CREATE EXTERNAL TABLE IF NOT EXISTS raw (ticker string, t bigint, o double, v double, "
    "n bigint, otc boolean, ingested_at string) "
    "PARTITIONED BY (partition_0 string, partition_1 string, partition_2 string, "
    "partition_3 string) "
    "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION '{location}'"
)

BAR_1 = {
    "ticker": "AAPL",
    "t": 1577941200000,
    "o": 74.06,
    "v": 135647456,
    "n": 1,
    "ingested_at": "2026-11-20T16:00:00Z",
}
BAR_2 = {"ticker": "AAPL", "t": 1578027600000, "o": 74.2875, "v": 146535512, "otc": True}


@pytest.fixture
def raw(lake):
    root = lake / "raw"
    root.mkdir()
    return root


def test_json_table_reads_firehose_objects_with_partitions_from_folders(engine, raw):
    write_firehose_object(raw, "2026/11/20/16", "stream-1-2026-11-20-16-00-00-a1b2", [BAR_1, BAR_2])
    write_firehose_object(raw, "2026/11/21/09", "stream-1-2026-11-21-09-30-00-c3d4", [BAR_1])

    engine.execute(RAW_DDL.format(location=f"{raw}/"))
    rows = engine.execute(
        "SELECT ticker, t, o, v, n, otc, ingested_at, partition_0, partition_1, partition_2, "
        "partition_3 FROM raw ORDER BY partition_2, t"
    ).rows

    assert rows == [
        (
            "AAPL",
            1577941200000,
            74.06,
            135647456.0,
            1,
            None,
            "2026-11-20T16:00:00Z",
            "2026",
            "11",
            "20",
            "16",
        ),
        ("AAPL", 1578027600000, 74.2875, 146535512.0, None, True, None, "2026", "11", "20", "16"),
        (
            "AAPL",
            1577941200000,
            74.06,
            135647456.0,
            1,
            None,
            "2026-11-20T16:00:00Z",
            "2026",
            "11",
            "21",
            "09",
        ),
    ]
    types = dict(engine.execute("DESCRIBE raw").rows[i][:2] for i in range(11))
    assert types["t"] == "bigint" and types["o"] == "double" and types["otc"] == "boolean"
    assert types["partition_0"] == "string" and types["ticker"] == "string"


def test_json_table_over_empty_prefix_has_zero_rows(engine, raw):
    engine.execute(RAW_DDL.format(location=f"{raw}/missing/"))

    assert engine.execute("SELECT count(*) FROM raw").scalar() == 0
    assert engine.execute("SELECT ticker, partition_3 FROM raw").rows == []


def test_json_table_sees_objects_written_after_registration(engine, raw):
    engine.execute(RAW_DDL.format(location=f"{raw}/"))
    assert engine.execute("SELECT count(*) FROM raw").scalar() == 0

    write_firehose_object(raw, "2026/11/20/16", "stream-1-2026-11-20-16-00-00-late", [BAR_1, BAR_2])

    assert engine.execute("SELECT count(*) FROM raw").scalar() == 2


def test_json_table_skips_hidden_and_marker_objects(engine, raw):
    write_firehose_object(raw, "2026/11/20/16", "stream-1-2026-11-20-16-00-00-a1b2", [BAR_1])
    write_firehose_object(raw, "2026/11/20/16", ".tmp-stream-1-partial", [BAR_2])
    write_firehose_object(raw, "2026/11/20/16", "_SUCCESS", [BAR_2])

    engine.execute(RAW_DDL.format(location=f"{raw}/"))

    assert engine.execute("SELECT t FROM raw").rows == [(1577941200000,)]


def test_crawl_ddl_is_idempotent_and_repair_is_a_no_op(engine, raw):
    write_firehose_object(raw, "2026/11/20/16", "obj", [BAR_1])
    engine.execute(RAW_DDL.format(location=f"{raw}/"))

    engine.execute(RAW_DDL.format(location=f"{raw}/"))  # IF NOT EXISTS: no error
    engine.execute("MSCK REPAIR TABLE raw")
    engine.execute(
        "ALTER TABLE raw ADD IF NOT EXISTS PARTITION (partition_0 = '2026', partition_1 = '11', "
        f"partition_2 = '20', partition_3 = '16') LOCATION '{raw}/2026/11/20/16/'"
    )

    assert engine.execute("SELECT count(*) FROM raw").scalar() == 1
    with pytest.raises(EngineError, match="already exists"):
        engine.execute(RAW_DDL.format(location=f"{raw}/").replace(" IF NOT EXISTS", ""))
    with pytest.raises(EngineError, match="does not exist"):
        engine.execute("MSCK REPAIR TABLE nothing")


def test_raw_to_typed_ctas_reads_json_once_into_parquet(engine, raw, lake):
    write_firehose_object(raw, "2026/11/20/16", "obj", [BAR_1, BAR_2])
    engine.execute(RAW_DDL.format(location=f"{raw}/"))

    engine.execute(
        f"CREATE TABLE typed WITH (external_location = '{lake}/typed/', format = 'PARQUET', "
        "partitioned_by = ARRAY['day_hour_partition']) AS "
        "SELECT ticker, CAST(from_unixtime(t / 1000) AS timestamp) AS bar_time, "
        "CAST(v AS bigint) AS volume, "
        "format_datetime(from_unixtime(t / 1000) AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH') "
        "AS day_hour_partition FROM raw"
    )

    assert engine.execute("SELECT day_hour_partition, volume FROM typed ORDER BY 1").rows == [
        ("2020-01-02-00", 135647456),
        ("2020-01-03-00", 146535512),
    ]


def test_json_value_of_wrong_type_fails_with_engine_error(engine, raw):
    (raw / "2026" / "11" / "20" / "16").mkdir(parents=True)
    (raw / "2026" / "11" / "20" / "16" / "obj").write_text(json.dumps({"t": "not a number"}) + "\n")
    engine.execute(RAW_DDL.format(location=f"{raw}/"))

    with pytest.raises(EngineError, match="statement: SELECT t FROM raw"):
        engine.execute("SELECT t FROM raw")


@pytest.mark.parametrize(
    "ddl, message",
    [
        (
            "CREATE EXTERNAL TABLE r (a string) ROW FORMAT SERDE "
            "'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION '{loc}'",
            "OpenCSVSerde",
        ),
        (
            "CREATE EXTERNAL TABLE r (a string) ROW FORMAT SERDE "
            "'org.openx.data.jsonserde.JsonSerDe' LOCATION '{loc}' "
            "TBLPROPERTIES ('projection.enabled' = 'true')",
            "projection.enabled",
        ),
        (
            "CREATE EXTERNAL TABLE r (a array<string>) ROW FORMAT SERDE "
            "'org.openx.data.jsonserde.JsonSerDe' LOCATION '{loc}'",
            "column 'a'",
        ),
        ("CREATE TABLE r (a string)", "CREATE EXTERNAL TABLE"),
    ],
)
def test_external_table_features_the_engine_cannot_honour_are_refused(engine, raw, ddl, message):
    with pytest.raises(UnsupportedSQLError, match=message):
        engine.execute(ddl.format(loc=f"{raw}/"))
    assert engine.list_tables() == []


def test_crawler_statistics_in_tblproperties_are_accepted(engine, raw):
    engine.execute(
        "CREATE EXTERNAL TABLE r (a string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
        f"LOCATION '{raw}/' TBLPROPERTIES ('classification' = 'json', 'recordCount' = '2')"
    )

    assert engine.list_tables() == ["r"]


def test_external_parquet_table_reads_hive_folders(engine, lake):
    engine.execute(
        f"CREATE TABLE src WITH (external_location = '{lake}/src/', "
        "partitioned_by = ARRAY['day_hour_partition']) AS "
        "SELECT 1 AS n, '2020-01-01-00' AS day_hour_partition"
    )

    engine.execute(
        "CREATE EXTERNAL TABLE again (n bigint) PARTITIONED BY (day_hour_partition string) "
        f"STORED AS PARQUET LOCATION '{lake}/src/'"
    )

    assert engine.execute("SELECT n, day_hour_partition FROM again").rows == [(1, "2020-01-01-00")]


def test_json_table_with_no_object_keeps_its_columns_when_read_from_another_folder(
    home, raw, monkeypatch
):
    # The CLI opens the home by a relative path from the repository root; a notebook's kernel
    # then reads the same catalog from notebooks/. A table whose prefix holds no object yet
    # (the splits of tickers that never split) must still have its declared columns there.
    from runtime.engines.local import LocalEngine

    monkeypatch.chdir(home)
    writer = LocalEngine("catalog.duckdb")
    writer.execute(RAW_DDL.format(location=f"{raw}/"))
    writer.close()
    elsewhere = home / "notebooks"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    reader = LocalEngine("../catalog.duckdb", read_only=True)
    try:
        assert reader.execute("SELECT ticker, otc, partition_0 FROM raw").rows == []
        assert reader.execute("SELECT count(*) FROM raw").scalar() == 0
    finally:
        reader.close()

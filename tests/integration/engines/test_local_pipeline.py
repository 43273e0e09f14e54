"""The engine pieces together, as the workflow uses them: Firehose-layout raw JSON -> crawl DDL ->
typed Parquet through write_partitioned (> 100 hourly partitions) -> dedup -> a view, then a
second process reads the same catalog."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runtime.engines.local import LocalEngine
from runtime.partitioned import write_partitioned
from runtime.storage import LocalStorage

START_MS = 1593648000000  # 2020-07-02 00:00:00 UTC = 2020-07-01 20:00 EDT
HOUR_MS = 3_600_000
HOURS = 130  # more than one INSERT batch

CRAWL = (
    "CREATE EXTERNAL TABLE IF NOT EXISTS raw (ticker string, t bigint, c double, vw double, "
    "ingested_at string) PARTITIONED BY (partition_0 string, partition_1 string, "
    "partition_2 string, partition_3 string) "
    "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION '{raw}/'"
)
TRANSFORM = """
SELECT
  ticker,
  CAST(from_unixtime(t / 1000) AS timestamp) AS bar_time,
  t AS bar_time_ms,
  c AS close,
  round(vw, 2) AS vwap,
  CAST(from_iso8601_timestamp(ingested_at) AS timestamp) AS ingested_at,
  format_datetime(from_unixtime(t / 1000) AT TIME ZONE 'America/New_York', 'yyyy-MM-dd-HH')
    AS day_hour_partition
FROM raw
"""
DEDUP = """
SELECT ticker, bar_time, bar_time_ms, close, vwap, ingested_at, day_hour_partition
FROM (
  SELECT *, row_number() OVER (PARTITION BY ticker, bar_time_ms ORDER BY ingested_at DESC) AS rk
  FROM typed
) ranked
WHERE rk = 1
"""


def _object(raw: Path, key_hour: str, name: str, records) -> None:
    folder = raw.joinpath(*key_hour.split("/"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records))


def _lake(tmp_path: Path) -> Path:
    raw = tmp_path / "lake" / "raw"
    first = [
        {
            "ticker": tk,
            "t": START_MS + h * HOUR_MS,
            "c": 100.0 + h,
            "vw": 100.004 + h,
            "ingested_at": "2020-07-10T16:00:00Z",
        }
        for tk in ("AAPL", "MSFT")
        for h in range(HOURS)
    ]
    # A later ingest restates AAPL's first bar (a split adjustment): it must win in dedup.
    restated = [
        {
            "ticker": "AAPL",
            "t": START_MS,
            "c": 25.0,
            "vw": 25.125,
            "ingested_at": "2020-07-11T16:00:00Z",
        }
    ]
    _object(raw, "2020/07/10/16", "stockpipe-1-2020-07-10-16-00-00-aaaa", first)
    _object(raw, "2020/07/11/16", "stockpipe-1-2020-07-11-16-00-00-bbbb", restated)
    return raw


def test_raw_to_dedup_to_view_and_a_second_process_reads_it(tmp_path):
    raw = _lake(tmp_path)
    curated = tmp_path / "lake" / "curated"
    engine = LocalEngine(tmp_path / "catalog.duckdb")
    try:
        engine.execute(CRAWL.format(raw=raw))
        assert engine.execute("SELECT count(*) FROM raw").scalar() == 2 * HOURS + 1

        typed = write_partitioned(
            engine,
            table="typed",
            select_sql=TRANSFORM,
            location=f"{curated}/typed/",
            storage=LocalStorage(),
        )
        deduped = write_partitioned(
            engine,
            table="sans_dup",
            select_sql=DEDUP,
            location=f"{curated}/sans_dup/",
            storage=LocalStorage(),
        )
        engine.execute("CREATE OR REPLACE VIEW latest AS SELECT * FROM sans_dup")

        assert (typed.rows, typed.partitions, typed.statements) == (2 * HOURS + 1, HOURS, 2)
        assert (deduped.rows, deduped.partitions, deduped.statements) == (2 * HOURS, HOURS, 2)
        # The first bar: 2020-07-02 00:00 UTC is 2020-07-01 20:00 in New York (EDT); the
        # restated version (ingested a day later) won; round(25.125E0, 2): 25.125 is exact in
        # binary, * 100 = 2512.5, Math.round -> 2513 -> 25.13.
        first = engine.execute(
            "SELECT close, vwap, day_hour_partition, CAST(bar_time AS varchar) AS bt FROM latest "
            f"WHERE ticker = 'AAPL' AND bar_time_ms = {START_MS}"
        ).records()
        assert first == [
            {
                "close": 25.0,
                "vwap": 25.13,
                "day_hour_partition": "2020-07-01-20",
                "bt": "2020-07-02 00:00:00.000",
            }
        ]
        # The last hour: 129 h after the start = 2020-07-07 09:00 UTC = 05:00 EDT.
        last = engine.execute(
            "SELECT max(day_hour_partition) FROM latest WHERE ticker = 'MSFT'"
        ).scalar()
        assert last == "2020-07-07-05"
        assert (
            sorted(p.name for p in (curated / "sans_dup").iterdir())[0]
            == "day_hour_partition=2020-07-01-20"
        )
        assert not (curated / "typed__stage").exists() or not any(
            (curated / "typed__stage").rglob("*")
        )
    finally:
        engine.close()

    code = (
        "import sys; from runtime.engines.local import LocalEngine\n"
        f"e = LocalEngine({str(tmp_path)!r})\n"
        "print(e.list_tables()); print(e.execute('SELECT count(*) FROM latest').scalar())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    ).stdout.split("\n")
    assert out[0] == "['latest', 'raw', 'sans_dup', 'typed']"
    assert out[1] == str(2 * HOURS)

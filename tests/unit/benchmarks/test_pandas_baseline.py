"""The pandas baseline computes the pipeline's tables and checks (so the race is fair)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from benchmarks import pandas_baseline as pb


@pytest.fixture(scope="module")
def baseline(tiny_lake, tmp_path_factory):
    root, manifest = tiny_lake
    out = tmp_path_factory.mktemp("pandas-out")
    raw = root / "lake" / "raw"
    rows = pb.transform(raw, out / "parquet", "hour")
    kept = pb.dedup(out / "parquet", out / "sans_dup")
    return root, manifest, out, rows, kept


def _raw_records(root):
    lines = []
    for p in pb.raw_objects(root / "lake" / "raw"):
        lines.extend(json.loads(x) for x in p.read_text().splitlines())
    return pd.DataFrame(lines)


def test_round_half_away_rounds_the_binary_product_half_away_from_zero():
    got = pb.round_half_away(np.array([0.125, 12.345, -0.125, 2.675, 74.6099, 1.0]))
    # 0.125 * 100 = 12.5 exactly: away from zero. 12.345 * 100 and 2.675 * 100 land exactly on
    # 1234.5 and 267.5 in binary, so they round up too (Java's Math.round(x * 100) / 100).
    assert got.tolist() == [0.13, 12.35, -0.13, 2.68, 74.61, 1.0]
    assert np.round(0.125, 2) == 0.12 and np.round(12.345, 2) == 12.34  # numpy: half to even


def test_round_half_away_agrees_with_the_local_engine_round_on_4_decimal_prices(tmp_path):
    from runtime.engines.local import LocalEngine

    rng = np.random.default_rng(3)
    # Random 4-decimal prices plus exact-half cases where the rounding rules disagree.
    prices = np.concatenate([np.round(rng.uniform(1, 2000, 3000), 4),
                             [0.125, 12.345, 2.675, 75.145, 1.005, 10.005]])
    values = ", ".join(f"({i}, {float(p)!r}E0)" for i, p in enumerate(prices))
    engine = LocalEngine(tmp_path / "catalog.duckdb")
    try:
        rows = engine.execute(
            f"SELECT round(x, 2) FROM (VALUES {values}) AS t (i, x) ORDER BY i").rows
    finally:
        engine.close()
    want = np.array([r[0] for r in rows])
    assert (pb.round_half_away(prices) == want).all()
    assert (np.round(prices, 2) != want).sum() > 0  # the case the helper exists for


def test_transform_keeps_every_raw_row_with_typed_columns(baseline):
    root, manifest, out, rows, _ = baseline
    df = pb.read_table(out / "parquet")
    assert rows == len(df) == 800
    first = df[(df.ticker == "AAA") & (df.bar_time_ms == 1795078800000)].iloc[0]
    # 1795078800000 ms = 2026-11-19 09:00 UTC = 04:00 in New York (EST).
    assert first["bar_time"] == pd.Timestamp("2026-11-19 09:00:00")
    assert first["day_hour_partition"] == "2026-11-19-04"
    assert str(df["ingested_at"].dtype) == "datetime64[us]"
    assert df["transactions"].dtype == np.int64


def test_transform_writes_one_folder_per_new_york_hour_or_day(baseline, tmp_path):
    root, _, out, _, _ = baseline
    hours = sorted(p.name for p in (out / "parquet").iterdir())
    assert len(hours) == 5 * 16
    assert hours[0] == "day_hour_partition=2026-11-19-04"
    assert hours[-1] == "day_hour_partition=2026-11-25-19"
    pb.transform(root / "lake" / "raw", tmp_path / "day", "day")
    days = sorted(p.name for p in (tmp_path / "day").iterdir())
    assert days == [f"day_partition=2026-11-{d}" for d in (19, 20, 23, 24, 25)]


def test_dedup_keeps_latest_ingested_version(baseline):
    root, _, out, _, kept = baseline
    df = pb.read_table(out / "sans_dup")
    assert kept == len(df) == 160
    raw = _raw_records(root)
    latest = raw.sort_values("ingested_at").groupby(["ticker", "t"]).tail(1)
    merged = df.merge(latest, left_on=["ticker", "bar_time_ms"], right_on=["ticker", "t"])
    assert len(merged) == 160
    assert (merged["volume"] == merged["v"]).all()
    # The typed close is the latest delivery's close rounded to cents.
    assert (merged["close"] == pb.round_half_away(merged["c"].to_numpy())).all()
    assert (merged["close"] != merged["c"]).any()
    raw_ingested = pd.to_datetime(merged["ingested_at_y"], utc=True).dt.tz_localize(None)
    assert (merged["ingested_at_x"] == raw_ingested).all()


def test_checks_pass_on_clean_data_and_count_stale_tickers_and_missing_hours(baseline):
    root, manifest, out, _, _ = baseline
    now = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
    got = pb.quality(root / "lake" / "raw", out / "parquet", out / "sans_dup",
                     manifest.tickers, now)
    # Latest ingest window 2026-11-25..12-01; the data ends on the 25th. Missing regular-session
    # hours per ticker: 11-27 (early close, 09-12 ET: 4) + 11-30 (7) + 12-01 (7) = 18.
    assert got == {
        "bar_time_range": 0,
        "duplicate_keys": 0,
        "duplicate_rows": 0,
        "empty_table": 0,
        "freshness": 2,
        "missing_session_hours": 36,
        "negative_values": 0,
        "non_finite_values": 0,
        "null_values": 0,
        "ohlc_consistency": 0,
        "raw_parquet_row_count": 0,
        "splits_applied": 0,
        "unexplained_split_jump": 0,
        "ticker_format": 0,
        "zero_values": 0,
    }


def test_checks_count_duplicate_keys_when_dedup_is_skipped(baseline):
    root, manifest, out, _, _ = baseline
    now = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    got = pb.quality(root / "lake" / "raw", out / "parquet", out / "parquet",
                     manifest.tickers, now)
    # 800 deliveries of 160 bars: 640 extra rows per key; no two are identical (ingested_at).
    assert got["duplicate_keys"] == 640
    assert got["duplicate_rows"] == 0
    assert got["freshness"] == 0

"""The baseline: transform, dedup and quality written the way a Glue Python-shell user would with
pandas + pyarrow (what awswrangler does under `s3.read_json(lines=True)` and
`s3.to_parquet(dataset=True, partition_cols=...)`), on the local filesystem.

Each step reads what the previous one wrote, as separate Glue jobs must. The semantics follow
stockpipe's SQL (runtime/sql/transform_select.sql, dedup_select.sql, checks/) so the sans-dup
tables can be compared row for row.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Dict, List

import numpy as np

KEY = ["ticker", "bar_time_ms"]
# runtime/sql/checks/ticker_format.sql's pattern (the one configured tickers are validated with)
TICKER_PATTERN = r"(?:[A-Z]{1,2}:)?[A-Z0-9][A-Z0-9.\-]{0,15}"
PRICE_COLS = ["open", "high", "low", "close", "vwap"]
COLUMNS = [
    "ticker", "bar_time", "bar_time_ms", "open", "high", "low", "close", "volume", "vwap",
    "transactions", "ingested_at", "day_hour_partition",
]
SPLIT_RATIOS = (2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 100.0)
# The partition column of each granularity (day_hour_partition is YYYY-MM-DD-HH in both).
PARTITION_COLUMN = {"hour": "day_hour_partition", "day": "day_partition"}


def raw_objects(raw_dir: Path) -> List[Path]:
    """Every raw object under raw/YYYY/MM/DD/HH/, sorted (the crawler's view)."""
    out = []
    for dirpath, _dirs, files in os.walk(raw_dir):
        out.extend(Path(dirpath) / f for f in files if not f.startswith("."))
    return sorted(out)


def round_half_away(x: np.ndarray, digits: int = 2) -> np.ndarray:
    """round(x, digits) as Athena (Trino) computes it for doubles, and so the local engine:
    Math.round(x * 10^digits) / 10^digits, mirrored for negatives, i.e. half away from zero on
    the binary product. numpy's round is half to even: 0.125 -> 0.12 where Athena gives 0.13."""
    scale = 10.0**digits
    a = np.asarray(x, dtype="float64") * scale
    whole = np.trunc(a)
    return np.where(np.abs(a - whole) >= 0.5, whole + np.sign(a), whole) / scale


def transform(raw_dir: Path, out_dir: Path, granularity: str = "hour") -> int:
    """Raw JSON lines -> typed, partitioned Parquet (prices and volume rounded to 2 places, as
    transform_select.sql); returns rows written."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    # precise_float: pandas' default JSON float parser is off by an ulp on some values
    # (124.9634 -> 124.96340000000001), so the tables would differ from the engine's.
    frames = [
        pd.read_json(p, lines=True, dtype=False, precise_float=True)
        for p in raw_objects(raw_dir)
    ]
    raw = pd.concat(frames, ignore_index=True)
    del frames
    t = raw["t"].astype("int64")
    bar_time = pd.to_datetime(t, unit="ms")  # naive UTC, as the SQL's AT TIME ZONE 'UTC'
    df = pd.DataFrame(
        {
            "ticker": raw["ticker"].astype(str),
            "bar_time": bar_time.astype("datetime64[us]"),
            "bar_time_ms": t,
            "open": round_half_away(raw["o"].to_numpy(dtype="float64"), 2),
            "high": round_half_away(raw["h"].to_numpy(dtype="float64"), 2),
            "low": round_half_away(raw["l"].to_numpy(dtype="float64"), 2),
            "close": round_half_away(raw["c"].to_numpy(dtype="float64"), 2),
            "volume": round_half_away(raw["v"].to_numpy(dtype="float64"), 2),
            "vwap": round_half_away(raw["vw"].to_numpy(dtype="float64"), 2),
            "transactions": raw["n"].astype("int64"),
            "ingested_at": pd.to_datetime(raw["ingested_at"], utc=True)
            .dt.tz_localize(None)
            .astype("datetime64[us]"),
            "day_hour_partition": bar_time.dt.tz_localize("UTC")
            .dt.tz_convert("America/New_York")
            .dt.strftime("%Y-%m-%d-%H"),
        }
    )
    if granularity == "day":
        df["day_partition"] = df["day_hour_partition"].str.slice(0, 10)
    del raw
    _reset(out_dir)
    pq.write_to_dataset(
        pa.Table.from_pandas(df, preserve_index=False), str(out_dir),
        partition_cols=[PARTITION_COLUMN[granularity]],
    )
    return len(df)


def read_table(table_dir: Path):
    """A partitioned Parquet dataset back into pandas, partition column as plain strings."""
    import pandas as pd

    df = pd.read_parquet(table_dir)
    df["day_hour_partition"] = df["day_hour_partition"].astype(str)
    if "day_partition" in df.columns:
        df["day_partition"] = df["day_partition"].astype(str)
        return df[COLUMNS + ["day_partition"]]
    return df[COLUMNS]


def dedup(parquet_dir: Path, out_dir: Path) -> int:
    """Keep the latest ingested version of each (ticker, bar_time_ms), ties broken like the SQL."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = read_table(parquet_dir)
    order = ["ingested_at", "close", "open", "high", "low", "volume", "vwap", "transactions"]
    df = df.sort_values(order, kind="stable").drop_duplicates(KEY, keep="last")
    _reset(out_dir)
    pq.write_to_dataset(
        pa.Table.from_pandas(df, preserve_index=False), str(out_dir),
        partition_cols=["day_partition" if "day_partition" in df.columns else "day_hour_partition"],
    )
    return len(df)


def quality(
    raw_dir: Path, parquet_dir: Path, sans_dup_dir: Path, tickers: List[str], now: datetime
) -> Dict[str, int]:
    """Every check of runtime/sql/checks/ in pandas: failing-row count per check name."""
    import pandas as pd

    from runtime import exchange_calendar as cal
    from runtime.sql_files import timestamp_literal
    from runtime.window import parse_window_day

    objects = raw_objects(raw_dir)
    # Counting newlines is cheaper than parsing the JSON again; the baseline gets the easy path.
    raw_rows = sum(p.read_bytes().count(b"\n") for p in objects)
    parquet_rows = len(read_table(parquet_dir))
    df = read_table(sans_dup_dir)
    num = ["open", "high", "low", "close", "volume", "vwap"]
    ok = (
        (df["low"] <= df[["open", "close"]].min(axis=1))
        & (df["high"] >= df[["open", "close"]].max(axis=1))
        & (df["low"] <= df["high"])
        & (df["vwap"] >= df["low"] - 0.01)
        & (df["vwap"] <= df["high"] + 0.01)
    )
    checked_at = timestamp_literal(now)
    at = pd.Timestamp(checked_at)
    latest = df.loc[df["bar_time"] <= at].groupby("ticker")["bar_time"].max()
    values = df[num]
    non_finite = (values.notna() & ~values.abs().lt(float("inf"))).any(axis=1)
    bad_time = (df["bar_time"] < pd.Timestamp("1990-01-01")) | (df["bar_time"] > at)
    bad_ticker = df["ticker"].notna() & ~df["ticker"].str.fullmatch(TICKER_PATTERN).fillna(False)
    fresh_since = cal.session_start_utc(cal.last_completed_session(now))
    stale = sum(1 for t in tickers if t not in latest.index or latest[t] < fresh_since)
    # The latest ingest's window: objects sort by arrival, records by ingest time within one.
    last = json.loads(objects[-1].read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1])
    hours = cal.expected_session_hours(
        parse_window_day(last["window_from"]), parse_window_day(last["window_to"]), now
    )
    wanted = pd.MultiIndex.from_product([list(tickers), pd.DatetimeIndex(hours)])
    have = pd.MultiIndex.from_frame(df.loc[df["bar_time"].isin(hours), ["ticker", "bar_time"]])
    missing = int((~wanted.isin(have)).sum()) if len(hours) else 0
    return {
        "bar_time_range": int(bad_time.sum()),
        "duplicate_keys": int(df.duplicated(KEY, keep="first").sum()),
        "duplicate_rows": int(df.duplicated(keep="first").sum()),
        "empty_table": int(len(df) == 0),
        "freshness": stale,
        "missing_session_hours": missing,
        "negative_values": int((df[num + ["transactions"]] < 0).any(axis=1).sum()),
        "non_finite_values": int(non_finite.sum()),
        "null_values": int(df.isna().any(axis=1).sum()),
        "ohlc_consistency": int((~ok & df[num].notna().all(axis=1)).sum()),
        "raw_parquet_row_count": abs(raw_rows - parquet_rows),
        "splits_applied": _splits_applied(raw_dir.parent / "splits"),
        "unexplained_split_jump": _split_jumps(df),
        "ticker_format": int(bad_ticker.sum()),
        "zero_values": int((df[num] == 0).any(axis=1).sum()),
    }


def _splits_applied(splits_dir: Path) -> int:
    """The benchmark lakes hold no split events; the baseline does not adjust for splits."""
    if raw_objects(splits_dir):
        raise NotImplementedError(f"the pandas baseline does not apply splits ({splits_dir})")
    return 0


def _split_jumps(df) -> int:
    """checks/unexplained_split_jump.sql: first bars of a day whose open is within 2% of a split
    ratio (or its inverse) times the ticker's previous close on an earlier day."""
    d = df.sort_values(["ticker", "bar_time_ms"], kind="stable")
    day = d["day_hour_partition"].str[:10]
    prev_close = d.groupby("ticker")["close"].shift()
    prev_day = day.groupby(d["ticker"]).shift()
    overnight = (prev_day < day) & (prev_close > 0) & (d["open"] > 0)
    up = (d["open"] / prev_close).to_numpy()
    down = (prev_close / d["open"]).to_numpy()
    hits = 0
    for ratio in SPLIT_RATIOS:
        near = (np.abs(up / ratio - 1) <= 0.02) | (np.abs(down / ratio - 1) <= 0.02)
        hits += int((near & overnight.to_numpy()).sum())
    return hits


def _reset(out_dir: Path) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)

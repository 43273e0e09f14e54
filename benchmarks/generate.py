"""Synthetic raw lake for the scale benchmark, laid out exactly as Firehose lands it
(docs/architecture.md, "Raw record").

N tickers x D calendar days of extended-hours hourly bars (16 per XNYS session, 04:00-19:00 ET
bar starts). The daily ingest pulls an overlapping 7-day window, so every bar is delivered by
the ingest runs of the 5 sessions that follow it: 5 raw copies, each with its own `ingested_at`,
and earlier copies carry slightly different close/volume/trade count (restatements). The last
delivery holds the final values, so the deduplicated table is known in advance.

Numbers are built with numpy and serialised by DuckDB's JSON writer (one COPY per object), never
by per-record `json.dumps`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Tuple
from zoneinfo import ZoneInfo

import numpy as np

BARS_PER_SESSION = 16  # extended hours: bar starts 04:00 .. 19:00 America/New_York
FIRST_BAR_HOUR_ET = 4
DELIVERIES = 5  # a bar is in the 7-day window of the next 5 sessions' ingest runs
INGEST_HOUR_ET = 11  # EventBridge Scheduler: ingest at 11:00 America/New_York
FIREHOSE_MAX_OBJECT_BYTES = 5 * 1024 * 1024  # the 5 MB buffer: an object is at most this
DEFAULT_END = dt.date(2026, 11, 25)
STREAM = "stockpipe-bars"
SEED = 7
MANIFEST = "bench-manifest.json"
_ET = ZoneInfo("America/New_York")
_UTC = dt.timezone.utc


@dataclass(frozen=True)
class Size:
    """N tickers x D calendar days."""

    tickers: int
    days: int

    @property
    def label(self) -> str:
        return f"{self.tickers}x{self.days}"

    @classmethod
    def parse(cls, text: str) -> Size:
        try:
            n, d = (int(p) for p in text.lower().split("x"))
        except ValueError:
            raise ValueError(f"size {text!r} must look like TICKERSxDAYS, e.g. 100x90") from None
        if n < 1 or d < 1 or n > 17576:
            raise ValueError(f"size {text!r}: need 1..17576 tickers and at least 1 day")
        return cls(n, d)


@dataclass
class Manifest:
    """What was generated: enough to know the expected row counts without reading the data."""

    size: str
    tickers: List[str]
    sessions: List[str]
    raw_rows: int
    bars: int
    objects: int
    raw_bytes: int
    max_object_bytes: int
    end: str
    seed: int


def ticker_names(n: int) -> List[str]:
    """Deterministic, valid, distinct 3-letter symbols: AAA, AAB, ..."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [letters[i // 676] + letters[(i // 26) % 26] + letters[i % 26] for i in range(n)]


def trading_sessions(days: int, end: dt.date = DEFAULT_END) -> List[dt.date]:
    """XNYS sessions among the `days` calendar days ending at `end` (holidays are gaps)."""
    import exchange_calendars as xcals

    start = end - dt.timedelta(days=days - 1)
    with warnings.catch_warnings():
        # exchange_calendars trips a pandas deprecation warning that is not ours to fix.
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar("XNYS")
        sessions = cal.sessions_in_range(start.isoformat(), end.isoformat())
    return [ts.date() for ts in sessions]


def _et_ms(day: dt.date, hour: int, second: int = 0) -> int:
    """Unix ms of `day` `hour`:00:`second` America/New_York (DST-correct)."""
    local = dt.datetime(day.year, day.month, day.day, hour, 0, second, tzinfo=_ET)
    return int(local.timestamp() * 1000)


def _run_dates(sessions: List[dt.date]) -> List[dt.date]:
    """Ingest-run dates: the day after each session... i.e. the sessions shifted by one, with
    weekdays appended past the end so the last sessions also get all 5 deliveries."""
    runs = list(sessions[1:])
    day = sessions[-1]
    while len(runs) < len(sessions) + DELIVERIES - 1:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            runs.append(day)
    return runs


def _base_bars(
    n_tickers: int, sessions: List[dt.date], rng: np.random.Generator
) -> Dict[str, np.ndarray]:
    """Final (last-delivery) values of every bar, shape (tickers, sessions, 16), 4 decimals."""
    shape = (n_tickers, len(sessions), BARS_PER_SESSION)
    start = rng.uniform(20.0, 500.0, size=(n_tickers, 1))
    ret = rng.normal(0.0, 0.003, size=(n_tickers, len(sessions) * BARS_PER_SESSION))
    closes = start * np.exp(np.cumsum(ret, axis=1))
    prev = np.concatenate([start, closes[:, :-1]], axis=1)
    opens = prev * (1 + rng.normal(0, 0.0005, closes.shape))
    opens, closes = opens.reshape(shape), closes.reshape(shape)
    hi = np.maximum(opens, closes) * (1 + np.abs(rng.normal(0, 0.002, shape)))
    lo = np.minimum(opens, closes) * (1 - np.abs(rng.normal(0, 0.002, shape)))
    # Round outward so open/close/vwap stay inside [low, high] after rounding.
    h = np.ceil(hi * 1e4) / 1e4
    low = np.floor(lo * 1e4) / 1e4
    o = np.clip(np.round(opens, 4), low, h)
    c = np.clip(np.round(closes, 4), low, h)
    vw = np.clip(np.round(low + (h - low) * rng.uniform(0.2, 0.8, shape), 4), low, h)
    v = rng.integers(5_000, 5_000_000, size=shape)
    n = np.maximum(1, v // rng.integers(50, 200, size=shape))
    t = np.empty(shape, dtype=np.int64)
    for si, day in enumerate(sessions):
        first = _et_ms(day, FIRST_BAR_HOUR_ET)
        t[:, si, :] = first + np.arange(BARS_PER_SESSION, dtype=np.int64) * 3_600_000
    return {"t": t, "o": o, "h": h, "l": low, "c": c, "v": v, "vw": vw, "n": n}


def restated(base: Dict[str, np.ndarray], delivery: int) -> Dict[str, np.ndarray]:
    """Values as seen by delivery `delivery` (0 = first, DELIVERIES-1 = final): close, volume and
    trade count drift towards the final values, close stays inside [low, high]."""
    back = DELIVERIES - 1 - delivery
    out = dict(base)
    out["c"] = np.clip(np.round(base["c"] - back * 0.0007, 4), base["l"], base["h"])
    out["v"] = base["v"] - back * 37
    out["n"] = np.maximum(1, base["n"] - back)
    return out


_SELECT = """
SELECT ticker, t, o, h, l, c, v, vw, n,
       strftime(make_timestamp(ing_ms * 1000), '%Y-%m-%dT%H:%M:%S.%gZ') AS ingested_at,
       md5(run || '-' || ticker) AS request_id,
       window_from, window_to, 'demo' AS source
FROM chunk
"""


def generate(root: Path, size: Size, end: dt.date = DEFAULT_END, seed: int = SEED) -> Manifest:
    """Write the raw lake for `size` under `root/lake/raw/` (replacing any old one)."""
    import duckdb
    import pyarrow as pa

    raw = root / "lake" / "raw"
    if raw.exists():
        shutil.rmtree(raw)
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    tickers = ticker_names(size.tickers)
    sessions = trading_sessions(size.days, end)
    if not sessions:
        raise ValueError(f"no XNYS session in the {size.days} days up to {end}; use more days")
    base = _base_bars(size.tickers, sessions, rng)
    deliveries = [restated(base, d) for d in range(DELIVERIES)]
    runs = _run_dates(sessions)
    con = duckdb.connect()
    con.execute("SET threads = 1")  # many tiny COPYs: threads only add overhead
    tick_arr = np.array(tickers, dtype=object)
    per_object = None
    objects = rows = total_bytes = max_bytes = 0
    for r, run_day in enumerate(runs):
        # Run r delivers sessions r-4 .. r (session i's j-th delivery is run i + j).
        lo_s, hi_s = max(0, r - DELIVERIES + 1), min(len(sessions) - 1, r)
        if lo_s > hi_s:
            continue
        start_ms = _et_ms(run_day, INGEST_HOUR_ET, 1)
        span = range(lo_s, hi_s + 1)
        # Ticker-major like the ingest loop: one request per ticker, its window's bars in order.
        cols = {
            key: np.stack([deliveries[r - si][key][:, si, :] for si in span], axis=1).reshape(-1)
            for key in ("t", "o", "h", "l", "c", "v", "vw", "n")
        }
        per_ticker = len(span) * BARS_PER_SESSION
        cols["ticker"] = np.repeat(tick_arr, per_ticker)
        # 250 ms per ticker request, so each record of a run has the arrival of its request.
        ing = start_ms + np.arange(size.tickers, dtype=np.int64) * 250
        cols["ing_ms"] = np.repeat(ing, per_ticker)
        table = pa.table(cols)
        table = table.append_column("run", pa.array([run_day.isoformat()] * table.num_rows))
        table = table.append_column(
            "window_from", pa.array([(run_day - dt.timedelta(days=7)).isoformat()] * table.num_rows)
        )
        table = table.append_column(
            "window_to", pa.array([(run_day - dt.timedelta(days=1)).isoformat()] * table.num_rows)
        )
        if per_object is None:
            per_object = _records_per_object(con, table, root)
        for i, off in enumerate(range(0, table.num_rows, per_object)):
            chunk = table.slice(off, per_object)
            con.register("chunk", chunk)
            arrival = dt.datetime.fromtimestamp(start_ms / 1000 + 60 * i, tz=_UTC)
            path = raw / arrival.strftime("%Y/%m/%d/%H") / (
                f"{STREAM}-1-{arrival:%Y-%m-%d-%H-%M-%S}-{_uuid(rng)}"
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY ({_SELECT}) TO '{path}' (FORMAT JSON)")
            nbytes = path.stat().st_size
            objects += 1
            rows += chunk.num_rows
            total_bytes += nbytes
            max_bytes = max(max_bytes, nbytes)
    con.close()
    manifest = Manifest(
        size=size.label,
        tickers=tickers,
        sessions=[s.isoformat() for s in sessions],
        raw_rows=rows,
        bars=size.tickers * len(sessions) * BARS_PER_SESSION,
        objects=objects,
        raw_bytes=total_bytes,
        max_object_bytes=max_bytes,
        end=end.isoformat(),
        seed=seed,
    )
    (root / MANIFEST).write_text(json.dumps(asdict(manifest), indent=1))
    return manifest


def _records_per_object(con, table, root: Path) -> int:
    """How many records fit in one 5 MB object, measured on the widest records of a sample."""
    con.register("chunk", table.slice(0, min(2000, table.num_rows)))
    probe = root / ".probe.json"
    con.execute(f"COPY ({_SELECT}) TO '{probe}' (FORMAT JSON)")
    widest = max(len(line) for line in probe.read_bytes().splitlines(keepends=True))
    probe.unlink()
    # Headroom for a few more digits than the sample shows.
    return max(1, int(FIREHOSE_MAX_OBJECT_BYTES * 0.95) // (widest + 8))


def _uuid(rng: np.random.Generator) -> str:
    """A random, reproducible UUID4-shaped suffix (Firehose's <random> part)."""
    h = rng.bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def load_manifest(root: Path) -> Manifest:
    return Manifest(**json.loads((root / MANIFEST).read_text()))


def ensure(root: Path, size: Size, end: dt.date = DEFAULT_END) -> Tuple[Manifest, bool]:
    """Reuse data already generated for this size, else generate; returns (manifest, generated)."""
    path = root / MANIFEST
    if path.exists():
        m = load_manifest(root)
        if m.size == size.label and m.end == end.isoformat() and (root / "lake" / "raw").is_dir():
            return m, False
    root.mkdir(parents=True, exist_ok=True)
    if path.exists():
        os.unlink(path)
    return generate(root, size, end), True

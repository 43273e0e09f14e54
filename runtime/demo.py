"""Deterministic synthetic hourly bars shaped like Polygon's, for runs without an API key.

Every value is a pure function of (ticker, bar time): the same bar is identical on every run
and in every window that contains it. Prices follow a mean-reverting fractal path (value
noise at several time scales) around a ticker-seeded level; bars exist only in XNYS sessions,
04:00 ET to four hours after the close (so early-close days are shorter). numpy and
exchange_calendars are imported here, never on the Lambda path.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Dict, List, Tuple
from zoneinfo import ZoneInfo

from .errors import ConfigError, validate_ticker
from .polygon import FetchResult, Page

HOUR_MS = 3_600_000
FIRST_BAR_HOUR_ET = 4  # pre-market opens 04:00 ET
POST_MARKET_HOURS = 4  # post-market runs four hours past the close (16:00 -> 20:00)
REGULAR_OPEN_ET = 9.5
# (period in hours, amplitude in log-price) of each noise octave: months to hours.
_OCTAVES = ((24 * 40, 0.18), (24 * 8, 0.07), (24, 0.025), (3, 0.006))


def _seed(ticker: str) -> int:
    return int.from_bytes(hashlib.sha256(ticker.encode("utf-8")).digest()[:8], "big")


def _mix(x):
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic is the point)."""
    import numpy as np

    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(seed: int, keys, salt: int):
    """Uniform [0, 1) per key, a pure function of (seed, key, salt)."""
    import numpy as np

    k = keys.astype(np.int64).view(np.uint64)
    h = _mix(_mix(k ^ np.uint64(seed)) ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _value_noise(seed: int, hours, period: float, salt: int):
    """Smoothly interpolated random values in [-1, 1] on knots `period` hours apart."""
    import numpy as np

    x = hours / period
    k = np.floor(x)
    f = x - k
    f = f * f * (3.0 - 2.0 * f)  # smoothstep: no kinks at the knots
    a = _uniform(seed, k, salt) * 2.0 - 1.0
    b = _uniform(seed, k + 1, salt) * 2.0 - 1.0
    return a + (b - a) * f


def _log_price(seed: int, t_ms):
    import numpy as np

    hours = t_ms.astype(np.float64) / HOUR_MS
    out = np.zeros_like(hours)
    for i, (period, amp) in enumerate(_OCTAVES):
        out += amp * _value_noise(seed, hours, period, 101 + i)
    return out


@lru_cache(maxsize=8)
def _calendar(first_year: int, last_year: int):
    import warnings

    import exchange_calendars as xcals

    with warnings.catch_warnings():
        # exchange_calendars 4.x reads Series.values, which pandas 3 warns about; not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return xcals.get_calendar("XNYS", start=f"{first_year}-01-01", end=f"{last_year}-12-31")


@lru_cache(maxsize=32)
def session_grid(window_from: date, window_to: date) -> Tuple[Any, Any, Any]:
    """Bar starts (Unix ms), their ET hour and the session's ET close hour, for the window."""
    import numpy as np

    if window_from > window_to:
        raise ConfigError(f"window start {window_from} is after its end {window_to}")
    cal = _calendar(window_from.year, window_to.year)
    ny = ZoneInfo("America/New_York")
    closes = cal.closes.loc[str(window_from) : str(window_to)]
    t_parts: List[Any] = []
    hour_parts: List[Any] = []
    close_parts: List[Any] = []
    epoch = date(1970, 1, 1)
    for session, close_utc in closes.items():
        d = session.date()
        close_et = close_utc.tz_convert(ny)
        close_hour = close_et.hour + close_et.minute / 60.0
        last_start = int(np.ceil(close_hour + POST_MARKET_HOURS)) - 1
        hours = np.arange(FIRST_BAR_HOUR_ET, last_start + 1, dtype=np.int64)
        # DST switches at 02:00, so one offset holds for every bar of the session.
        offset = datetime(d.year, d.month, d.day, 12, tzinfo=ny).utcoffset() or timedelta(0)
        midnight_ms = ((d - epoch).days * 86400 - int(offset.total_seconds())) * 1000
        t_parts.append(midnight_ms + hours * HOUR_MS)
        hour_parts.append(hours)
        close_parts.append(np.full(len(hours), close_hour))
    if not t_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(t_parts), np.concatenate(hour_parts), np.concatenate(close_parts)


def _volume_shape(hour, close_hour):
    """Relative volume per bar: U-shaped in the regular session, thin in extended hours."""
    import numpy as np

    h = hour.astype(np.float64)
    regular = (h + 1 > REGULAR_OPEN_ET) & (h < close_hour)
    # position of the bar's middle within the regular session, 0 at the open, 1 at the close
    x = np.clip((h + 0.5 - REGULAR_OPEN_ET) / (close_hour - REGULAR_OPEN_ET), 0.0, 1.0)
    u_shape = 0.5 + 2.0 * (2.0 * x - 1.0) ** 2
    pre = 0.012 * 1.8 ** (h - FIRST_BAR_HOUR_ET)
    post = 0.25 * 0.45 ** (h - close_hour)
    return np.where(regular, u_shape, np.where(h < REGULAR_OPEN_ET, pre, post))


def demo_columns(ticker: str, window_from: date, window_to: date) -> Dict[str, Any]:
    """Columns t, o, h, l, c, v, vw, n as numpy arrays for every demo bar in the window."""
    import numpy as np

    ticker = validate_ticker(ticker)
    t, hour, close_hour = session_grid(window_from, window_to)
    t = t.copy()  # the grid is cached: callers get their own array
    seed = _seed(ticker)
    one = np.zeros(1, dtype=np.int64)
    level = 10.0 + 490.0 * float(_uniform(seed, one, 1)[0])  # $10..$500
    base_volume = 2e5 + 5e6 * float(_uniform(seed, one, 2)[0])
    o = np.round(level * np.exp(_log_price(seed, t)), 2)
    c = np.round(level * np.exp(_log_price(seed, t + HOUR_MS)), 2)
    regular = (hour + 1 > REGULAR_OPEN_ET) & (hour < close_hour)
    range_frac = np.where(regular, 0.004, 0.0015)
    up = np.maximum(0.01, np.round(o * range_frac * _uniform(seed, t, 3), 2))
    down = np.maximum(0.01, np.round(o * range_frac * _uniform(seed, t, 4), 2))
    hi = np.round(np.maximum(o, c) + up, 2)
    lo = np.round(np.maximum(0.01, np.minimum(o, c) - down), 2)
    vw = np.clip(np.round(lo + (hi - lo) * (0.3 + 0.4 * _uniform(seed, t, 5)), 4), lo, hi)
    v = np.maximum(
        1,
        np.floor(
            base_volume * _volume_shape(hour, close_hour) * (0.7 + 0.6 * _uniform(seed, t, 6))
        ),
    ).astype(np.int64)
    n = np.maximum(1, np.floor(v / (60.0 + 140.0 * _uniform(seed, t, 7)))).astype(np.int64)
    return {"t": t, "o": o, "h": hi, "l": lo, "c": c, "v": v, "vw": vw, "n": n}


def demo_bars(ticker: str, window_from: date, window_to: date) -> List[Dict[str, Any]]:
    """The window's demo bars as API-shaped dicts (plain int/float values, `otc` absent)."""
    cols = demo_columns(ticker, window_from, window_to)
    names = ("c", "h", "l", "n", "o", "t", "v", "vw")  # the API's key order
    lists = [cols[k].tolist() for k in names]
    return [dict(zip(names, row)) for row in zip(*lists)]


def demo_request_id(ticker: str, window_from: date, window_to: date) -> str:
    raw = f"{ticker}|{window_from}|{window_to}".encode()
    return "demo-" + hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:27]  # noqa: S324


def demo_fetch(ticker: str, window_from: date, window_to: date) -> FetchResult:
    """Demo bars in the same FetchResult shape the Polygon client returns."""
    ticker = validate_ticker(ticker)
    bars = demo_bars(ticker, window_from, window_to)
    page = Page(request_id=demo_request_id(ticker, window_from, window_to), results=bars)
    return FetchResult(ticker, window_from, window_to, pages=[page], source="demo")

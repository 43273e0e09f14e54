"""Deterministic synthetic hourly bars shaped like Polygon's, for runs without an API key.

Every value is a pure function of (ticker, bar time): the same bar is identical on every run
and in every window that contains it. Prices follow a mean-reverting fractal path (value
noise at several time scales) around a ticker-seeded level; bars exist only in XNYS sessions,
04:00 ET to four hours after the close (so early-close days are shorter). Plain Python only
(the exchange calendar is runtime.xnys): the Lambda package has no numpy or pandas, and the
handler's `data_source: "demo"` runs this code there.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Dict, List, Tuple
from zoneinfo import ZoneInfo

from . import xnys
from .errors import ConfigError, validate_ticker
from .polygon import FetchResult, Page

HOUR_MS = 3_600_000
FIRST_BAR_HOUR_ET = 4  # pre-market opens 04:00 ET
POST_MARKET_HOURS = 4  # post-market runs four hours past the close (16:00 -> 20:00)
REGULAR_OPEN_ET = 9.5
# (period in hours, amplitude in log-price) of each noise octave: months to hours.
_OCTAVES = ((24 * 40, 0.18), (24 * 8, 0.07), (24, 0.025), (3, 0.006))
_U64 = 0xFFFFFFFFFFFFFFFF


def _seed(ticker: str) -> int:
    return int.from_bytes(hashlib.sha256(ticker.encode("utf-8")).digest()[:8], "big")


def _mix(x: int) -> int:
    """splitmix64 finaliser on a uint64 (wrapping arithmetic is the point)."""
    x = (x + 0x9E3779B97F4A7C15) & _U64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _U64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _U64
    return x ^ (x >> 31)


def _uniform(seed: int, key: int, salt: int) -> float:
    """Uniform [0, 1) per integer key, a pure function of (seed, key, salt)."""
    h = _mix(_mix((key & _U64) ^ seed) ^ (salt & _U64))
    return (h >> 11) * (1.0 / (1 << 53))


def _round(x: float, places: int) -> float:
    """Round half to even at `places` decimals by scaling, as the original numpy code did."""
    scale = 10.0 ** places
    return round(x * scale) / scale


def _value_noise(seed: int, hours: float, period: float, salt: int) -> float:
    """Smoothly interpolated random values in [-1, 1] on knots `period` hours apart."""
    x = hours / period
    k = math.floor(x)
    f = x - k
    f = f * f * (3.0 - 2.0 * f)  # smoothstep: no kinks at the knots
    a = _uniform(seed, k, salt) * 2.0 - 1.0
    b = _uniform(seed, k + 1, salt) * 2.0 - 1.0
    return a + (b - a) * f


def _log_price(seed: int, t_ms: int) -> float:
    hours = float(t_ms) / HOUR_MS
    out = 0.0
    for i, (period, amp) in enumerate(_OCTAVES):
        out += amp * _value_noise(seed, hours, period, 101 + i)
    return out


@lru_cache(maxsize=32)
def session_grid(window_from: date, window_to: date) -> Tuple[Tuple[int, int, float], ...]:
    """(bar start in Unix ms, its ET hour, the session's ET close hour) for the window."""
    if window_from > window_to:
        raise ConfigError(f"window start {window_from} is after its end {window_to}")
    ny = ZoneInfo("America/New_York")
    epoch = date(1970, 1, 1)
    out: List[Tuple[int, int, float]] = []
    for d, close_hour in xnys.session_closes(window_from, window_to).items():
        last_start = int(math.ceil(close_hour + POST_MARKET_HOURS)) - 1
        # DST switches at 02:00, so one offset holds for every bar of the session.
        offset = datetime(d.year, d.month, d.day, 12, tzinfo=ny).utcoffset() or timedelta(0)
        midnight_ms = ((d - epoch).days * 86400 - int(offset.total_seconds())) * 1000
        for hour in range(FIRST_BAR_HOUR_ET, last_start + 1):
            out.append((midnight_ms + hour * HOUR_MS, hour, close_hour))
    return tuple(out)


def _volume_shape(hour: int, close_hour: float) -> float:
    """Relative volume per bar: U-shaped in the regular session, thin in extended hours."""
    h = float(hour)
    if h + 1 > REGULAR_OPEN_ET and h < close_hour:
        # position of the bar's middle within the regular session, 0 at the open, 1 at the close
        x = min(1.0, max(0.0, (h + 0.5 - REGULAR_OPEN_ET) / (close_hour - REGULAR_OPEN_ET)))
        return 0.5 + 2.0 * (2.0 * x - 1.0) ** 2
    if h < REGULAR_OPEN_ET:
        return 0.012 * 1.8 ** (h - FIRST_BAR_HOUR_ET)
    return 0.25 * 0.45 ** (h - close_hour)


def _bar(seed: int, level: float, base_volume: float, t: int, hour: int,
         close_hour: float) -> Dict[str, Any]:
    o = _round(level * math.exp(_log_price(seed, t)), 2)
    c = _round(level * math.exp(_log_price(seed, t + HOUR_MS)), 2)
    regular = hour + 1 > REGULAR_OPEN_ET and hour < close_hour
    range_frac = 0.004 if regular else 0.0015
    up = max(0.01, _round(o * range_frac * _uniform(seed, t, 3), 2))
    down = max(0.01, _round(o * range_frac * _uniform(seed, t, 4), 2))
    hi = _round(max(o, c) + up, 2)
    lo = _round(max(0.01, min(o, c) - down), 2)
    vw = min(hi, max(lo, _round(lo + (hi - lo) * (0.3 + 0.4 * _uniform(seed, t, 5)), 4)))
    shape = _volume_shape(hour, close_hour)
    v = max(1, math.floor(base_volume * shape * (0.7 + 0.6 * _uniform(seed, t, 6))))
    n = max(1, math.floor(v / (60.0 + 140.0 * _uniform(seed, t, 7))))
    # The API's key order.
    return {"c": c, "h": hi, "l": lo, "n": n, "o": o, "t": t, "v": v, "vw": vw}


def demo_bars(ticker: str, window_from: date, window_to: date) -> List[Dict[str, Any]]:
    """The window's demo bars as API-shaped dicts (plain int/float values, `otc` absent)."""
    ticker = validate_ticker(ticker)
    seed = _seed(ticker)
    level = 10.0 + 490.0 * _uniform(seed, 0, 1)  # $10..$500
    base_volume = 2e5 + 5e6 * _uniform(seed, 0, 2)
    return [_bar(seed, level, base_volume, t, hour, close)
            for t, hour, close in session_grid(window_from, window_to)]


def demo_request_id(ticker: str, window_from: date, window_to: date) -> str:
    raw = f"{ticker}|{window_from}|{window_to}".encode()
    return "demo-" + hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:27]  # noqa: S324


def demo_fetch(ticker: str, window_from: date, window_to: date) -> FetchResult:
    """Demo bars in the same FetchResult shape the Polygon client returns."""
    ticker = validate_ticker(ticker)
    bars = demo_bars(ticker, window_from, window_to)
    page = Page(request_id=demo_request_id(ticker, window_from, window_to), results=bars)
    return FetchResult(ticker, window_from, window_to, pages=[page], source="demo")

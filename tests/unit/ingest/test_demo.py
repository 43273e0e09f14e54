"""Demo source: deterministic, shaped like the API's hourly bars, on the XNYS calendar."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from runtime.demo import demo_bars, demo_fetch
from runtime.errors import IdentifierError
from runtime.records import validate_bar

NY = ZoneInfo("America/New_York")


def et(bar):
    return datetime.fromtimestamp(bar["t"] / 1000, timezone.utc).astimezone(NY)


def by_day(bars):
    out = defaultdict(list)
    for b in bars:
        out[et(b).date()].append(et(b).hour)
    return dict(out)


def ms(*args):
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


def test_same_bars_on_every_call_and_in_overlapping_windows():
    a = demo_bars("AAPL", date(2026, 11, 16), date(2026, 11, 25))
    b = demo_bars("AAPL", date(2026, 11, 16), date(2026, 11, 25))
    c = demo_bars("AAPL", date(2026, 11, 23), date(2026, 12, 4))
    assert a == b
    overlap_a = [x for x in a if x["t"] >= ms(2026, 11, 23, 0)]
    overlap_c = [x for x in c if x["t"] <= ms(2026, 11, 26, 5)]
    assert len(overlap_a) == 3 * 16
    assert overlap_a == overlap_c


def test_tickers_get_different_prices():
    a = demo_bars("AAPL", date(2026, 11, 23), date(2026, 11, 23))
    m = demo_bars("MSFT", date(2026, 11, 23), date(2026, 11, 23))
    assert [x["t"] for x in a] == [x["t"] for x in m]
    assert [x["o"] for x in a] != [x["o"] for x in m]


def test_no_bars_on_thanksgiving_or_weekends_and_short_early_close():
    days = by_day(demo_bars("AAPL", date(2026, 11, 20), date(2026, 11, 30)))
    assert sorted(days) == [
        date(2026, 11, 20),
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
    ]
    full = list(range(4, 20))  # bar starts 04:00..19:00 ET (session 04:00-20:00)
    assert days[date(2026, 11, 25)] == full
    # 2026-11-27 closes at 13:00 ET: post-market ends 17:00, last bar starts 16:00
    assert days[date(2026, 11, 27)] == list(range(4, 17))


def test_bars_start_at_the_top_of_the_hour_across_dst():
    days = demo_bars("AAPL", date(2026, 10, 30), date(2026, 11, 2))
    first = {et(b).date(): b["t"] for b in reversed(days)}
    assert first[date(2026, 10, 30)] == ms(2026, 10, 30, 8)  # 04:00 EDT
    assert first[date(2026, 11, 2)] == ms(2026, 11, 2, 9)  # 04:00 EST
    assert all(b["t"] % 3_600_000 == 0 for b in days)


def test_ohlc_and_vwap_are_consistent_and_bars_validate():
    bars = demo_bars("ZZZ", date(2026, 1, 1), date(2026, 3, 31))
    assert len(bars) > 900
    for b in bars:
        assert validate_bar(b) is None
        assert b["l"] <= min(b["o"], b["c"]) <= max(b["o"], b["c"]) <= b["h"]
        assert b["l"] <= b["vw"] <= b["h"]
        assert b["l"] > 0 and b["v"] >= 1 and 1 <= b["n"] <= b["v"]
        assert isinstance(b["t"], int) and isinstance(b["v"], int) and isinstance(b["n"], int)
        assert "otc" not in b


def test_volume_is_u_shaped_in_the_session_and_thin_outside():
    bars = demo_bars("AAPL", date(2026, 11, 23), date(2026, 11, 25))
    vol = {(et(b).date(), et(b).hour): b["v"] for b in bars}
    for d in (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)):
        assert vol[(d, 9)] > vol[(d, 12)] < vol[(d, 15)]
        assert min(vol[(d, h)] for h in range(9, 16)) > max(
            vol[(d, h)] for h in list(range(4, 9)) + list(range(16, 20))
        )


def test_prices_move_like_a_market_not_noise():
    bars = demo_bars("AAPL", date(2026, 1, 1), date(2026, 6, 30))
    closes = [b["c"] for b in bars]
    steps = [
        abs(b["o"] / a["c"] - 1) + abs(b["c"] / b["o"] - 1)
        for a, b in zip(bars, bars[1:])
        if b["t"] - a["t"] == 3_600_000
    ]
    assert len(steps) > 1500
    assert max(steps) < 0.02  # within a session no hour moves more than 2 %
    assert max(closes) / min(closes) > 1.05  # but it does wander over half a year


def test_demo_fetch_has_the_client_shape():
    r = demo_fetch("msft", date(2026, 11, 23), date(2026, 11, 23))
    assert r.ticker == "MSFT" and r.source == "demo"
    assert len(r.bars) == 16 and r.request_ids[0].startswith("demo-")
    assert r.request_ids == demo_fetch("MSFT", date(2026, 11, 23), date(2026, 11, 23)).request_ids


def test_demo_refuses_bad_tickers_and_empty_windows_are_empty():
    with pytest.raises(IdentifierError):
        demo_bars("AA PL", date(2026, 11, 23), date(2026, 11, 23))
    assert demo_bars("AAPL", date(2026, 11, 28), date(2026, 11, 29)) == []

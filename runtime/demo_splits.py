"""Simulated stock splits for the demo source: the demo ticker SPLT splits 2-for-1 on 2026-11-16.

The demo source plays the API as seen at the end of its window: a run whose window ends before
an execution date sees the bars before it on the old (as-traded) basis and no split yet; a run
whose window ends on or after it sees the split listed and every bar of the window on the new
basis, as the aggregates API's `adjusted=true` bars are after a split.

The demo's price path (runtime.demo) is taken as the latest basis. As traded, a bar before a
split of ratio r = split_to / split_from cost r times as much (in whole cents) and traded 1/r as
many shares; the API's adjusted bar divides the traded prices by r again (unrounded, as the API
gives them) and multiplies the traded volume by r.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from typing import Any, Dict, List, Sequence, Tuple
from zoneinfo import ZoneInfo

from .polygon import FetchResult, Page

# ticker -> (execution_date, split_from, split_to), oldest first
DEMO_SPLITS: Dict[str, Tuple[Tuple[str, int, int], ...]] = {
    "SPLT": (("2026-11-16", 1, 2),),
}
PRICE_FIELDS = ("o", "h", "l", "c")
_NY = ZoneInfo("America/New_York")


def _ratio(split: Tuple[str, int, int]) -> float:
    return split[2] / split[1]


def _executed(ticker: str, as_of: date) -> List[Tuple[str, int, int]]:
    return [s for s in DEMO_SPLITS.get(ticker, ()) if date.fromisoformat(s[0]) <= as_of]


def demo_split_events(ticker: str, as_of: date) -> List[Dict[str, Any]]:
    """The ticker's splits executed by `as_of`, shaped as the splits endpoint lists them."""
    executed = _executed(ticker, as_of)
    out = []
    for i, split in enumerate(executed):
        # cumulative to the as-of basis: this split and every later one already executed
        factor = 1.0
        for later in executed[i:]:
            factor /= _ratio(later)
        out.append(
            {
                "id": f"demo-{ticker}-{split[0]}",
                "ticker": ticker,
                "execution_date": split[0],
                "adjustment_type": "forward_split" if split[2] > split[1] else "reverse_split",
                "split_from": split[1],
                "split_to": split[2],
                "historical_adjustment_factor": round(factor, 12),
            }
        )
    return out


def demo_split_pages(tickers: Sequence[str], window_from: date, window_to: date) -> List[Page]:
    """One page of the tickers' splits as seen at the end of the window."""
    events = [e for t in tickers for e in demo_split_events(t, window_to)]
    key = f"splits|{','.join(tickers)}|{window_from}|{window_to}".encode()
    rid = "demo-" + hashlib.sha1(key, usedforsecurity=False).hexdigest()[:27]  # noqa: S324
    return [Page(request_id=rid, results=events)]


def _bar_day(t_ms: int) -> date:
    return datetime.fromtimestamp(t_ms / 1000.0, tz=timezone.utc).astimezone(_NY).date()


def with_demo_splits(result: FetchResult) -> FetchResult:
    """`result`'s bars as the API would give them at the window's end, given the demo splits."""
    splits = DEMO_SPLITS.get(result.ticker)
    if not splits:
        return result
    pages = []
    for page in result.pages:
        bars = []
        for bar in page.results:
            day = _bar_day(int(bar["t"]))
            later = [s for s in splits if date.fromisoformat(s[0]) > day]
            traded_factor = 1.0
            for s in later:
                traded_factor *= _ratio(s)
            seen_factor = 1.0
            for s in later:
                if date.fromisoformat(s[0]) <= result.window_to:
                    seen_factor *= _ratio(s)
            if traded_factor == 1.0:
                bars.append(bar)
                continue
            out = dict(bar)
            for name in PRICE_FIELDS:
                traded = round(bar[name] * traded_factor, 2)  # trades print in whole cents
                out[name] = round(traded / seen_factor, 6)
            if bar.get("vw") is not None:
                out["vw"] = round(round(bar["vw"] * traded_factor, 4) / seen_factor, 6)
            traded_volume = max(1, round(bar["v"] / traded_factor))
            volume = traded_volume * seen_factor
            out["v"] = int(volume) if float(volume).is_integer() else round(volume, 4)
            bars.append(out)
        pages.append(Page(page.request_id, bars))
    return FetchResult(result.ticker, result.window_from, result.window_to, pages, result.source)

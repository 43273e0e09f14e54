"""Stock splits: fetch the tickers' split events and land them raw under splits/.

The data provider's splits endpoint (`GET /stocks/v1/splits`, which replaced the deprecated
`/v3/reference/splits` in 2026) lists one event per row: `id`, `ticker`, `execution_date`
(YYYY-MM-DD; the adjustment applies overnight, so every bar of that exchange date is already on
the new basis, pre-market included), `adjustment_type` (`forward_split`, `reverse_split`,
`stock_dividend`), `split_from`, `split_to` and `historical_adjustment_factor` (cumulative, to
today's basis). It pages with `next_url` like the aggregates, and `ticker.any_of` asks for many
tickers in one request, so a run spends one request (per 50 tickers) of the rate limit on splits.

Each run lands the tickers' whole split list, so the raw splits table holds one snapshot per
run; the workflow keeps the latest version of each (ticker, execution_date). A record is the
event as the API gives it plus the same lineage as a bar (`ingested_at`, `request_id`,
`window_from`, `window_to`, `source`); an invalid event goes to rejects/ with its reason.
Requests go through the bar client's `get_pages`, so they share its session, rate limiter,
retries and deadline.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import urlencode

from .errors import validate_ticker
from .polygon import Page
from .records import Shaped, encode, reject_record

SPLITS_PATH = "/stocks/v1/splits"
SPLITS_PAGE_LIMIT = 5000  # the endpoint's maximum
TICKERS_PER_REQUEST = 50  # keeps the URL short; ticker.any_of takes a comma-separated list
SPLIT_FIELDS = (
    "id",
    "ticker",
    "execution_date",
    "adjustment_type",
    "split_from",
    "split_to",
    "historical_adjustment_factor",
)
SPLITS_STREAM = "stockpipe-splits"


def splits_url(base_url: str, tickers: Sequence[str]) -> str:
    """The first page of the splits of `tickers`, oldest first."""
    names = ",".join(validate_ticker(t) for t in tickers)
    query = urlencode(
        {"ticker.any_of": names, "sort": "execution_date.asc", "limit": str(SPLITS_PAGE_LIMIT)}
    )
    return f"{base_url.rstrip('/')}{SPLITS_PATH}?{query}"


def fetch_split_pages(client: Any, tickers: Sequence[str]) -> List[Page]:
    """Every page of the tickers' splits through the bar client (same limiter and session)."""
    pages: List[Page] = []
    names = [validate_ticker(t) for t in tickers]
    for start in range(0, len(names), TICKERS_PER_REQUEST):
        chunk = names[start : start + TICKERS_PER_REQUEST]
        pages.extend(client.get_pages("splits", splits_url(client.base_url, chunk)))
    return pages


def _positive(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def validate_split(split: Any, tickers: Iterable[str]) -> Optional[str]:
    """None if the split event is usable, else the reason it is not."""
    if not isinstance(split, dict):
        return f"split is a {type(split).__name__}, not a JSON object"
    ticker = split.get("ticker")
    if ticker not in set(tickers):
        return f"split for ticker {ticker!r}, which was not asked for"[:200]
    when = split.get("execution_date")
    try:
        date.fromisoformat(str(when))
    except ValueError:
        return f"execution_date {when!r} is not a YYYY-MM-DD date"[:200]
    for name in ("split_from", "split_to"):
        if not _positive(split.get(name)):
            return f"{name} must be a positive number, got {split.get(name)!r}"[:200]
    return None


def shape_splits(
    pages: Iterable[Tuple[str, List[Any]]],
    *,
    tickers: Sequence[str],
    window_from: date,
    window_to: date,
    source: str,
    ingested_at: str,
) -> Shaped:
    """Raw split records (documented fields as given, then lineage) and rejects."""
    out = Shaped()
    lineage: Dict[str, Any] = {
        "ingested_at": ingested_at,
        "window_from": window_from.isoformat(),
        "window_to": window_to.isoformat(),
        "source": source,
    }
    for request_id, results in pages:
        for split in results:
            reason = validate_split(split, tickers)
            if reason is None:
                rec = {k: split[k] for k in SPLIT_FIELDS if k in split}
                rec.update(lineage, request_id=request_id)
                out.records.append(encode(rec))
            else:
                out.rejects.append(
                    encode(
                        reject_record(
                            split,
                            reason=reason,
                            request_id=request_id,
                            ticker=str(split.get("ticker", "")) if isinstance(split, dict) else "",
                            window_from=window_from,
                            window_to=window_to,
                            source=source,
                            ingested_at=ingested_at,
                        )
                    )
                )
                out.reasons.append(reason)
    return out

"""Split events: the request, validation clause by clause, raw records and rejects, and the demo
source's simulated SPLT split seen before and after its execution date."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from runtime.demo import demo_fetch
from runtime.demo_splits import demo_split_events, demo_split_pages, with_demo_splits
from runtime.errors import IdentifierError
from runtime.splits import TICKERS_PER_REQUEST, shape_splits, splits_url, validate_split

GOOD = {
    "id": "E1",
    "ticker": "NVDA",
    "execution_date": "2024-06-10",
    "adjustment_type": "forward_split",
    "split_from": 1,
    "split_to": 10,
    "historical_adjustment_factor": 0.1,
}


def test_splits_url_asks_for_all_tickers_oldest_first_at_the_page_maximum():
    url = splits_url("https://api.example.test/", ["NVDA", "BRK.B"])
    parts = urlsplit(url)
    assert parts.path == "/stocks/v1/splits"
    assert parse_qs(parts.query) == {
        "ticker.any_of": ["NVDA,BRK.B"],
        "sort": ["execution_date.asc"],
        "limit": ["5000"],
    }


def test_splits_url_refuses_a_ticker_that_could_change_the_query():
    with pytest.raises(IdentifierError, match="AAPL&x=1"):
        splits_url("https://api.example.test", ["AAPL&x=1"])


def test_fetch_asks_in_chunks_of_fifty_tickers_through_the_clients_get_pages():
    from runtime.polygon import Page
    from runtime.splits import fetch_split_pages

    class Client:
        base_url = "https://api.example.test"
        urls = []

        def get_pages(self, label, url):
            self.urls.append(url)
            return [Page(f"r{len(self.urls)}", [])]

    client = Client()
    names = [f"T{i}" for i in range(TICKERS_PER_REQUEST + 1)]
    pages = fetch_split_pages(client, names)
    asked = [parse_qs(urlsplit(u).query)["ticker.any_of"][0].split(",") for u in client.urls]
    assert asked == [names[:50], names[50:]]
    assert [p.request_id for p in pages] == ["r1", "r2"]


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"ticker": "MSFT"}, "ticker 'MSFT', which was not asked for"),
        ({"execution_date": "2024-6-10"}, "execution_date '2024-6-10' is not a YYYY-MM-DD"),
        ({"execution_date": None}, "execution_date None is not a YYYY-MM-DD"),
        ({"split_from": 0}, "split_from must be a positive number, got 0"),
        ({"split_to": -2}, "split_to must be a positive number, got -2"),
        ({"split_to": True}, "split_to must be a positive number, got True"),
        ({"split_to": float("nan")}, "split_to must be a positive number, got nan"),
        ({"split_from": "1"}, "split_from must be a positive number, got '1'"),
    ],
)
def test_validate_split_names_what_is_wrong(change, reason):
    assert reason in validate_split({**GOOD, **change}, ["NVDA"])


def test_validate_split_accepts_a_fractional_ratio():
    assert validate_split({**GOOD, "split_from": 2, "split_to": 3.0}, ["NVDA"]) is None
    assert validate_split([GOOD], ["NVDA"]) == "split is a list, not a JSON object"


def test_shape_keeps_the_event_verbatim_with_lineage_and_rejects_the_bad_one():
    shaped = shape_splits(
        [("rq1", [GOOD, {**GOOD, "split_to": 0, "id": "E2"}])],
        tickers=["NVDA"],
        window_from=date(2026, 11, 20),
        window_to=date(2026, 11, 27),
        source="polygon",
        ingested_at="2026-11-28T16:00:00.000Z",
    )
    assert [json.loads(r) for r in shaped.records] == [
        {
            **GOOD,
            "ingested_at": "2026-11-28T16:00:00.000Z",
            "window_from": "2026-11-20",
            "window_to": "2026-11-27",
            "source": "polygon",
            "request_id": "rq1",
        }
    ]
    reject = json.loads(shaped.rejects[0])
    assert reject["reason"] == "split_to must be a positive number, got 0"
    assert reject["payload"]["id"] == "E2" and reject["ticker"] == "NVDA"


def test_demo_lists_the_split_only_from_its_execution_date():
    assert demo_split_events("SPLT", date(2026, 11, 15)) == []
    assert demo_split_events("SPLT", date(2026, 11, 16)) == [
        {
            "id": "demo-SPLT-2026-11-16",
            "ticker": "SPLT",
            "execution_date": "2026-11-16",
            "adjustment_type": "forward_split",
            "split_from": 1,
            "split_to": 2,
            "historical_adjustment_factor": 0.5,
        }
    ]
    assert demo_split_events("AAPL", date(2026, 11, 30)) == []
    pages = demo_split_pages(["AAPL", "SPLT"], date(2026, 11, 13), date(2026, 11, 20))
    assert [e["ticker"] for e in pages[0].results] == ["SPLT"]


def _by_t(result):
    return {b["t"]: b for b in result.bars}


def test_demo_before_the_split_shows_as_traded_bars_twice_the_later_basis():
    base = _by_t(demo_fetch("SPLT", date(2026, 11, 12), date(2026, 11, 13)))
    seen = _by_t(with_demo_splits(demo_fetch("SPLT", date(2026, 11, 12), date(2026, 11, 13))))
    assert seen.keys() == base.keys() and len(seen) == 32
    for t, bar in seen.items():
        for k in ("o", "h", "l", "c"):
            assert bar[k] == round(base[t][k] * 2, 2)
        assert bar["v"] == max(1, round(base[t]["v"] / 2))
        assert bar["n"] == base[t]["n"]


def test_demo_after_the_split_adjusts_the_earlier_bars_and_leaves_the_later_ones():
    window = (date(2026, 11, 13), date(2026, 11, 17))
    base = _by_t(demo_fetch("SPLT", *window))
    seen = _by_t(with_demo_splits(demo_fetch("SPLT", *window)))
    before = [t for t in seen if t < 1_794_819_600_000]  # 2026-11-16 00:00 EST
    after = [t for t in seen if t >= 1_794_819_600_000]
    assert len(before) == 16 and len(after) == 32
    for t in before:  # traded in cents at twice the price, then divided by 2 as the API does
        assert seen[t]["c"] == round(round(base[t]["c"] * 2, 2) / 2, 6)
        assert seen[t]["v"] == max(1, round(base[t]["v"] / 2)) * 2
    for t in after:
        assert seen[t] == base[t]

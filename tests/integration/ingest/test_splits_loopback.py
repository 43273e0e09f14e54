"""A loopback server plays the API before and after a 2-for-1 split (bars and splits endpoints):
the ingest lands the split raw through the bar client, and the published history is on one
basis, equal to the API's adjusted bars, with the as-traded values beside it."""

from __future__ import annotations

from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlsplit

from runtime import steps
from runtime.ingest import run_ingest

KEY = "test-key-not-real"
EXECUTION = date(2026, 11, 16)
# (bar start ms, exchange day, as-traded open): 10:00 EST bars, the cliff at the split; even
# cents, so halving them needs no rounding and Python and the engine agree.
TRADED = [
    (1793977200000, date(2026, 11, 6), 201.36),
    (1794495600000, date(2026, 11, 12), 204.12),
    (1794582000000, date(2026, 11, 13), 206.04),
    (1795014000000, date(2026, 11, 18), 103.4),
]


def api_bar(t, day, traded_open, as_of):
    """The bar as the API gives it with adjusted=true on `as_of`."""
    ratio = 2 if day < EXECUTION <= as_of else 1
    o = traded_open
    return {"t": t, "o": o / ratio, "h": (o + 1) / ratio, "l": (o - 1) / ratio,
            "c": (o + 0.5) / ratio, "v": 1000 * ratio, "vw": (o + 0.26) / ratio, "n": 10}


def bars_page(request_id, window, as_of):
    first, last = window
    results = [api_bar(t, d, o, as_of) for t, d, o in TRADED if first <= d <= last]
    return {"status": "OK", "request_id": request_id, "results": results,
            "resultsCount": len(results)}


SPLIT = {"id": "E8f1", "ticker": "AAPL", "execution_date": "2026-11-16",
         "adjustment_type": "forward_split", "split_from": 1, "split_to": 2,
         "historical_adjustment_factor": 0.5}


def test_before_and_after_a_split_the_published_history_is_on_one_basis(
    polygon, make_client, settings, read_lines
):
    # Run 1 on 2026-11-14: window 11-06..11-13, no split yet.
    polygon.script("AAPL", polygon.Reply(200, bars_page(
        "b1", (date(2026, 11, 6), date(2026, 11, 13)), date(2026, 11, 14))))
    first = run_ingest(settings, source="polygon", end_date=date(2026, 11, 13), days=7,
                       now=datetime(2026, 11, 14, 16, tzinfo=timezone.utc), client=make_client())
    assert (first.bars, first.splits, first.splits_error) == (3, 0, None)

    # Run 2 on 2026-11-19: window 11-11..11-18 adjusted by the API; the split on page 2.
    polygon.script("AAPL", polygon.Reply(200, bars_page(
        "b2", (date(2026, 11, 11), date(2026, 11, 18)), date(2026, 11, 19))))
    polygon.splits_script = [
        polygon.Reply(200, {"status": "OK", "request_id": "s1", "results": [],
                            "next_url": f"{polygon.url}/stocks/v1/splits?cursor=c2"}),
        polygon.Reply(200, {"status": "OK", "request_id": "s2", "results": [SPLIT]}),
    ]
    client = make_client()
    second = run_ingest(settings, source="polygon", end_date=date(2026, 11, 18), days=7,
                        now=datetime(2026, 11, 19, 16, tzinfo=timezone.utc), client=client)
    assert (second.bars, second.splits) == (3, 1)
    assert client.requests_sent == 3  # bars + two splits pages, all through one limiter

    # The splits requests: every ticker in one list, oldest first, key only in the header.
    asked = polygon.splits_seen
    assert [parse_qs(urlsplit(s.raw_path).query) for s in asked[:2]] == [
        {"ticker.any_of": ["AAPL"], "sort": ["execution_date.asc"], "limit": ["5000"]},
        {"ticker.any_of": ["AAPL"], "sort": ["execution_date.asc"], "limit": ["5000"]},
    ]
    assert parse_qs(urlsplit(asked[2].raw_path).query) == {"cursor": ["c2"]}
    assert all(s.headers["Authorization"] == f"Bearer {KEY}" for s in asked)
    assert all(KEY not in s.raw_path for s in asked)
    landed = read_lines(settings.splits_uri)
    assert landed == [{**SPLIT, "ingested_at": "2026-11-19T16:00:00.000Z",
                       "window_from": "2026-11-11", "window_to": "2026-11-18",
                       "source": "polygon", "request_id": "s2"}]

    from runtime.engines import make_engine, make_storage

    engine, storage = make_engine(settings), make_storage(settings)
    try:
        for name in ("crawl", "transform", "dedup"):
            getattr(steps, name)(settings, engine, storage)
        quality = steps.quality(settings, engine, storage,
                                now=datetime(2026, 11, 19, 17, tzinfo=timezone.utc))
        checks = {c.name: c.failing_rows for c in quality.checks}
        assert checks["unexplained_split_jump"] == 0 and checks["splits_applied"] == 1
        published = steps.publish(settings, engine, storage,
                                  now=datetime(2026, 11, 19, 17, tzinfo=timezone.utc))
        rows = engine.execute(
            f"SELECT bar_time_ms, open, high, low, close, volume, vwap, open_traded, "
            f"volume_traded, split_factor FROM {published.view} ORDER BY bar_time_ms"
        ).rows
    finally:
        engine.close()
    # What the API's adjusted bars would give for the whole history today, rounded to 2
    # places as the typed table keeps them; the 11-06 bar was only ever fetched unadjusted.
    today = date(2026, 11, 19)
    expected = []
    for t, day, traded_open in TRADED:
        b = api_bar(t, day, traded_open, today)
        factor = 2.0 if day < EXECUTION else 1.0
        expected.append((t, round(b["o"], 2), round(b["h"], 2), round(b["l"], 2),
                         round(b["c"], 2), float(b["v"]), round(b["vw"], 2),
                         traded_open, 1000.0, factor))
    assert rows == expected


def test_a_failing_splits_endpoint_is_a_warning_and_the_bars_still_land(
    polygon, make_client, settings, read_lines
):
    polygon.script("AAPL", polygon.Reply(200, bars_page(
        "b1", (date(2026, 11, 6), date(2026, 11, 13)), date(2026, 11, 14))))
    polygon.splits_script = [polygon.Reply(503, {"status": "ERROR", "request_id": "x"})]
    summary = run_ingest(settings, source="polygon", end_date=date(2026, 11, 13), days=7,
                         now=datetime(2026, 11, 14, 16, tzinfo=timezone.utc),
                         client=make_client(max_attempts=2))
    assert summary.bars == 3 and summary.splits == 0
    assert "splits: gave up after 2 attempts" in summary.splits_error
    assert "HTTP 503" in summary.splits_error
    assert len(read_lines(settings.raw_uri)) == 3
    assert read_lines(settings.splits_uri) == []


def test_an_invalid_split_event_goes_to_rejects_with_its_reason(
    polygon, make_client, settings, read_lines
):
    polygon.script("AAPL", polygon.Reply(200, bars_page(
        "b1", (date(2026, 11, 6), date(2026, 11, 13)), date(2026, 11, 14))))
    polygon.splits_script = [polygon.Reply(200, {"status": "OK", "request_id": "s9", "results": [
        SPLIT, {**SPLIT, "id": "bad", "split_from": 0}]})]
    summary = run_ingest(settings, source="polygon", end_date=date(2026, 11, 13), days=7,
                         now=datetime(2026, 11, 14, 16, tzinfo=timezone.utc), client=make_client())
    assert (summary.splits, summary.split_rejects) == (1, 1)
    rejects = [r for r in read_lines(settings.rejects_uri) if r["request_id"] == "s9"]
    assert [(r["reason"], r["payload"]["id"]) for r in rejects] == [
        ("split_from must be a positive number, got 0", "bad")]

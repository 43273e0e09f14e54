"""run_ingest against a loopback server playing the Polygon API: each case ends with the right
records on disk (LocalSink objects and rejects/), the right error, nothing lost or duplicated."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from runtime.errors import AuthError, SourceError
from runtime.ingest import IngestFailed, run_ingest
from runtime.storage import LocalStorage

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
END = date(2026, 11, 27)
KEY = "test-key-not-real"
PATH = "/v2/aggs/ticker/{}/range/1/hour/2026-11-20/2026-11-27"
# The documented example's two bars start at 00:00 New York on 2020-01-02 and 2020-01-03: a
# run must ask for those dates, or its bars are out of the window and rejected.
EXAMPLE = {"end": date(2020, 1, 3), "days": 1}


def ingest(settings, client, end=END, days=7, **kw):
    return run_ingest(
        settings, source="polygon", end_date=end, days=days, now=NOW, client=client, **kw
    )


def bar(t, c=10.5):
    return {"c": c, "h": 11.0, "l": 10.0, "o": 10.25, "t": t, "v": 1000, "vw": 10.6, "n": 12}


def page(request_id, results, next_url=None, ticker="AAPL"):
    body = {
        "ticker": ticker,
        "status": "OK",
        "adjusted": True,
        "queryCount": len(results),
        "resultsCount": len(results),
        "request_id": request_id,
        "results": results,
    }
    if next_url:
        body["next_url"] = next_url
    return body


def test_documented_example_lands_verbatim_with_lineage(
    polygon, make_client, settings, read_lines, example_body
):
    # GIVEN the API answers the documented example response
    polygon.script("AAPL", polygon.Reply(200, example_body))
    # WHEN one ticker is ingested
    summary = ingest(settings, make_client(), **EXAMPLE)
    # THEN both bars are written as JSON lines, fields as given plus lineage, key order fixed
    objects = LocalStorage().list(settings.raw_uri)
    assert len(objects) == 1
    first_line = LocalStorage().read(objects[0]).split(b"\n")[0].decode()
    assert first_line == (
        '{"ticker":"AAPL","t":1577941200000,"o":74.06,"h":75.15,"l":73.7975,"c":75.0875,'
        '"v":135647456,"vw":74.6099,"n":1,"ingested_at":"2026-11-29T12:00:00.000Z",'
        '"request_id":"6a7e466379af0a71039d60cc78e72282","window_from":"2020-01-02",'
        '"window_to":"2020-01-03","source":"polygon"}'
    )
    rows = read_lines(settings.raw_uri)
    assert [(r["t"], r["o"], r["c"], r["v"], r["vw"]) for r in rows] == [
        (1577941200000, 74.06, 75.0875, 135647456, 74.6099),
        (1578027600000, 74.2875, 74.3575, 146535512, 74.7026),
    ]
    assert "otc" not in rows[0]  # absent in the source, absent in the record
    assert summary.bars == 2 and summary.rejects == 0
    assert summary.per_ticker["AAPL"]["request_ids"] == ["6a7e466379af0a71039d60cc78e72282"]
    # AND the request carried the documented parameters and the key only as a Bearer header
    (req,) = polygon.seen
    assert req.path == "/v2/aggs/ticker/AAPL/range/1/hour/2020-01-02/2020-01-03"
    assert req.query == {"adjusted": ["true"], "sort": ["asc"], "limit": ["50000"]}
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in req.raw_path
    # AND the object key follows Firehose's layout
    rel = objects[0][len(settings.raw_uri) :]
    parts = rel.split("/")
    assert len(parts) == 5 and parts[4].startswith("stockpipe-local-1-")


def test_pagination_follows_next_url_across_three_pages(polygon, make_client, settings, read_lines):
    base = polygon.url + PATH.format("AAPL")
    polygon.script(
        "AAPL",
        polygon.Reply(
            200, page("r1", [bar(1795165200000), bar(1795168800000)], f"{base}?cursor=p2")
        ),
    )
    polygon.script(
        "AAPL",
        polygon.Reply(
            200, page("r2", [bar(1795172400000), bar(1795176000000)], f"{base}?cursor=p3")
        ),
        cursor="p2",
    )
    polygon.script("AAPL", polygon.Reply(200, page("r3", [bar(1795179600000)])), cursor="p3")

    summary = ingest(settings, make_client())

    rows = read_lines(settings.raw_uri)
    assert [(r["t"], r["request_id"]) for r in rows] == [
        (1795165200000, "r1"),
        (1795168800000, "r1"),
        (1795172400000, "r2"),
        (1795176000000, "r2"),
        (1795179600000, "r3"),
    ]
    assert summary.per_ticker["AAPL"]["pages"] == 3
    assert summary.per_ticker["AAPL"]["request_ids"] == ["r1", "r2", "r3"]
    # every page sent the key again, as a header, never in the URL
    assert [s.query.get("cursor") for s in polygon.seen] == [None, ["p2"], ["p3"]]
    assert all(s.headers["Authorization"] == f"Bearer {KEY}" for s in polygon.seen)
    assert all(KEY not in s.raw_path for s in polygon.seen)


def test_429_waits_retry_after_then_succeeds(
    polygon, make_client, clock, settings, read_lines, example_body
):
    limited = {
        "status": "ERROR",
        "request_id": "rl1",
        "error": "You've exceeded the maximum requests per minute",
    }
    polygon.script(
        "AAPL", polygon.Reply(429, limited, {"Retry-After": "7"}), polygon.Reply(200, example_body)
    )

    summary = ingest(settings, make_client(), **EXAMPLE)

    assert clock.sleeps == [7.0]  # Retry-After beats the 1 s first backoff
    assert len(polygon.seen) == 2
    assert [r["t"] for r in read_lines(settings.raw_uri)] == [1577941200000, 1578027600000]
    assert summary.bars == 2


def test_two_500s_back_off_exponentially_then_succeed(
    polygon, make_client, clock, settings, read_lines, example_body
):
    polygon.script(
        "AAPL",
        polygon.Reply(500, "oops"),
        polygon.Reply(502, "bad gateway"),
        polygon.Reply(200, example_body),
    )

    ingest(settings, make_client(backoff_base=1.5), **EXAMPLE)

    assert clock.sleeps == [1.5, 3.0]
    assert len(polygon.seen) == 3
    rows = read_lines(settings.raw_uri)
    assert len(rows) == 2 and len({r["t"] for r in rows}) == 2


def test_persistent_5xx_gives_up_after_max_attempts(polygon, make_client, clock, settings):
    polygon.script("AAPL", polygon.Reply(503, {"status": "ERROR", "request_id": "x"}))
    with pytest.raises(IngestFailed, match=r"AAPL.*gave up.*after 3 attempts.*HTTP 503"):
        ingest(settings, make_client(max_attempts=3))
    assert len(polygon.seen) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_401_raises_auth_error_at_once_and_writes_nothing(polygon, make_client, settings):
    settings = settings.replace(tickers=("AAPL", "MSFT"))
    polygon.script(
        "AAPL",
        polygon.Reply(401, {"status": "ERROR", "request_id": "a1", "error": "Unknown API Key"}),
    )
    with pytest.raises(AuthError) as err:
        ingest(settings, make_client())
    msg = str(err.value)
    assert "HTTP 401" in msg and "Unknown API Key" in msg
    assert "missing, wrong, or not entitled" in msg
    assert KEY not in msg
    assert len(polygon.seen) == 1  # no retry, and MSFT is not tried with a bad key
    assert LocalStorage().list(settings.raw_uri) == []


def test_403_is_an_auth_error_too(polygon, make_client, settings):
    polygon.script(
        "AAPL",
        polygon.Reply(
            403,
            {
                "status": "NOT_AUTHORIZED",
                "request_id": "a2",
                "message": "not entitled to this data",
            },
        ),
    )
    with pytest.raises(AuthError, match="HTTP 403.*not entitled to this data"):
        ingest(settings, make_client())


def test_malformed_json_fails_that_ticker_and_keeps_the_others(
    polygon, make_client, settings, read_lines, example_body
):
    settings = settings.replace(tickers=("AAPL", "MSFT"))
    polygon.script("AAPL", polygon.Reply(200, b'{"status":"OK","results":[{"c":1,'))
    polygon.script("MSFT", polygon.Reply(200, dict(example_body, ticker="MSFT")))

    with pytest.raises(IngestFailed) as err:
        ingest(settings, make_client(), **EXAMPLE)

    assert "1 of 2 ticker(s) failed (AAPL)" in str(err.value)
    assert "not JSON" in str(err.value)
    summary = err.value.summary
    assert (
        summary.per_ticker["AAPL"]["bars"] == 0
        and "not JSON" in summary.per_ticker["AAPL"]["error"]
    )
    assert summary.per_ticker["MSFT"]["error"] is None
    rows = read_lines(settings.raw_uri)
    assert [(r["ticker"], r["t"]) for r in rows] == [
        ("MSFT", 1577941200000),
        ("MSFT", 1578027600000),
    ]


def test_status_error_names_ticker_and_request_id(polygon, make_client, settings):
    polygon.script(
        "AAPL",
        polygon.Reply(
            200, {"status": "ERROR", "request_id": "req-err-9", "error": "internal problem"}
        ),
    )
    with pytest.raises(
        IngestFailed,
        match=r"AAPL: Polygon answered status 'ERROR' \(request_id "
        r"req-err-9\): internal problem",
    ):
        ingest(settings, make_client())


def test_body_of_wrong_shape_is_a_source_error(make_client, polygon):
    polygon.script(
        "AAPL", polygon.Reply(200, {"status": "OK", "request_id": "s1", "results": {"c": 1}})
    )
    with pytest.raises(
        SourceError, match=r"AAPL: 'results' is a dict, not a list \(request_id s1\)"
    ):
        make_client().fetch_aggregates("AAPL", date(2026, 11, 20), END)


def test_read_timeout_is_retried_then_reported(
    polygon, make_client, clock, settings, read_lines, example_body
):
    settings = settings.replace(tickers=("AAPL", "MSFT"))
    # AAPL hangs once, then answers; MSFT hangs every time.
    polygon.script(
        "AAPL", polygon.Reply(200, example_body, delay=5), polygon.Reply(200, example_body)
    )
    polygon.script("MSFT", polygon.Reply(200, example_body, delay=5))

    with pytest.raises(IngestFailed) as err:
        ingest(settings, make_client(timeout=(2.0, 0.3), max_attempts=2), **EXAMPLE)

    assert "(MSFT)" in str(err.value) and "timed out" in str(err.value)
    rows = read_lines(settings.raw_uri)
    assert [(r["ticker"], r["t"]) for r in rows] == [
        ("AAPL", 1577941200000),
        ("AAPL", 1578027600000),
    ]
    assert len(polygon.requests_for("AAPL")) == 2 and len(polygon.requests_for("MSFT")) == 2


def test_bar_missing_close_goes_to_rejects_with_reason(polygon, make_client, settings, read_lines):
    broken = {"h": 11.0, "l": 10.0, "o": 10.25, "t": 1795168800000, "v": 1000}
    polygon.script(
        "AAPL", polygon.Reply(200, page("rq-7", [bar(1795165200000), broken, bar(1795172400000)]))
    )

    summary = ingest(settings, make_client())

    assert [r["t"] for r in read_lines(settings.raw_uri)] == [1795165200000, 1795172400000]
    (reject,) = read_lines(settings.rejects_uri)
    assert reject["reason"] == "missing required field 'c'"
    assert reject["ticker"] == "AAPL" and reject["request_id"] == "rq-7"
    assert reject["payload"] == broken
    assert summary.bars == 2 and summary.rejects == 1
    assert summary.per_ticker["AAPL"]["rejects"] == 1
    # rejects use the same YYYY/MM/DD/HH/ layout beside raw/
    (uri,) = LocalStorage().list(settings.rejects_uri)
    assert len(uri[len(settings.rejects_uri) :].split("/")) == 5


def test_bars_outside_the_requested_window_go_to_rejects_with_reason(
    polygon, make_client, settings, read_lines
):
    # The window is 2026-11-20..27 in New York: 05:00 UTC on the 20th is its first instant,
    # 05:00 UTC on the 28th the first instant after it.
    first, after = 1795150800000, 1795842000000
    polygon.script(
        "AAPL",
        polygon.Reply(200, page("rq-8", [bar(first - 3_600_000), bar(first), bar(after - 3_600_000),
                                         bar(after), bar(32503680000000)])),
    )

    summary = ingest(settings, make_client())

    assert [r["t"] for r in read_lines(settings.raw_uri)] == [first, after - 3_600_000]
    rejects = read_lines(settings.rejects_uri)
    assert [(r["payload"]["t"], r["reason"]) for r in rejects] == [
        (first - 3_600_000, "bar time 2026-11-20T04:00:00.000Z (t 1795147200000) is outside the "
         "requested window 2026-11-20..2026-11-27 (exchange dates, America/New_York)"),
        (after, "bar time 2026-11-28T05:00:00.000Z (t 1795842000000) is outside the "
         "requested window 2026-11-20..2026-11-27 (exchange dates, America/New_York)"),
        (32503680000000, "field 't' 32503680000000 is outside 1990..2100 in Unix milliseconds"),
    ]
    assert (summary.bars, summary.rejects) == (2, 3)


def test_empty_window_is_normal_and_writes_nothing(polygon, make_client, settings, caplog):
    empty = {
        "ticker": "AAPL",
        "status": "OK",
        "adjusted": True,
        "queryCount": 0,
        "resultsCount": 0,
        "request_id": "e1",
    }
    polygon.script("AAPL", polygon.Reply(200, empty))
    with caplog.at_level("INFO", logger="runtime.polygon"):
        summary = ingest(settings, make_client())
    assert summary.bars == 0 and summary.rejects == 0 and summary.objects == 0
    assert summary.per_ticker["AAPL"] == {
        "bars": 0,
        "rejects": 0,
        "pages": 1,
        "request_ids": ["e1"],
        "error": None,
    }
    assert LocalStorage().list(settings.raw_uri) == []
    assert any("no bars for AAPL" in r.getMessage() for r in caplog.records)


def test_ticker_with_dot_is_quoted_into_the_path(polygon, make_client, example_body):
    polygon.script("BRK.B", polygon.Reply(200, dict(example_body, ticker="BRK.B")))
    result = make_client().fetch_aggregates("brk.b", date(2026, 11, 20), END)
    assert len(result.bars) == 2
    assert polygon.seen[0].path == PATH.format("BRK.B")


def test_next_url_naming_the_rebranded_host_is_followed_on_the_configured_base(
    polygon, make_client
):
    # Since the rebrand the API's links name api.massive.com whatever host was asked: follow
    # the link's path and query on our own base URL (the reference client's behaviour).
    massive = "https://api.massive.com" + PATH.format("AAPL") + "?cursor=p2&limit=50000"
    polygon.script("AAPL", polygon.Reply(200, page("m1", [bar(1795165200000)], massive)))
    polygon.script("AAPL", polygon.Reply(200, page("m2", [bar(1795168800000)])), cursor="p2")
    result = make_client().fetch_aggregates("AAPL", date(2026, 11, 20), END)
    assert [b["t"] for b in result.bars] == [1795165200000, 1795168800000]
    assert result.request_ids == ["m1", "m2"]
    assert [s.path for s in polygon.seen] == [PATH.format("AAPL")] * 2
    assert polygon.seen[1].query == {"cursor": ["p2"], "limit": ["50000"]}


def test_next_url_on_any_other_host_never_receives_the_key(polygon, make_client):
    evil = (
        "https://evil.example.com/v2/aggs/ticker/AAPL/range/1/hour/2026-11-20/2026-11-27?cursor=x"
    )
    polygon.script("AAPL", polygon.Reply(200, page("h1", [bar(1795165200000)], evil)))
    polygon.script("AAPL", polygon.Reply(200, page("h2", [])), cursor="x")
    make_client().fetch_aggregates("AAPL", date(2026, 11, 20), END)
    # Both requests, with the key header, went to the loopback base; none left for evil.
    assert len(polygon.seen) == 2
    assert all(s.headers.get("Authorization") == f"Bearer {KEY}" for s in polygon.seen)


@pytest.mark.parametrize("link", ["ftp://api.massive.com/v2/x", "cursor=2", "//"])
def test_next_url_that_is_not_an_http_path_is_an_error_naming_it(polygon, make_client, link):
    polygon.script("AAPL", polygon.Reply(200, page("b1", [bar(1795165200000)], link)))
    with pytest.raises(SourceError, match=r"next_url .* is not an http\(s\) link with a path"):
        make_client().fetch_aggregates("AAPL", date(2026, 11, 20), END)
    assert len(polygon.seen) == 1


def test_rate_limit_spaces_requests_of_many_pages(polygon, make_client, clock):
    # 7 pages at 5/min: pages 6 and 7 wait for the first requests to leave the 60 s window.
    base = polygon.url + PATH.format("AAPL")
    for i in range(7):
        cursor = None if i == 0 else f"c{i}"
        nxt = f"{base}?cursor=c{i + 1}" if i < 6 else None
        polygon.script(
            "AAPL",
            polygon.Reply(200, page(f"r{i}", [bar(1795165200000 + i * 3600000)], nxt)),
            cursor=cursor,
        )
    result = make_client().fetch_aggregates("AAPL", date(2026, 11, 20), END)
    assert len(result.bars) == 7
    assert clock.sleeps == [60.0]  # one wait frees all five slots at t=60
    assert json.dumps(result.request_ids) == json.dumps([f"r{i}" for i in range(7)])


def test_deadline_stops_before_a_rate_limit_wait_and_keeps_fetched_bars(
    polygon, make_client, clock, settings, read_lines, example_body
):
    from runtime.polygon import DeadlineExceeded

    # GIVEN 40 s of budget, five requests already spent on four tickers' pages
    start = clock.now
    settings = settings.replace(tickers=("AAPL", "MSFT", "IBM", "KO", "PEP", "XOM"))
    for t in settings.tickers:
        polygon.script(t, polygon.Reply(200, dict(example_body, ticker=t)))
    client = make_client(time_left=lambda: 40.0 - (clock.now - start))
    # WHEN the sixth request would have to wait 60 s for the free tier's window
    with pytest.raises(
        DeadlineExceeded, match=r"XOM: stopping early: the rate limit needs 60\.0 s"
    ):
        ingest(settings, client, **EXAMPLE)
    # THEN nothing slept, XOM was never requested, and the five tickers' bars were delivered
    assert clock.sleeps == []
    assert len(polygon.seen) == 5
    rows = read_lines(settings.raw_uri)
    assert sorted({r["ticker"] for r in rows}) == ["AAPL", "IBM", "KO", "MSFT", "PEP"]
    assert len(rows) == 10


def test_deadline_refuses_a_retry_after_longer_than_the_time_left(polygon, make_client, clock):
    from runtime.polygon import DeadlineExceeded

    polygon.script(
        "AAPL", polygon.Reply(429, {"status": "ERROR", "request_id": "q"}, {"Retry-After": "30"})
    )
    client = make_client(time_left=lambda: 10.0)
    with pytest.raises(DeadlineExceeded, match=r"AAPL: stopping early: retry 2 after HTTP 429"):
        client.fetch_aggregates("AAPL", date(2026, 11, 20), END)
    assert clock.sleeps == [] and len(polygon.seen) == 1


def test_next_url_pointing_back_is_a_loop_not_an_endless_fetch(polygon, make_client):
    first = polygon.url + PATH.format("AAPL") + "?adjusted=true&sort=asc&limit=50000"
    polygon.script("AAPL", polygon.Reply(200, page("L1", [bar(1795165200000)], first)))
    with pytest.raises(
        SourceError, match=r"AAPL: next_url repeats an earlier page \(request_id L1\)"
    ):
        make_client().fetch_aggregates("AAPL", date(2026, 11, 20), END)
    assert len(polygon.seen) == 1

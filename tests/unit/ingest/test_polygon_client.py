"""Rate limiter with a fake clock, and the client's offline checks."""

from __future__ import annotations

from datetime import date

import pytest

from runtime.errors import AuthError, ConfigError
from runtime.polygon import PolygonClient, RateLimiter, parse_retry_after, redact


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, s):
        self.sleeps.append(s)
        self.now += s


def test_free_tier_allows_five_per_minute_then_waits():
    clock = FakeClock()
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    granted = []
    for _ in range(12):
        limiter.acquire()
        granted.append(clock.now)
        clock.now += 1.0  # each request takes a second
    # 5 at t=0..4, then each waits for the slot freed 60 s after its predecessor five back
    assert granted == [0, 1, 2, 3, 4, 60, 61, 62, 63, 64, 120, 121]
    assert clock.sleeps == [55.0, 55.0]
    assert limiter.waited == 110.0


def test_slow_requests_never_wait():
    clock = FakeClock()
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        assert limiter.acquire() == 0.0
        clock.now += 12.0
    assert clock.sleeps == []


def test_fractional_rate_spaces_single_requests():
    clock = FakeClock()
    limiter = RateLimiter(0.5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()
    assert clock.now == 120.0


def test_rate_must_be_positive():
    with pytest.raises(ConfigError, match="more than 0 requests per minute, got 0"):
        RateLimiter(0)


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("7", 7.0),
        ("0", 0.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("soon", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value) == seconds


def test_missing_key_is_an_auth_error_that_suggests_demo():
    with pytest.raises(AuthError, match="no Polygon API key.*--source demo"):
        PolygonClient("", "http://127.0.0.1:1")
    with pytest.raises(AuthError):
        PolygonClient(None)


@pytest.mark.parametrize(
    "url", ["ftp://x", "api.polygon.io", "https://u:p@host", "https://h/?apiKey=1"]
)
def test_base_url_must_be_plain_http(url):
    with pytest.raises(ConfigError, match="POLYGON_BASE_URL"):
        PolygonClient("test-key-not-real", url)


def test_url_has_documented_params_and_quoted_ticker_but_no_key():
    client = PolygonClient("test-key-not-real", "https://api.polygon.io/")
    url = client.aggregates_url("BRK.B", date(2026, 11, 20), date(2026, 11, 27))
    assert url == (
        "https://api.polygon.io/v2/aggs/ticker/BRK.B/range/1/hour/2026-11-20/2026-11-27"
        "?adjusted=true&sort=asc&limit=50000"
    )
    assert "test-key-not-real" not in repr(client)
    assert client.aggregates_url("X:BTCUSD", date(2026, 1, 1), date(2026, 1, 2)).split("/")[6] == (
        "X%3ABTCUSD"
    )


def test_redact_hides_the_key_in_server_text():
    assert redact("bad key test-key-not-real here", "test-key-not-real") == "bad key *** here"
    assert redact("nothing", None) == "nothing"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_names_the_host_and_stops_the_whole_ingest(tmp_path):
    from runtime.ingest import run_ingest
    from runtime.polygon import SourceUnreachable
    from runtime.settings import Settings

    port = _closed_port()
    client = PolygonClient("test-key-not-real", f"http://127.0.0.1:{port}",
                           sleep=lambda s: None, max_attempts=3)
    settings = Settings(home=tmp_path, tickers=("AAPL", "MSFT", "IBM"),
                        polygon_api_key="test-key-not-real")
    with pytest.raises(SourceUnreachable) as err:
        run_ingest(settings, source="polygon", end_date=date(2026, 11, 27), client=client)
    assert str(err.value) == (
        f"AAPL: cannot connect to 127.0.0.1:{port}: connection refused (after 3 attempts); "
        "check POLYGON_BASE_URL and the network, or try again later"
    )
    # MSFT and IBM would meet the same closed port: not tried, no 3 x 15 s of retries
    assert client.requests_sent == 3


class _OkSession:
    """Answers every request with one empty page of the documented envelope."""

    class _Resp:
        status_code = 200
        headers: dict = {}
        content = b'{"status":"OK","request_id":"rq-1","results":[],"resultsCount":0}'

        def iter_content(self, chunk_size=1):
            yield self.content

        def close(self):
            pass

    def get(self, url, **kw):
        return self._Resp()

    def close(self):
        pass


def test_a_rate_limit_wait_is_logged_with_its_length(caplog):
    import logging

    clock = FakeClock()
    client = PolygonClient("test-key-not-real", session=_OkSession(), clock=clock,
                           sleep=clock.sleep)
    with caplog.at_level(logging.INFO, logger="runtime.polygon"):
        for ticker in ("A", "B", "C", "D", "E", "F"):
            client.fetch_aggregates(ticker, date(2026, 11, 20), date(2026, 11, 27))
            clock.now += 1.0
    waits = [r.getMessage() for r in caplog.records if "rate limit" in r.getMessage()]
    # five requests at t = 0..4; the sixth, at t = 5, waits until t = 60
    assert waits == ["F: waiting 55 s for the rate limit (5 requests/minute)"]
    assert clock.sleeps == [55.0]

"""The Polygon client against hostile loopback servers: one that trickles its answer a byte at a
time, one whose body never ends, one that announces 200 MB, one that sends more bars than the
window has hours. Every server loop is bounded (bytes and a stop event), so each test ends by
itself within seconds even if the client did not stop; the assertions are on what the client
raised and on how much the server got to send before the client hung up."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import date, datetime, timezone
from typing import Callable, Dict, List

import pytest

from runtime.errors import SourceError
from runtime.polygon import DeadlineExceeded, PolygonClient

KEY = "test-key-not-real"
START, END = date(2026, 11, 20), date(2026, 11, 27)
PAGE = json.dumps({"status": "OK", "request_id": "slow-page", "results": [],
                   "resultsCount": 0}).encode()
TRICKLE_EVERY = 0.08  # seconds between bytes: far below any per-read timeout


class Served:
    """What one connection's handler managed to send, and whether the client hung up first."""

    def __init__(self) -> None:
        self.sent = 0
        self.hung_up = False


class RawServer:
    """A loopback TCP server; `behave(conn, path, served, stop)` answers each request."""

    def __init__(self, behave: Callable[..., None]):
        self.behave = behave
        self.stop = threading.Event()
        self.served: List[Served] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        served = Served()
        self.served.append(served)
        conn.settimeout(2.0)
        try:
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            path = request.split(b" ", 2)[1].decode()
            self.behave(conn, path, served, self.stop)
        except OSError:  # the client hung up (broken pipe, reset): what the tests provoke
            served.hung_up = True
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(2)


def send(conn: socket.socket, data: bytes, served: Served) -> None:
    conn.sendall(data)
    served.sent += len(data)


def headers(length: int = -1) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", "Connection: close"]
    if length >= 0:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def trickle_body(conn, path, served, stop):
    """A valid page, one byte every TRICKLE_EVERY s (about 4 s for all of it)."""
    send(conn, headers(len(PAGE)), served)
    for i in range(len(PAGE)):
        if stop.wait(TRICKLE_EVERY):
            return
        send(conn, PAGE[i : i + 1], served)


def trickle_headers(conn, path, served, stop):
    """The status line, then a header a byte at a time (about 3 s), then a valid page."""
    send(conn, b"HTTP/1.1 200 OK\r\n", served)
    for ch in b"X-Slow: " + b"a" * 30 + b"\r\n":
        if stop.wait(TRICKLE_EVERY):
            return
        send(conn, bytes([ch]), served)
    send(conn, headers(len(PAGE)).split(b"\r\n", 1)[1] + PAGE, served)


ENDLESS_LIMIT = 64 * 1024 * 1024


def endless_body(conn, path, served, stop):
    """A page whose results never end (no Content-Length), bounded at 64 MiB for the test."""
    bar = json.dumps({"t": 1795186800000, "o": 1, "h": 1, "l": 1, "c": 1, "v": 1}).encode()
    send(conn, headers() + b'{"status":"OK","request_id":"endless","results":[', served)
    chunk = (bar + b",") * 1000
    while served.sent < ENDLESS_LIMIT and not stop.is_set():
        send(conn, chunk, served)


def huge_declared(conn, path, served, stop):
    """Announces 200 MB and starts sending them, bounded at 16 MiB for the test."""
    send(conn, headers(200_000_000) + b'{"status":"OK","request_id":"huge","results":[', served)
    chunk = b" " * 65536
    while served.sent < 16 * 1024 * 1024 and not stop.is_set():
        send(conn, chunk, served)


@pytest.fixture
def serve(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    servers: List[RawServer] = []

    def start(behave: Callable[..., None]) -> RawServer:
        server = RawServer(behave)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def client_for(server: RawServer, **kw) -> PolygonClient:
    kw.setdefault("rate_limit_per_min", 6000)
    kw.setdefault("timeout", (2.0, 2.0))  # per socket read: a trickle never trips it
    kw.setdefault("max_attempts", 1)
    kw.setdefault("sleep", lambda s: None)
    return PolygonClient(KEY, server.url, **kw)


@pytest.mark.parametrize("behave", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_a_trickling_server_is_cut_off_at_the_request_deadline(serve, behave):
    # GIVEN a server that sends a valid page a byte at a time, each byte well within the
    # per-read timeout
    server = serve(behave)
    # WHEN the client allows 1 s per request
    with pytest.raises(SourceError) as err:
        client_for(server, request_deadline=1.0).fetch_aggregates("AAPL", START, END)
    # THEN it gives up at the deadline instead of waiting for the whole page
    assert "no complete answer from 127.0.0.1" in str(err.value)
    assert "within 1.0 s" in str(err.value)
    (served,) = server.served
    assert served.sent < len(headers(len(PAGE))) + len(PAGE)


def test_a_trickle_is_retried_within_the_attempts_then_reported(serve):
    server = serve(trickle_body)
    with pytest.raises(SourceError, match="gave up after 2 attempts.*no complete answer"):
        client_for(server, request_deadline=0.5, max_attempts=2).fetch_aggregates(
            "AAPL", START, END
        )
    assert len(server.served) == 2


def test_an_endless_body_stops_at_the_byte_cap(serve):
    server = serve(endless_body)
    with pytest.raises(SourceError) as err:
        client_for(server, max_body_bytes=256 * 1024).fetch_aggregates("AAPL", START, END)
    assert "the answer exceeds the cap of 262,144 bytes" in str(err.value)
    assert str(err.value).startswith("AAPL: ")
    time.sleep(0.2)  # let the server notice the hang-up
    (served,) = server.served
    assert served.hung_up and served.sent < ENDLESS_LIMIT


def test_the_byte_cap_follows_the_window(serve):
    # A 3-date window holds at most 75 hourly bars: about 1.1 MB of JSON at most, so an answer
    # past that is not read further even though the client's own cap is 64 MiB.
    server = serve(endless_body)
    client = client_for(server)
    assert client.max_body_bytes == 64 * 1024 * 1024
    with pytest.raises(SourceError, match=r"exceeds the cap of 1,125,376 bytes"):
        client.fetch_aggregates("AAPL", date(2026, 11, 25), END)


def test_a_body_announced_at_200_mb_is_refused_before_reading(serve):
    server = serve(huge_declared)
    with pytest.raises(SourceError) as err:
        client_for(server).fetch_aggregates("AAPL", START, END)
    assert "declares 200,000,000 bytes, over the cap of 1,253,376" in str(err.value)
    time.sleep(0.2)
    (served,) = server.served
    assert served.hung_up and served.sent < 16 * 1024 * 1024


def test_the_run_deadline_stops_the_run_not_just_the_request(serve):
    # GIVEN AAPL answers at once and MSFT trickles
    def route(conn, path, served, stop):
        if "/MSFT/" in path:
            trickle_body(conn, path, served, stop)
        else:
            send(conn, headers(len(PAGE)) + PAGE, served)

    server = serve(route)
    client = client_for(server, request_deadline=30.0, run_deadline=1.0, max_attempts=3)
    # WHEN the run may last 1 s
    assert client.fetch_aggregates("AAPL", START, END).request_ids == ["slow-page"]
    with pytest.raises(DeadlineExceeded, match=r"the run's 1 s deadline"):
        client.fetch_aggregates("MSFT", START, END)
    # THEN MSFT's request was cut at the run's end, and no retry was started after it
    assert len(server.served) == 2


def test_the_lambdas_remaining_time_bounds_each_request(serve):
    # The handler passes context.get_remaining_time_in_millis(): 2 s left, 0.5 s kept in
    # reserve, so a request may take 1.5 s though its own deadline is 30 s.
    started = time.monotonic()
    server = serve(trickle_body)
    client = client_for(
        server,
        request_deadline=30.0,
        max_attempts=3,
        time_left=lambda: 2.0 - (time.monotonic() - started),
        reserve_seconds=0.5,
    )
    with pytest.raises(DeadlineExceeded, match="raise the Lambda timeout"):
        client.fetch_aggregates("AAPL", START, END)
    (served,) = server.served
    assert served.sent < len(headers(len(PAGE))) + len(PAGE)


def bars_page(n: int) -> Dict:
    t0 = int(datetime(2026, 11, 25, 14, tzinfo=timezone.utc).timestamp() * 1000)
    results = [{"t": t0 + i * 3_600_000, "o": 1, "h": 1, "l": 1, "c": 1, "v": 1}
               for i in range(n)]
    return {"status": "OK", "request_id": f"bars-{n}", "results": results, "resultsCount": n}


@pytest.mark.parametrize("n, refused", [(75, False), (76, True)])
def test_more_bars_than_the_window_has_hours_are_refused(serve, n, refused):
    # 2026-11-25..27 is 3 dates: at most 75 hours (a day has 25 when daylight saving time ends)
    body = json.dumps(bars_page(n)).encode()

    def answer(conn, path, served, stop):
        send(conn, headers(len(body)) + body, served)

    server = serve(answer)
    client = client_for(server)
    if refused:
        with pytest.raises(SourceError, match=r"AAPL: Polygon sent 76 bars for 2026-11-25\.\."
                                              r"2026-11-27 \(request_id bars-76\), more than "
                                              r"the 75 hours"):
            client.fetch_aggregates("AAPL", date(2026, 11, 25), END)
    else:
        assert len(client.fetch_aggregates("AAPL", date(2026, 11, 25), END).bars) == 75


@pytest.mark.parametrize("name, value", [("request_deadline", 0), ("run_deadline", -1.0),
                                         ("max_body_bytes", 0)])
def test_limits_must_be_positive(name, value):
    from runtime.errors import ConfigError

    with pytest.raises(ConfigError, match=f"{name} must be more than 0, got {value}"):
        PolygonClient(KEY, "http://127.0.0.1:9", **{name: value})

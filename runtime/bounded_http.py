"""HTTP reads with a wall-clock deadline per request and a cap on body bytes, over requests.

requests' timeouts bound each socket read, not the whole exchange: a server that sends one
byte every few seconds resets them forever, and a body without end grows memory until the
process dies. A watchdog thread shuts the request's socket down at its deadline (a blocked read
then returns at once), and bodies are read in chunks that stop at a cap.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import SourceError

CHUNK_BYTES = 64 * 1024


class BodyTooLarge(SourceError):
    """A response body is (or says it is) larger than the cap."""

    def __init__(self, message: str, size: int):
        super().__init__(message)
        self.size = size


class LiveConnection:
    """The connection the session's current request uses, for the watchdog to shut."""

    def __init__(self) -> None:
        self.conn: Any = None


def track_connections(session: Any) -> Optional[LiveConnection]:
    """Make `session` (a requests.Session) note the connection each request takes from its
    pools, and each connection its socket.

    Without this, a request still waiting for its status line has no handle the watchdog could
    use; and http.client drops `conn.sock` as soon as an answer says "Connection: close", while
    its body is still being read from that socket. Returns None when the session is not a
    requests.Session with urllib3 pools (a test's fake): the deadline is then checked between
    body chunks only."""
    adapters = getattr(session, "adapters", None)
    if not isinstance(adapters, dict):
        return None
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    live = LiveConnection()

    def tracking(pool_base: Any, conn_base: Any) -> Any:
        class TrackingConnection(conn_base):  # type: ignore[misc, valid-type]
            def _new_conn(self) -> Any:
                sock = super()._new_conn()
                self.raw_socket = sock
                return sock

        class TrackingPool(pool_base):  # type: ignore[misc, valid-type]
            ConnectionCls = TrackingConnection

            def _get_conn(self, timeout: Optional[float] = None) -> Any:
                conn = super()._get_conn(timeout)
                live.conn = conn
                return conn

        return TrackingPool

    classes = {
        "http": tracking(HTTPConnectionPool, HTTPConnection),
        "https": tracking(HTTPSConnectionPool, HTTPSConnection),
    }
    for adapter in adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            manager.pool_classes_by_scheme = classes
    return live


class Watchdog:
    """Shuts the live connection's socket down `seconds` after entering; `fired` says it did."""

    def __init__(self, seconds: float, live: Optional[LiveConnection],
                 clock: Callable[[], float] = time.monotonic):
        self.seconds = max(0.0, seconds)
        self.live = live
        self.clock = clock
        self.fired = False
        self.ends = 0.0
        self._timer: Optional[threading.Timer] = None

    def expired(self) -> bool:
        return self.fired or self.clock() >= self.ends

    def _fire(self) -> None:
        self.fired = True
        conn = self.live.conn if self.live is not None else None
        sock = getattr(conn, "raw_socket", None) or getattr(conn, "sock", None)
        if sock is not None:
            try:
                # shutdown, not close: it wakes a read blocked in another thread (close does not)
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> Watchdog:
        self.ends = self.clock() + self.seconds
        if self.live is not None:
            self.live.conn = None
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


def declared_length(resp: Any) -> Optional[int]:
    value = (getattr(resp, "headers", None) or {}).get("Content-Length")
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def read_capped(resp: Any, cap: int, dog: Watchdog, *, truncate: bool = False) -> bytes:
    """The body of a streamed response, at most `cap` bytes (decoded, so a gzip bomb counts in
    full). Over the cap: BodyTooLarge, or with `truncate` the first `cap` bytes. Stops at the
    watchdog's deadline (the caller checks `dog.fired`)."""
    declared = declared_length(resp)
    if declared is not None and declared > cap and not truncate:
        raise BodyTooLarge(f"the answer declares {declared:,} bytes, over the cap of {cap:,}",
                           declared)
    chunks = []
    size = 0
    for chunk in resp.iter_content(chunk_size=CHUNK_BYTES):
        if size + len(chunk) > cap:
            if truncate:
                chunks.append(chunk[: cap - size])
                break
            raise BodyTooLarge(f"the answer exceeds the cap of {cap:,} bytes", size + len(chunk))
        chunks.append(chunk)
        size += len(chunk)
        if dog.expired():
            break
    return b"".join(chunks)


def get_bounded(
    session: Any,
    url: str,
    headers: Dict[str, str],
    timeout: Tuple[float, float],
    dog: Watchdog,
    cap: int,
    error_cap: int,
) -> Tuple[Any, bytes]:
    """GET `url` streamed, under `dog`: the (closed) response and its body, at most `cap`
    bytes of a 200 answer and the first `error_cap` bytes of any other. Redirects are not
    followed: one could carry the request's Authorization header to another host."""
    with dog:
        resp = session.get(url, headers=headers, timeout=timeout, allow_redirects=False,
                           stream=True)
        try:
            ok = resp.status_code == 200
            return resp, read_capped(resp, cap if ok else error_cap, dog, truncate=not ok)
        finally:
            resp.close()


def connection_reason(exc: BaseException) -> str:
    """'connection refused', 'host name not found'... from the exception chain requests wraps
    (requests -> urllib3 MaxRetryError.reason -> NewConnectionError -> OSError)."""
    seen = set()
    stack: List[Any] = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, socket.gaierror):
            return "host name not found"
        if isinstance(e, ConnectionResetError):
            return "connection reset"
        stack.extend([e.__cause__, e.__context__, getattr(e, "reason", None), *e.args])
    return f"connection failed ({type(exc).__name__})"

"""Polygon (Massive) aggregates client: hourly bars for one ticker and window, every page.

The key travels only in the `Authorization: Bearer` header, never in a URL, so no URL that
requests/urllib3 log can carry it. Retries, backoff and the rate limiter run in this module's
own loop (not urllib3's Retry) so that every attempt passes the rate limiter and tests can
inject the sleep.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .bounded_http import (
    BodyTooLarge,
    Watchdog,
    connection_reason,
    get_bounded,
    track_connections,
)
from .errors import AuthError, ConfigError, SourceError, validate_ticker
from .ratelimit import RateLimiter, parse_retry_after
from .settings import DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT_PER_MIN

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Polygon answers "DELAYED" instead of "OK" on plans with delayed data; both carry results.
OK_STATUSES = frozenset({"OK", "DELAYED"})
PAGE_LIMIT = 50000  # the API maximum; it bounds the base minute bars, not the hourly bars
# At most one hourly bar per hour, and a day has at most 25 hours (the end of daylight saving
# time): more bars than that for a window is not hourly data, whatever the server says.
MAX_BARS_PER_DAY = 25
# A bar is about 100 bytes of JSON; ten times that (pretty-printed, extra fields) plus the
# envelope bounds an honest answer for a window, so a body past it is not read any further.
BODY_BYTES_PER_BAR = 1024
BODY_ENVELOPE_BYTES = 1024 * 1024
ERROR_BODY_BYTES = 64 * 1024  # an error answer is read only for its message
_KEY_PARAMS = frozenset({"apikey", "api_key"})


class SourceUnreachable(SourceError):
    """The API host could not be reached at all after every retry: every ticker would fail."""


class DeadlineExceeded(SourceError):
    """Waiting any longer would outlive the run's time budget (the Lambda's remaining time)."""


@dataclass
class Page:
    """One API response: its request id and its `results` as given."""

    request_id: str
    results: List[Any]


@dataclass
class FetchResult:
    """Every page of bars for one ticker and window, in order."""

    ticker: str
    window_from: date
    window_to: date
    pages: List[Page] = field(default_factory=list)
    source: str = "polygon"

    @property
    def bars(self) -> List[Any]:
        return [b for p in self.pages for b in p.results]

    @property
    def request_ids(self) -> List[str]:
        return [p.request_id for p in self.pages]


def max_bars(window_from: date, window_to: date) -> int:
    """The most hourly bars the exchange dates `window_from`..`window_to` (inclusive) can hold."""
    return ((window_to - window_from).days + 1) * MAX_BARS_PER_DAY


def redact(text: str, secret: Optional[str]) -> str:
    """`text` with every occurrence of `secret` replaced, for messages built from server text."""
    if secret and text:
        return text.replace(secret, "***")
    return text


def _strip_key_params(url: str) -> str:
    """Drop apiKey from a URL (a next_url could echo it if someone sent it as a parameter)."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _KEY_PARAMS
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _loggable(url: str) -> str:
    """Path and query of a URL, for logs and messages (never the host's credentials)."""
    parts = urlsplit(_strip_key_params(url))
    return parts.path + ("?" + parts.query if parts.query else "")


class PolygonClient:
    """Hourly aggregates from `{base}/v2/aggs/...`, following `next_url` to the last page."""

    def __init__(
        self,
        api_key: Optional[str],
        base_url: str = DEFAULT_BASE_URL,
        *,
        rate_limit_per_min: float = DEFAULT_RATE_LIMIT_PER_MIN,
        session: Optional[Any] = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout: Tuple[float, float] = (3.05, 30.0),
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        max_backoff: float = 60.0,
        max_retry_after: float = 300.0,
        max_pages: int = 1000,
        time_left: Optional[Callable[[], float]] = None,
        reserve_seconds: float = 3.0,
        request_deadline: float = 120.0,
        run_deadline: Optional[float] = None,
        max_body_bytes: int = 64 * 1024 * 1024,
    ):
        if not api_key or not str(api_key).strip():
            raise AuthError(
                "no Polygon API key: set POLYGON_API_KEY (in Lambda POLYGON_API_KEY_SECRET_ARN), "
                "or use --source demo"
            )
        base = base_url.rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"POLYGON_BASE_URL must be an http(s) URL, got {base_url!r}")
        if parts.query or parts.username or parts.password:
            raise ConfigError(
                "POLYGON_BASE_URL must not carry a query or credentials; the key goes in a header"
            )
        if max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {max_attempts}")
        for name, value in (("request_deadline", request_deadline),
                            ("run_deadline", run_deadline), ("max_body_bytes", max_body_bytes)):
            if value is not None and not value > 0:
                raise ConfigError(f"{name} must be more than 0, got {value!r}")
        self._key = str(api_key).strip()
        self.base_url = base
        self._origin = (parts.scheme, parts.netloc.lower())
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.max_pages = max_pages
        # In Lambda: seconds until the function is killed. Stopping early with time in reserve
        # lets the run deliver what it already fetched instead of dying mid-sleep.
        self.time_left = time_left
        self.reserve_seconds = reserve_seconds
        # Wall-clock bounds: one request (status line to last byte, however slowly the server
        # trickles), and the whole run from the client's creation (so a hostile or stuck server
        # cannot hold the home lock for ever). Both are real seconds, not the rate limiter's clock.
        self.request_deadline = request_deadline
        self.run_deadline = run_deadline
        self._run_ends = time.monotonic() + run_deadline if run_deadline else None
        self.max_body_bytes = max_body_bytes
        self.sleep = sleep
        self.limiter = RateLimiter(rate_limit_per_min, clock=clock, sleep=sleep)
        if session is None:
            import requests

            session = requests.Session()
        self.session = session
        self._live = track_connections(session)
        self.requests_sent = 0

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> PolygonClient:
        return cls(
            settings.polygon_api_key,
            settings.polygon_base_url,
            rate_limit_per_min=settings.rate_limit_per_min,
            **kwargs,
        )

    def __repr__(self) -> str:  # never show the key
        return f"PolygonClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PolygonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- public -----------------------------------------------------------------------------
    def aggregates_url(self, ticker: str, window_from: date, window_to: date) -> str:
        # quote with safe="" keeps BRK.B intact and escapes anything that could change the path
        path = "/v2/aggs/ticker/{}/range/1/hour/{}/{}".format(
            quote(ticker, safe=""), window_from.isoformat(), window_to.isoformat()
        )
        query = urlencode({"adjusted": "true", "sort": "asc", "limit": str(PAGE_LIMIT)})
        return f"{self.base_url}{path}?{query}"

    def fetch_aggregates(self, ticker: str, window_from: date, window_to: date) -> FetchResult:
        """All hourly bars for `ticker` between the two exchange dates (inclusive)."""
        ticker = validate_ticker(ticker)
        result = FetchResult(ticker=ticker, window_from=window_from, window_to=window_to)
        url: Optional[str] = self.aggregates_url(ticker, window_from, window_to)
        seen = set()
        bar_cap = max_bars(window_from, window_to)
        body_cap = min(self.max_body_bytes, BODY_ENVELOPE_BYTES + bar_cap * BODY_BYTES_PER_BAR)
        bars_so_far = 0
        while url is not None:
            if len(result.pages) >= self.max_pages:
                raise SourceError(
                    f"{ticker}: more than {self.max_pages} pages for {window_from}..{window_to}; "
                    "shorten the window"
                )
            seen.add(url)
            body = self._get_json(ticker, url, body_cap)
            page = self._check_envelope(ticker, body)
            bars_so_far += len(page.results)
            if bars_so_far > bar_cap:
                raise SourceError(
                    f"{ticker}: Polygon sent {bars_so_far:,} bars for {window_from}..{window_to} "
                    f"(request_id {page.request_id}), more than the {bar_cap:,} hours those "
                    "dates hold; not hourly aggregates, nothing of this ticker is kept"
                )
            result.pages.append(page)
            url = self._next_url(ticker, body, page.request_id)
            if url is not None and url in seen:
                raise SourceError(
                    f"{ticker}: next_url repeats an earlier page (request_id {page.request_id}); "
                    "the API is looping, try again later"
                )
        bars = len(result.bars)
        where = {"ticker": ticker, "window_from": str(window_from), "window_to": str(window_to)}
        if bars == 0:
            log.info("no bars for %s %s..%s (weekend, holiday or no trades)", ticker,
                     window_from, window_to, extra=where)
        else:
            log.info("fetched %d bars for %s in %d page(s)", bars, ticker, len(result.pages),
                     extra={**where, "bars": bars, "pages": len(result.pages),
                            "request_ids": result.request_ids})
        return result

    def get_pages(self, label: str, url: str, too_many: str = "") -> List[Page]:
        """Every page from `url` on (next_url followed) through this client's limits."""
        pages: List[Page] = []
        next_page: Optional[str] = url
        seen = set()
        while next_page:
            if len(pages) >= self.max_pages:
                raise SourceError(f"{label}: more than {self.max_pages} pages {too_many}".rstrip())
            seen.add(next_page)
            body = self._get_json(label, next_page, self.max_body_bytes)
            pages.append(self._check_envelope(label, body))
            next_page = self._next_url(label, body, pages[-1].request_id)
            if next_page and next_page in seen:
                raise SourceError(f"{label}: next_url repeats a page; the API is looping")
        return pages

    # ---- internals ------------------------------------------------------------------------
    def _next_url(self, ticker: str, body: Dict[str, Any], request_id: str) -> Optional[str]:
        """The next page on OUR base URL: the link's path and query only, as the reference
        client does. The API's links name api.massive.com since the rebrand, whatever host
        was asked; the key is sent only to the configured base, never to the link's host."""
        nxt = body.get("next_url")
        if not nxt:
            return None
        if not isinstance(nxt, str):
            raise SourceError(f"{ticker}: next_url is not a string (request_id {request_id})")
        parts = urlsplit(nxt)
        if parts.scheme not in ("", "http", "https") or not parts.path.startswith("/"):
            raise SourceError(
                f"{ticker}: next_url {_loggable(nxt)!r} is not an http(s) link with a path "
                f"(request_id {request_id})"
            )
        if parts.netloc and parts.netloc.lower() != self._origin[1]:
            log.debug("%s: following next_url of host %s on %s", ticker, parts.netloc,
                      self._origin[1], extra={"ticker": ticker, "request_id": request_id})
        return self.base_url + _loggable(nxt)

    def _check_time(self, ticker: str, wait: float, why: str) -> float:
        """Seconds left for the next request; raise DeadlineExceeded if `wait` eats the reserve
        (the Lambda's remaining time) or outlasts the run's deadline."""
        left = float("inf")
        if self.time_left is not None:
            left = self.time_left() - self.reserve_seconds
            if left - wait <= 0:
                raise DeadlineExceeded(
                    f"{ticker}: stopping early: {why} needs {wait:.1f} s but only "
                    f"{left + self.reserve_seconds:.1f} s remain and {self.reserve_seconds:.0f} s "
                    "are kept to deliver what was fetched; raise the Lambda timeout or ingest "
                    "fewer tickers per run"
                )
        if self._run_ends is not None:
            run_left = self._run_ends - time.monotonic()
            if run_left - wait <= 0:
                raise DeadlineExceeded(
                    f"{ticker}: stopping early: {why} needs {wait:.1f} s but the run's "
                    f"{self.run_deadline:.0f} s deadline leaves {max(0.0, run_left):.1f} s; what "
                    "was fetched is delivered, the rest is fetched by the next run"
                )
            left = min(left, run_left)
        return left - wait

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff_base * (2 ** (attempt - 1)))

    def _get_json(self, ticker: str, url: str, body_cap: int) -> Dict[str, Any]:
        import requests

        shown = _loggable(url)
        last_problem = ""
        for attempt in range(1, self.max_attempts + 1):
            needed = self.limiter.wait_needed()
            left = self._check_time(ticker, needed, "the rate limit")
            if needed >= 1.0:
                # The free tier's 5 requests/minute: say why a run sits still for a minute.
                log.info(
                    "%s: waiting %.0f s for the rate limit (%g requests/minute)",
                    ticker,
                    needed,
                    self.limiter.capacity * 60.0 / self.limiter.period,
                    extra={"ticker": ticker, "wait_seconds": needed},
                )
            self.limiter.acquire()
            self.requests_sent += 1
            connect, read = self.timeout
            budget = min(self.request_deadline, left)
            dog = Watchdog(budget, self._live)
            unanswered = f"no complete answer from {self._origin[1]} within {budget:.1f} s"
            try:
                resp, content = get_bounded(
                    self.session,
                    url,
                    {"Authorization": f"Bearer {self._key}", "Accept": "application/json"},
                    (min(connect, max(0.5, budget)), min(read, max(0.5, budget))),
                    dog,
                    body_cap,
                    ERROR_BODY_BYTES,
                )
            except BodyTooLarge as exc:
                # Not retried: an answer this size is not one page of hourly bars for the window.
                raise SourceError(
                    f"{ticker}: {exc} for {shown}; stopped reading, an answer this large is not "
                    "hourly bars for the window"
                ) from None
            except (
                requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError
            ) as exc:
                host = self._origin[1]
                if dog.expired():
                    last_problem = unanswered
                elif isinstance(exc, requests.Timeout):
                    last_problem = f"timed out waiting for {host} ({type(exc).__name__})"
                elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
                    last_problem = f"the connection to {host} broke while reading the answer"
                else:
                    last_problem = f"cannot connect to {host}: {connection_reason(exc)}"
                wait = self._backoff(attempt)
            else:
                status = resp.status_code
                if dog.expired():
                    # The socket was shut mid-answer (a server trickling bytes): what arrived
                    # may even parse, but it is not the whole answer.
                    last_problem, wait = unanswered, self._backoff(attempt)
                elif status in (401, 403):
                    detail = redact(_error_text(content), self._key)
                    raise AuthError(
                        f"Polygon refused the API key for {ticker} (HTTP {status}: {detail}): the "
                        "key is missing, wrong, or not entitled to these aggregates; check "
                        "POLYGON_API_KEY or the secret, or use --source demo"
                    )
                elif status in RETRY_STATUSES:
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                    if retry_after is not None and retry_after > self.max_retry_after:
                        raise SourceError(
                            f"{ticker}: Polygon asked to wait {retry_after:.0f} s (HTTP {status}), "
                            f"longer than {self.max_retry_after:.0f} s; lower the rate limit "
                            "(STOCKPIPE_RATE_LIMIT_PER_MIN) or try again later"
                        )
                    last_problem = f"HTTP {status}: {redact(_error_text(content), self._key)}"
                    wait = max(retry_after or 0.0, self._backoff(attempt))
                elif status != 200:
                    raise SourceError(
                        f"{ticker}: Polygon answered HTTP {status} for {shown} "
                        f"(request_id {_request_id_of(content)}): "
                        f"{redact(_error_text(content), self._key)}"
                    )
                else:
                    return self._decode(ticker, resp, content)
            if attempt < self.max_attempts:
                self._check_time(ticker, wait, f"retry {attempt + 1} after {last_problem}")
                log.warning(
                    "%s: attempt %d/%d %s; retrying in %.1f s",
                    ticker,
                    attempt,
                    self.max_attempts,
                    last_problem,
                    wait,
                    extra={"ticker": ticker, "attempt": attempt, "wait_seconds": wait},
                )
                self.sleep(wait)
        if last_problem.startswith("cannot connect"):
            raise SourceUnreachable(
                f"{ticker}: {last_problem} (after {self.max_attempts} attempts); check "
                "POLYGON_BASE_URL and the network, or try again later"
            )
        raise SourceError(
            f"{ticker}: gave up after {self.max_attempts} attempts on {shown}, "
            f"last: {last_problem}; try again later"
        )

    def _decode(self, ticker: str, resp: Any, content: bytes) -> Dict[str, Any]:
        request_id = _request_id_of(content)
        try:
            body = json.loads(content)
        except ValueError:
            raise SourceError(
                f"{ticker}: Polygon answered HTTP 200 with a body that is not JSON "
                f"(request_id {request_id}, {len(content)} bytes, "
                f"content-type {resp.headers.get('Content-Type')!r})"
            ) from None
        if not isinstance(body, dict):
            raise SourceError(
                f"{ticker}: Polygon answered a JSON {type(body).__name__}, not an object "
                f"(request_id {request_id})"
            )
        return body

    def _check_envelope(self, ticker: str, body: Dict[str, Any]) -> Page:
        request_id = body.get("request_id")
        rid = request_id if isinstance(request_id, str) and request_id else "unknown"
        status = body.get("status")
        if status == "ERROR" or status not in OK_STATUSES:
            message = body.get("error") or body.get("message") or "no message"
            raise SourceError(
                f"{ticker}: Polygon answered status {status!r} (request_id {rid}): "
                f"{redact(str(message), self._key)[:300]}"
            )
        if rid == "unknown":
            raise SourceError(
                f"{ticker}: Polygon response has no request_id; not the documented shape"
            )
        results = body.get("results", [])
        if results is None:
            results = []
        if not isinstance(results, list):
            raise SourceError(
                f"{ticker}: 'results' is a {type(results).__name__}, not a list (request_id {rid})"
            )
        count = body.get("resultsCount")
        if isinstance(count, int) and not isinstance(count, bool) and count != len(results):
            # Not fatal: the bars themselves are validated one by one; note the mismatch.
            log.warning(
                "%s: resultsCount %d but %d results (request_id %s)",
                ticker,
                count,
                len(results),
                rid,
                extra={"ticker": ticker, "request_id": rid},
            )
        return Page(request_id=rid, results=results)


def _request_id_of(content: bytes) -> str:
    """The request id from a JSON body if it has one (error bodies usually do)."""
    try:
        body = json.loads(content)
    except ValueError:
        return "unknown"
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        return body["request_id"]
    return "unknown"


def _error_text(content: bytes) -> str:
    """A short human message from an error response (its JSON error/message, else the text)."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        msg = body.get("error") or body.get("message") or body.get("status")
        if msg:
            return str(msg)[:200]
    text = content[:200].decode("utf-8", "replace").strip()
    return text or "empty body"

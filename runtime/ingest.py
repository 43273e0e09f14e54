"""Ingest orchestration shared by the Lambda handler and the CLI: source -> validate -> sink.

One ticker's failure does not stop the others; the run raises at the end naming every failed
ticker, after everything fetched has been delivered.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, List, Optional

from .demo import demo_fetch
from .demo_splits import demo_split_pages, with_demo_splits
from .errors import AuthError, ConfigError, DeliveryError, SourceError
from .polygon import PAGE_LIMIT, DeadlineExceeded, PolygonClient, SourceUnreachable
from .records import RejectWriter, iso_utc_ms, shape
from .sinks import LocalSink
from .splits import SPLITS_STREAM, fetch_split_pages, shape_splits
from .storage import storage_for
from .window import ingest_window

log = logging.getLogger(__name__)

SOURCE_CHOICES = ("auto", "polygon", "demo")


def resolve_source(settings: Any, source: str) -> str:
    """'auto' -> 'polygon' when an API key is set, else 'demo'; validates the choice."""
    value = (source or "auto").strip().lower() if isinstance(source, str) else source
    if value not in SOURCE_CHOICES:
        raise ConfigError(f"source must be one of {', '.join(SOURCE_CHOICES)}, got {source!r}")
    if value == "auto":
        return "polygon" if settings.polygon_api_key else "demo"
    if value == "polygon" and not settings.polygon_api_key:
        raise AuthError(
            "--source polygon needs an API key: set POLYGON_API_KEY, or use --source demo"
        )
    return value


@dataclass
class IngestSummary:
    """What one ingest run did; `to_dict()` is JSON-ready."""

    source: str
    tickers: List[str]
    window_from: str
    window_to: str
    bars: int = 0
    rejects: int = 0
    per_ticker: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    sink_calls: int = 0
    objects: int = 0
    seconds: float = 0.0
    splits: int = 0
    split_rejects: int = 0
    splits_error: Optional[str] = None

    @property
    def failed(self) -> List[str]:
        return [t for t, info in self.per_ticker.items() if info.get("error")]

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


class IngestFailed(SourceError):
    """Some tickers failed; the others were delivered. Carries the run's summary."""

    def __init__(self, message: str, summary: IngestSummary):
        super().__init__(message)
        self.summary = summary


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def run_deadline(tickers: int, days: int, rate_limit_per_min: float) -> float:
    """Seconds an ingest of `tickers` over `days` dates may take before it stops early.

    Generous for an honest run (the rate limit's waits, plus 30 s per request for latency and
    the odd retry, plus 10 minutes), finite for a server that answers slowly for ever: the
    run holds the home lock meanwhile. A page holds at most 50,000 of the minute bars behind the
    hourly ones, a day at most 1,440 of them."""
    pages = tickers * max(1, -(-days * 1440 // PAGE_LIMIT))
    return 600.0 + pages * (60.0 / rate_limit_per_min + 30.0)


def _finish(sink: Any, own: bool) -> None:
    """Close a sink this run made; only flush one the caller owns."""
    if own:
        sink.close()
    else:
        sink.flush()


def _land_splits(
    settings: Any,
    summary: IngestSummary,
    fetch_splits: Callable[[List[str]], Any],
    storage: Any,
    rejects: RejectWriter,
    *,
    ingested_at: str,
    window: Any,
) -> None:
    """Fetch the tickers' splits and write them under splits/ (Firehose key layout), directly
    to storage in both homes: they are a few lines per run, so the Lambda puts one S3 object
    instead of needing a second delivery stream.

    A failure is a warning, not a failed run: the bars are good without it, and a split the
    workflow does not know about is what the blocking check `unexplained_split_jump` catches."""
    tickers = list(summary.tickers)
    try:
        pages = fetch_splits(tickers)
    except SourceError as exc:
        summary.splits_error = str(exc)
        log.warning("splits not fetched: %s", exc, extra={"error": str(exc)})
        return
    shaped = shape_splits(
        [(p.request_id, p.results) for p in pages],
        tickers=tickers,
        window_from=window.start,
        window_to=window.end,
        source=summary.source,
        ingested_at=ingested_at,
    )
    rejects.write(shaped.rejects)
    sink = LocalSink(storage, settings.splits_uri, stream_name=SPLITS_STREAM)
    sink.put(shaped.records)
    sink.close()
    summary.splits = len(shaped.records)
    summary.split_rejects = len(shaped.rejects)
    if shaped.rejects:
        log.warning(
            "%d split event(s) rejected, first reason: %s",
            len(shaped.rejects),
            shaped.reasons[0],
            extra={"split_rejects": len(shaped.rejects)},
        )


def run_ingest(
    settings: Any,
    *,
    source: str = "auto",
    end_date: Optional[date] = None,
    days: Optional[int] = None,
    sink: Optional[Any] = None,
    storage: Optional[Any] = None,
    now: Optional[datetime] = None,
    progress: Optional[Callable[[str, int, int], None]] = None,
    client: Optional[Any] = None,
) -> IngestSummary:
    """Fetch every ticker of `settings` for the window, deliver raw records, write rejects.

    `progress(ticker, index, total)` is called as each ticker starts, index counting from 1.
    `client` replaces the Polygon client built from settings (tests, custom sessions).
    Raises IngestFailed (a SourceError) naming the failed tickers, after delivering the rest;
    AuthError, DeliveryError, DeadlineExceeded and SourceUnreachable stop the run at once (every
    later ticker would fail too), after flushing what was fetched.
    """
    started = time.monotonic()
    chosen = resolve_source(settings, source)
    window = ingest_window(
        now or _utcnow(), days if days is not None else settings.window_days, end_date
    )
    if storage is None:
        kwargs = {"region": settings.aws_region} if settings.raw_uri.startswith("s3://") else {}
        storage = storage_for(settings.raw_uri, **kwargs)
    own_sink = sink is None
    if sink is None:
        sink = LocalSink(storage, settings.raw_uri)
    rejects = RejectWriter(storage, settings.rejects_uri)
    fetch: Callable[[str], Any]
    own_client = False
    if chosen == "demo":

        def fetch(ticker: str) -> Any:
            return with_demo_splits(demo_fetch(ticker, window.start, window.end))

        def fetch_splits(names: List[str]) -> Any:
            return demo_split_pages(names, window.start, window.end)
    else:
        if client is None:
            client = PolygonClient.from_settings(
                settings,
                run_deadline=run_deadline(
                    len(settings.tickers), window.days, settings.rate_limit_per_min
                ),
            )
            own_client = True

        def fetch(ticker: str) -> Any:
            return client.fetch_aggregates(ticker, window.start, window.end)

        def fetch_splits(names: List[str]) -> Any:
            return fetch_split_pages(client, names)

    tickers = list(settings.tickers)
    summary = IngestSummary(
        source=chosen,
        tickers=tickers,
        window_from=window.start.isoformat(),
        window_to=window.end.isoformat(),
    )
    log.info(
        "ingesting %d ticker(s) from %s for %s..%s",
        len(tickers),
        chosen,
        window.start,
        window.end,
        extra={
            "source": chosen,
            "tickers": tickers,
            "window_from": summary.window_from,
            "window_to": summary.window_to,
        },
    )
    try:
        for index, ticker in enumerate(tickers, start=1):
            if progress is not None:
                progress(ticker, index, len(tickers))
            ticker_started = time.monotonic()
            info: Dict[str, Any] = {
                "bars": 0,
                "rejects": 0,
                "pages": 0,
                "request_ids": [],
                "error": None,
            }
            summary.per_ticker[ticker] = info
            try:
                result = fetch(ticker)
            except (AuthError, DeliveryError, DeadlineExceeded, SourceUnreachable):
                raise
            except SourceError as exc:
                info["error"] = str(exc)
                # A warning: the run goes on with the other tickers and its final error names
                # this one again.
                log.warning("skipped %s: %s", ticker, exc, extra={"ticker": ticker})
                continue
            shaped = shape(
                [(p.request_id, p.results) for p in result.pages],
                ticker=ticker,
                window_from=window.start,
                window_to=window.end,
                source=chosen,
                ingested_at=iso_utc_ms(now or _utcnow()),
            )
            # Rejects first: if the sink then fails, the bad bars are still accounted for.
            rejects.write(shaped.rejects)
            sink.put(shaped.records)
            info.update(
                bars=len(shaped.records),
                rejects=len(shaped.rejects),
                pages=len(result.pages),
                request_ids=result.request_ids,
            )
            summary.bars += len(shaped.records)
            summary.rejects += len(shaped.rejects)
            log.info(
                "%s: %d bars (%d rejected) in %.1fs",
                ticker,
                len(shaped.records),
                len(shaped.rejects),
                time.monotonic() - ticker_started,
                extra={"ticker": ticker, "bars": len(shaped.records),
                       "rejects": len(shaped.rejects)},
            )
            if shaped.rejects:
                log.warning(
                    "%s: %d bar(s) rejected, first reason: %s",
                    ticker,
                    len(shaped.rejects),
                    shaped.reasons[0],
                    extra={"ticker": ticker, "rejects": len(shaped.rejects)},
                )
        _land_splits(
            settings, summary, fetch_splits, storage, rejects,
            ingested_at=iso_utc_ms(now or _utcnow()), window=window,
        )
    except BaseException as exc:
        # Deliver whatever is buffered even when the run stops early (AuthError, a deadline, a
        # bug), so nothing already fetched is lost; the original error stays the one raised.
        try:
            _finish(sink, own_sink)
        except Exception as flush_exc:
            log.error(
                "after %s, buffered records could not be delivered either: %s",
                type(exc).__name__,
                flush_exc,
                extra={"error": str(flush_exc)},
            )
        raise
    else:
        _finish(sink, own_sink)
    finally:
        if own_client and client is not None:
            client.close()
    summary.sink_calls = sink.calls
    summary.objects = sink.objects
    summary.seconds = round(time.monotonic() - started, 3)
    log.info(
        "ingested %d bars (%d rejected) for %d ticker(s)",
        summary.bars,
        summary.rejects,
        len(tickers),
        extra={"summary": summary.to_dict()},
    )
    failed = summary.failed
    if failed:
        causes = "; ".join(summary.per_ticker[t]["error"] for t in failed)
        if len(failed) == len(tickers):
            message = f"{len(failed)} of {len(tickers)} ticker(s) failed, nothing ingested: "
            message += causes
        else:
            message = (
                f"{len(failed)} of {len(tickers)} ticker(s) failed ({', '.join(failed)}); the "
                f"other tickers' {summary.bars} bars were delivered. Causes: {causes}"
            )
        raise IngestFailed(message, summary)
    return summary

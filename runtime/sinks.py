"""Where raw records go: Firehose in the cloud, a Firehose-like folder writer locally.

Both take encoded JSON lines (bytes ending in a newline) through `put`, one line per record.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, List, Optional

from .errors import ConfigError, DeliveryError
from .records import arrival_key

log = logging.getLogger(__name__)

# PutRecordBatch limits (Firehose developer guide).
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024
# Whole-call errors worth another try; anything else (no such stream, access denied) is final.
_RETRYABLE_CODES = frozenset(
    {"ServiceUnavailableException", "ThrottlingException", "InternalFailure", "ServiceUnavailable"}
)


class Sink:
    """Counters shared by the sinks; `calls` = API calls or object writes made."""

    def __init__(self) -> None:
        self.records = 0
        self.bytes = 0
        self.calls = 0
        self.objects = 0

    def put(self, records: Iterable[bytes]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> dict:
        return {
            "records": self.records,
            "bytes": self.bytes,
            "calls": self.calls,
            "objects": self.objects,
        }


def _check_record(data: bytes) -> None:
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"sink records must be bytes, got {type(data).__name__}")
    if len(data) > MAX_RECORD_BYTES:
        raise DeliveryError(
            f"a record of {len(data):,} bytes exceeds Firehose's {MAX_RECORD_BYTES:,}-byte limit "
            f"(starts {bytes(data[:60])!r}); such a bar is malformed, check the source"
        )


class FirehoseSink(Sink):
    """PutRecordBatch in batches of <= 500 records and <= 4 MiB; resends only failed entries."""

    def __init__(
        self,
        stream_name: str,
        client: Optional[Any] = None,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.2,
        max_backoff: float = 10.0,
    ):
        super().__init__()
        if not stream_name:
            raise ConfigError("Firehose stream name is empty: set FIREHOSE_STREAM_NAME")
        if max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {max_attempts}")
        if client is None:
            import boto3

            client = boto3.client("firehose")
        self.stream_name = stream_name
        self.client = client
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.retried_records = 0
        self._buf: List[bytes] = []
        self._buf_bytes = 0

    def put(self, records: Iterable[bytes]) -> None:
        for data in records:
            _check_record(data)
            if self._buf and self._buf_bytes + len(data) > MAX_BATCH_BYTES:
                self.flush()
            self._buf.append(bytes(data))
            self._buf_bytes += len(data)
            if len(self._buf) >= MAX_BATCH_RECORDS:
                self.flush()

    def flush(self) -> None:
        if self._buf:
            batch, self._buf, self._buf_bytes = self._buf, [], 0
            self._send(batch)

    def _send(self, batch: List[bytes]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        pending = batch
        last_error = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.calls += 1
                resp = self.client.put_record_batch(
                    DeliveryStreamName=self.stream_name,
                    Records=[{"Data": d} for d in pending],
                )
            except (ClientError, BotoCoreError) as exc:  # an AWS error or a connection error
                code = _error_code(exc)
                if code is not None and code not in _RETRYABLE_CODES:
                    raise DeliveryError(
                        f"Firehose stream {self.stream_name!r} refused PutRecordBatch ({code}): "
                        f"{exc}; {len(pending)} records of this batch were not delivered"
                    ) from exc
                last_error = f"{type(exc).__name__}: {exc}"
                failed = pending
            else:
                responses = resp.get("RequestResponses", [])
                if resp.get("FailedPutCount", 0) == 0:
                    failed = []
                elif len(responses) != len(pending):
                    # Without one response per entry we cannot tell which failed: resend all
                    # (duplicates are removed downstream by the dedup step).
                    failed = pending
                    last_error = f"{resp.get('FailedPutCount')} failed, responses not per entry"
                else:
                    failed = [d for d, r in zip(pending, responses) if r.get("ErrorCode")]
                    codes = sorted({r["ErrorCode"] for r in responses if r.get("ErrorCode")})
                    last_error = f"{len(failed)} entries failed ({', '.join(codes)})"
            delivered = len(pending) - len(failed)
            self.records += delivered
            self.bytes += sum(len(d) for d in pending) - sum(len(d) for d in failed)
            if not failed:
                return
            pending = failed
            if attempt < self.max_attempts:
                wait = min(self.max_backoff, self.backoff_base * (2 ** (attempt - 1)))
                self.retried_records += len(pending)
                log.warning(
                    "Firehose %s: %s; resending %d records in %.2f s",
                    self.stream_name,
                    last_error,
                    len(pending),
                    wait,
                    extra={"stream": self.stream_name, "failed": len(pending), "attempt": attempt},
                )
                self.sleep(wait)
        raise DeliveryError(
            f"{len(pending)} records could not be delivered to Firehose stream "
            f"{self.stream_name!r} "
            f"after {self.max_attempts} attempts (last: {last_error}); re-run the ingest, "
            "duplicates are removed by the dedup step"
        )


def _error_code(exc: Exception) -> Optional[str]:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class LocalSink(Sink):
    """Buffers like Firehose (size or age, whichever first) and writes Firehose-named objects."""

    def __init__(
        self,
        storage: Any,
        raw_uri: str,
        stream_name: str = "stockpipe-local",
        buffer_mb: float = 5,
        buffer_seconds: float = 60,
        clock: Callable[[], datetime] = _utcnow,
    ):
        super().__init__()
        if buffer_mb <= 0 or buffer_seconds < 0:
            raise ConfigError(
                f"buffer must be > 0 MB and >= 0 s, got {buffer_mb} MB / {buffer_seconds} s"
            )
        self.storage = storage
        self.raw_uri = raw_uri
        self.stream_name = stream_name
        self.buffer_bytes = round(buffer_mb * 1024 * 1024)
        self.buffer_seconds = buffer_seconds
        self.clock = clock
        self.written: List[str] = []
        self._buf: List[bytes] = []
        self._buf_size = 0
        self._first_at: Optional[datetime] = None

    def put(self, records: Iterable[bytes]) -> None:
        now = self.clock()  # records of one call arrive together
        for data in records:
            _check_record(data)
            if self._buf and (
                self._buf_size + len(data) > self.buffer_bytes
                or (now - self._first_at).total_seconds() >= self.buffer_seconds
            ):
                self.flush()
            if not self._buf:
                self._first_at = now
            self._buf.append(bytes(data))
            self._buf_size += len(data)

    def flush(self) -> None:
        if not self._buf:
            return
        # Firehose names the object after the arrival of its first record.
        uri = arrival_key(self.raw_uri, self.stream_name, self._first_at or self.clock())
        data = b"".join(self._buf)
        self.storage.write(uri, data)
        self.calls += 1
        self.objects += 1
        self.records += len(self._buf)
        self.bytes += len(data)
        self.written.append(uri)
        self._buf, self._buf_size, self._first_at = [], 0, None

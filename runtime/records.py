"""Bar validation and raw-record shaping
(docs/architecture.md, "Raw record"), and the rejects/ writer.

A raw record is the API's bar verbatim (documented keys only) plus lineage; a bar that fails
validation becomes a reject line with its reason, never dropped.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

SOURCES = ("polygon", "demo")
REQUIRED_FIELDS = ("t", "o", "h", "l", "c", "v")
OPTIONAL_NUMBERS = ("vw", "n")
BAR_FIELDS = ("t", "o", "h", "l", "c", "v", "vw", "n", "otc")
# Bars before 1990 or after 2100 are a unit mix-up (seconds vs ms) or garbage, not market data.
MIN_T_MS = 631152000000  # 1990-01-01T00:00:00Z
MAX_T_MS = 4102444800000  # 2100-01-01T00:00:00Z


def _is_number(value: Any) -> bool:
    # bool is an int subclass in Python, but True is not a price.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fast_ok(bar: Any) -> bool:
    """True for the common, clean bar; anything unusual goes to the detailed checks."""
    if type(bar) is not dict:
        return False
    for name in REQUIRED_FIELDS:
        v = bar.get(name)
        tv = type(v)  # exact types: bool (an int subclass) is not a price
        if tv is float:
            if v - v != 0.0:  # NaN or infinity
                return False
        elif tv is not int:
            return False
    t = bar["t"]
    if type(t) is not int or not MIN_T_MS <= t < MAX_T_MS:
        return False
    for name in OPTIONAL_NUMBERS:
        v = bar.get(name)
        tv = type(v)
        if tv is float:
            if v - v != 0.0:
                return False
        elif v is not None and tv is not int:
            return False
    otc = bar.get("otc")
    return otc is None or type(otc) is bool


def validate_bar(bar: Any) -> Optional[str]:
    """None if the bar is usable, else the reason it is not (one short sentence)."""
    if _fast_ok(bar):
        return None
    if not isinstance(bar, dict):
        return f"bar is a {type(bar).__name__}, not a JSON object"
    for name in REQUIRED_FIELDS:
        if name not in bar or bar[name] is None:
            return f"missing required field '{name}'"
        value = bar[name]
        if not _is_number(value):
            return f"field '{name}' is not a number: {value!r}"[:200]
        if isinstance(value, float) and not math.isfinite(value):
            return f"field '{name}' is not finite: {value!r}"
    t = bar["t"]
    if not isinstance(t, int):
        return f"field 't' must be whole Unix milliseconds, got {t!r}"
    if not MIN_T_MS <= t < MAX_T_MS:
        return f"field 't' {t} is outside 1990..2100 in Unix milliseconds"
    for name in OPTIONAL_NUMBERS:
        value = bar.get(name)
        if value is None:
            continue
        if not _is_number(value):
            return f"field '{name}' is not a number: {value!r}"[:200]
        if isinstance(value, float) and not math.isfinite(value):
            return f"field '{name}' is not finite: {value!r}"
    otc = bar.get("otc")
    if otc is not None and not isinstance(otc, bool):
        return f"field 'otc' must be true or false, got {otc!r}"[:200]
    return None


def window_bounds_ms(window_from: date, window_to: date) -> Tuple[int, int]:
    """[start, end) in Unix ms of the exchange dates `window_from`..`window_to` (inclusive):
    00:00 America/New_York on the first date to 00:00 on the day after the last."""
    from .window import exchange_tz

    tz = exchange_tz()

    def midnight_ms(day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()) * 1000

    return midnight_ms(window_from), midnight_ms(window_to + timedelta(days=1))


def out_of_window_reason(t: int, window_from: date, window_to: date) -> str:
    """The reject reason of a bar that starts outside the window it was requested for."""
    at = datetime.fromtimestamp(t / 1000, tz=timezone.utc)
    return (
        f"bar time {iso_utc_ms(at)} (t {t}) is outside the requested window "
        f"{window_from.isoformat()}..{window_to.isoformat()} (exchange dates, America/New_York)"
    )


def iso_utc_ms(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and Z: 2026-11-27T16:00:00.123Z (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def raw_record(
    bar: Dict[str, Any],
    *,
    ticker: str,
    request_id: str,
    window_from: date,
    window_to: date,
    source: str,
    ingested_at: str,
) -> Dict[str, Any]:
    """The raw record for a validated bar: documented fields as given, then lineage."""
    rec: Dict[str, Any] = {"ticker": ticker}
    for name in BAR_FIELDS:
        if name in bar:
            rec[name] = bar[name]
    rec["ingested_at"] = ingested_at
    rec["request_id"] = request_id
    rec["window_from"] = window_from.isoformat()
    rec["window_to"] = window_to.isoformat()
    rec["source"] = source
    return rec


def _json_safe(value: Any) -> Any:
    """Make a rejected payload serialisable as strict JSON (NaN/inf become strings)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def encode(record: Dict[str, Any]) -> bytes:
    """One compact JSON line, newline-terminated (Firehose adds no delimiter)."""
    # Same output as json.dumps(record, separators=(",", ":")); one encoder saves per-call setup.
    return (_ENCODER.encode(record) + "\n").encode("utf-8")


def reject_record(
    payload: Any,
    *,
    reason: str,
    ticker: str,
    request_id: str,
    window_from: date,
    window_to: date,
    source: str,
    ingested_at: str,
) -> Dict[str, Any]:
    return {
        "reason": reason,
        "ticker": ticker,
        "request_id": request_id,
        "window_from": window_from.isoformat(),
        "window_to": window_to.isoformat(),
        "source": source,
        "ingested_at": ingested_at,
        "payload": _json_safe(payload),
    }


@dataclass
class Shaped:
    """Encoded raw records and reject lines for one ticker's pages."""

    records: List[bytes] = field(default_factory=list)
    rejects: List[bytes] = field(default_factory=list)
    reasons: List[str] = field(default_factory=list)


def shape(
    pages: Iterable[Tuple[str, List[Any]]],
    *,
    ticker: str,
    window_from: date,
    window_to: date,
    source: str,
    ingested_at: str,
) -> Shaped:
    """Validate every bar of `(request_id, results)` pages; encode records and rejects.

    A bar must also start inside the requested window: a bar the source was not asked for
    (another day, a year off, a unit mix-up that still lands in 1990..2100) is rejected."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    out = Shaped()
    lineage = {
        "ticker": ticker,
        "window_from": window_from,
        "window_to": window_to,
        "source": source,
        "ingested_at": ingested_at,
    }
    w_from, w_to = window_from.isoformat(), window_to.isoformat()
    lo_ms, hi_ms = window_bounds_ms(window_from, window_to)
    append = out.records.append
    for request_id, results in pages:
        for bar in results:
            reason = validate_bar(bar)
            if reason is None and not lo_ms <= bar["t"] < hi_ms:
                reason = out_of_window_reason(bar["t"], window_from, window_to)
            if reason is None:
                # raw_record inlined: this loop runs once per bar (millions in a backfill)
                rec = {"ticker": ticker}
                for name in BAR_FIELDS:
                    if name in bar:
                        rec[name] = bar[name]
                rec["ingested_at"] = ingested_at
                rec["request_id"] = request_id
                rec["window_from"] = w_from
                rec["window_to"] = w_to
                rec["source"] = source
                append(encode(rec))
            else:
                out.rejects.append(
                    encode(reject_record(bar, reason=reason, request_id=request_id, **lineage))
                )
                out.reasons.append(reason)
    return out


def arrival_key(prefix: str, name: str, arrival: datetime) -> str:
    """`prefix` + `YYYY/MM/DD/HH/<name>-1-YYYY-MM-DD-HH-MM-SS-<uuid>`: Firehose's default keys."""
    if arrival.tzinfo is None:
        arrival = arrival.replace(tzinfo=timezone.utc)
    arrival = arrival.astimezone(timezone.utc)
    base = prefix if prefix.endswith("/") else prefix + "/"
    return f"{base}{arrival:%Y/%m/%d/%H}/{name}-1-{arrival:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class RejectWriter:
    """Writes reject lines under `rejects_uri` in the raw layout, one object per `write` call."""

    def __init__(self, storage: Any, rejects_uri: str, clock: Callable[[], datetime] = _utcnow):
        self.storage = storage
        self.rejects_uri = rejects_uri
        self.clock = clock
        self.lines = 0
        self.objects: List[str] = []

    def write(self, lines: List[bytes]) -> Optional[str]:
        """Store `lines` as one object; returns its URI (None when there is nothing to write)."""
        if not lines:
            return None
        uri = arrival_key(self.rejects_uri, "rejects", self.clock())
        self.storage.write(uri, b"".join(lines))
        self.lines += len(lines)
        self.objects.append(uri)
        return uri

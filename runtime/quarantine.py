"""Raw objects the pipeline cannot read, set aside so they stop blocking every run.

A raw object that is not newline-delimited JSON records of the raw table's types (a truncated
or garbage object, a record whose `t` is text) makes the engine fail the whole statement that
reads it, and so every run, until someone deletes it. Transform moves such an object to
`raw-quarantine/` beside `raw/` (same relative key; in the cloud the same bucket) with a reason
file `<key>.quarantine.json`; an operator lists them (`stockpipe quarantine list`) and moves one
back (`stockpipe quarantine release KEY`) once it is fixed, so the next run reads it.

Only storage is used here (no engine): the Glue job moves objects through S3, the CLI through
the local folder or S3. docs/operations.md, "Quarantine", is the operator's side.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .errors import QualityCheckFailed, StorageError

REASON_SUFFIX = ".quarantine.json"
CHECK_NAME = "raw_quarantine"
# The raw table's declared columns by kind (runtime/sql/crawl_raw_table.sql): a value the
# engine cannot cast to its column fails the statement that reads the object.
_BIGINT = ("t", "n")
_DOUBLE = ("o", "h", "l", "c", "v", "vw")
_BOOLEAN = ("otc",)
_INTEGER_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")
_MAX_REASON = 500


class RawQuarantined(QualityCheckFailed):
    """A run met raw objects it cannot read: they were quarantined, nothing was published."""

    def __init__(self, message: str, objects: Sequence[Quarantined]):
        super().__init__(message)
        self.objects = list(objects)


@dataclass
class Quarantined:
    key: str  # under the raw prefix: YYYY/MM/DD/HH/<name>
    reason: str
    quarantined_at: Optional[str] = None
    run_id: Optional[str] = None
    uri: str = ""
    size: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        return {"key": self.key, "reason": self.reason, "quarantined_at": self.quarantined_at,
                "run_id": self.run_id, "uri": self.uri, "size": self.size}


def quarantine_uri(settings: Any) -> str:
    """`<raw prefix>-quarantine/`: `.../lake/raw-quarantine/`, `s3://<raw bucket>/raw-quarantine/`.
    A sibling of raw/, so nothing that lists or crawls raw/ sees it."""
    return settings.raw_uri.rstrip("/") + "-quarantine/"


def _line_problem(record: Any) -> Optional[str]:
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__} instead of an object"
    for name, value in record.items():
        if value is None:
            continue
        problem = None
        if name in _BIGINT:
            problem = _integer_problem(value)
        elif name in _DOUBLE:
            problem = _number_problem(value)
        elif name in _BOOLEAN and not isinstance(value, bool):
            problem = "not true or false"
        if problem:
            return f"field {name!r} = {json.dumps(value)[:60]} is {problem}"
    return None


def _integer_problem(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return "not a whole number"
    if isinstance(value, str) and _INTEGER_TEXT.match(value):
        value = int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        return "not a whole number"
    return None if -(2 ** 63) <= value < 2 ** 63 else "beyond a 64-bit integer"


def _number_problem(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return "not a number"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return "not a number"
        return None
    return None if isinstance(value, (int, float)) else "not a number"


def unreadable_reason(data: bytes) -> Optional[str]:
    """Why the engine cannot read this raw object (None when every line is a JSON record
    whose declared fields have castable values): the first bad line, numbered."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x})"
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            what = "truncated" if "Expecting" in str(exc) and exc.pos >= len(line) else "not JSON"
            return f"line {number} is {what}: {exc.msg} at column {exc.colno}"
        problem = _line_problem(record)
        if problem:
            return f"line {number}: {problem}"
    return None


def _reason_uri(settings: Any, key: str) -> str:
    return quarantine_uri(settings) + key + REASON_SUFFIX


def quarantine(
    settings: Any, storage: Any, key: str, reason: str, *, run_id: str, moment: datetime
) -> Quarantined:
    """Move raw object `key` to the quarantine with its reason. The reason is written first: a
    run killed between the two leaves the object in raw/, and the next run quarantines it again
    (overwriting the reason)."""
    item = Quarantined(key, reason[:_MAX_REASON],
                       moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       run_id, quarantine_uri(settings) + key)
    storage.write(_reason_uri(settings, key), json.dumps(item.to_dict(), indent=1).encode())
    storage.move(settings.raw_uri + key, item.uri)
    return item


def list_quarantined(settings: Any, storage: Any) -> List[Quarantined]:
    """Every quarantined object, oldest key first, with its recorded reason."""
    root = quarantine_uri(settings)
    uris = storage.list(root)
    present = set(uris)
    out = []
    for uri in uris:
        if uri.endswith(REASON_SUFFIX) or not uri.startswith(root):
            continue
        key = uri[len(root):]
        item = Quarantined(key, "no reason recorded", uri=uri)
        reason_uri = uri + REASON_SUFFIX
        if reason_uri in present:
            try:
                recorded = json.loads(storage.read(reason_uri))
                item.reason = str(recorded.get("reason") or item.reason)
                item.quarantined_at = recorded.get("quarantined_at")
                item.run_id = recorded.get("run_id")
            except (ValueError, StorageError, AttributeError):
                item.reason = f"reason file {reason_uri} is unreadable"
        item.size = storage.size(uri)
        out.append(item)
    return out


class QuarantineError(StorageError):
    """A release that cannot be done: no such quarantined object, or raw/ already has it."""


def release(settings: Any, storage: Any, keys: Sequence[str]) -> List[str]:
    """Move quarantined objects back under raw/ (the next run reads them); returns their keys.
    Every key is checked before anything moves."""
    known = {q.key: q for q in list_quarantined(settings, storage)}
    missing = [k for k in keys if k not in known]
    if missing:
        listed = ", ".join(sorted(known)) or "none"
        raise QuarantineError(
            f"not in the quarantine ({quarantine_uri(settings)}): {', '.join(missing)}; "
            f"quarantined keys: {listed}"
        )
    # An exact object (exists() is a prefix test on S3: raw/x would match raw/x2).
    taken = [k for k in keys if storage.size(settings.raw_uri + k) is not None]
    if taken:
        raise QuarantineError(
            f"raw/ already holds {', '.join(taken)} ({settings.raw_uri}); remove or rename "
            "that object first, then release"
        )
    for key in keys:
        storage.move(known[key].uri, settings.raw_uri + key)
        reason = _reason_uri(settings, key)
        if storage.size(reason) is not None:
            storage.delete(reason)
    return list(keys)


def _names(text: str, uri: str) -> bool:
    """True if `text` mentions `uri` as a whole name (`.../x` is not named by `.../x2`)."""
    for m in re.finditer(re.escape(uri), text):
        after = text[m.end():m.end() + 1]
        if not after or not (after.isalnum() or after in "._-"):
            return True
    return False


def find_unreadable(
    settings: Any, storage: Any, keys: Sequence[str], engine_error: str = ""
) -> List[Tuple[str, str]]:
    """(key, reason) of the raw objects among `keys` that cannot be read: every one whose
    content fails `unreadable_reason`, and the one the engine's error names (with that error
    as the reason when its content looks fine, e.g. a limit of the engine). Reads each object
    once."""
    found: Dict[str, str] = {}
    prefix = settings.raw_uri
    for key in keys:
        try:
            reason = unreadable_reason(storage.read(prefix + key))
        except StorageError as exc:
            reason = f"unreadable: {exc}"
        if reason is None and _names(engine_error, prefix + key):
            said = " ".join(engine_error.split(" [statement:", 1)[0].split())  # not the statement
            reason = f"the engine could not read it: {said}"
        if reason:
            found[key] = reason
    return sorted(found.items())

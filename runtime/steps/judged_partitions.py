"""The partitions quality judged clean, reused while their data files stay the same.

A check whose header says `-- scope: partition` judges each partition of the sans-dup table on
that partition's rows alone: a rule on each row, or duplicates, whose key (ticker, bar_time_ms)
fixes the partition. Its failing count over the table is the sum over the partitions, so a
partition holding exactly the files it held when every such check found 0 failing rows in it
still has 0. Quality records, beside the table, each clean partition's file digest and row
count, and runs those checks only over the partitions whose files changed since: on a daily
run, the few that dedup rewrote. The answer is the one a scan of the whole table gives.

What invalidates the record: any change to a partition's files (dedup writes new file names;
a file's size and tag change when it is rewritten), a change to any partition-scope check's
SQL or to the partition column (the record is then ignored as a whole), and a clock that went
back (a check may compare bars with `checked_at`, and a later time fails no more rows: see
docs/architecture.md "Quality: judged partitions"). Dedup's full refresh deletes the table's
location and the record with it. The record's name starts with '_', so Athena and publish skip it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, Iterable, Optional, Tuple

from ..sql_files import sql_text
from ..storage import Storage
from .archive import Files
from .partitions import is_partition_value

RECORD_NAME = "_stockpipe_judged_partitions.json"
FORMAT = 1
log = logging.getLogger(__name__)


def record_uri(table_location: str) -> str:
    return table_location.rstrip("/") + "/" + RECORD_NAME


def files_by_partition(files: Files, column: str) -> Optional[Dict[str, str]]:
    """Each partition value's digest of its files (path, size, tag), or None when a file lies
    outside a `column=<value>/` folder (the table is then judged whole)."""
    grouped: Dict[str, list] = {}
    prefix = column + "="
    for path, size, tag in files:
        folder, sep, _name = path.partition("/")
        if not sep or not folder.startswith(prefix):
            return None
        value = folder[len(prefix):]
        if not is_partition_value(value):
            return None
        grouped.setdefault(value, []).append([path, int(size), str(tag)])
    return {
        value: hashlib.sha256(
            json.dumps(sorted(entries), separators=(",", ":")).encode("utf-8")
        ).hexdigest()
        for value, entries in grouped.items()
    }


def checks_digest(sql_files: Iterable[str], column: str) -> str:
    """What the record's results depend on besides the data: the partition-scope checks' SQL
    (as written, before the values are filled in) and the partition column."""
    body = json.dumps([FORMAT, column, [[f, sql_text(f)] for f in sorted(sql_files)]])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass
class JudgedPartitions:
    """Clean partitions: value -> (files digest, rows), valid for `checks` from `judged_at`."""

    checks: str
    judged_at: str
    partitions: Dict[str, Tuple[str, int]] = field(default_factory=dict)

    def reusable(self, current: Dict[str, str]) -> Dict[str, int]:
        """The partitions of `current` (value -> files digest) this record judged clean with
        exactly those files: value -> rows."""
        return {
            value: rows
            for value, (digest, rows) in self.partitions.items()
            if current.get(value) == digest
        }

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "checks": self.checks,
            "judged_at": self.judged_at,
            "partitions": {v: [d, r] for v, (d, r) in sorted(self.partitions.items())},
        }, separators=(",", ":"))


def load(storage: Storage, uri: str, checks: str, moment: datetime) -> Optional[JudgedPartitions]:
    """The record, if it exists, is readable, was made by these checks and not after `moment`;
    else None, and every partition is judged."""
    try:
        if not storage.exists(uri):
            return None
        data = json.loads(storage.read(uri))
        record = JudgedPartitions(
            str(data["checks"]), str(data["judged_at"]),
            {str(v): (str(d), int(r)) for v, (d, r) in dict(data["partitions"]).items()},
        )
        if int(data["format"]) != FORMAT:
            return None
    except Exception as exc:  # noqa: BLE001 - a damaged record costs a full judgement only
        log.warning("quality ignores %s (%s); every partition is judged", uri, exc)
        return None
    if record.checks != checks:
        log.info("the partition-scope checks changed since %s; every partition is judged", uri)
        return None
    if record.judged_at > stamp(moment):
        log.info("the clock is before %s's time (%s); every partition is judged", uri,
                 record.judged_at)
        return None
    return record


def save(storage: Storage, uri: str, record: JudgedPartitions) -> None:
    storage.write(uri, record.to_json().encode("utf-8"))


def stamp(moment: datetime) -> str:
    """`moment` as fixed-width UTC text, so that text order is time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

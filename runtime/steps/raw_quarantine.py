"""Transform's answer to a raw object the engine cannot read: quarantine it (runtime/quarantine.py)
and record a failed blocking check, so that run publishes nothing and says why, and the next run
reads the rest. Without this, the one object fails every run until someone deletes it."""

from __future__ import annotations

from datetime import datetime
from typing import List, Sequence

from ..checks import CheckResult
from ..engines.base import Engine
from ..quarantine import (
    CHECK_NAME,
    Quarantined,
    RawQuarantined,
    find_unreadable,
    quarantine,
    quarantine_uri,
)
from ..settings import Settings
from ..sql_files import render
from ..storage import Storage
from .common import append_rows, new_run_id
from .quality_run import history_values


def record_failed_check(
    settings: Settings, engine: Engine, name: str, failing: int, moment: datetime
) -> str:
    """Append one failed blocking check as a quality run of its own; returns its run id. The
    newest quality run is what publish, `checks` and `status` read, so this one stops publish
    until a later quality run passes."""
    dq = settings.dq_table
    exists = engine.table_exists(dq)
    previous = engine.execute(render("dq_max_run_id.sql", dq_table=dq)).scalar() if exists else None
    run_id = new_run_id(moment, str(previous) if previous else None)
    values = history_values(run_id, moment, [CheckResult(name, "error", failing, False)])
    append_rows(settings, engine, "dq", dq, values, exists)
    return run_id


def quarantine_unreadable(
    settings: Settings,
    engine: Engine,
    storage: Storage,
    keys: Sequence[str],
    error: BaseException,
    moment: datetime,
) -> None:
    """After `error` failed a statement reading the raw objects `keys`: quarantine those that
    cannot be read and raise RawQuarantined; return (the caller re-raises `error`) when none
    of them is to blame."""
    found = find_unreadable(settings, storage, keys, str(error))
    if not found:
        return
    run_id = record_failed_check(settings, engine, CHECK_NAME, len(found), moment)
    moved: List[Quarantined] = [
        quarantine(settings, storage, key, reason, run_id=run_id, moment=moment)
        for key, reason in found
    ]
    first = moved[0]
    more = f" and {len(moved) - 1} more" if len(moved) > 1 else ""
    raise RawQuarantined(
        f"quarantined {len(moved)} raw object{'s' if len(moved) > 1 else ''} that cannot be "
        f"read: {first.key} ({first.reason}){more}, moved to {quarantine_uri(settings)}; check "
        f"{CHECK_NAME} failed in run {run_id}, nothing published. The next run reads the rest; "
        "`stockpipe quarantine list` shows why, `stockpipe quarantine release KEY` puts a "
        "fixed object back",
        moved,
    ) from error

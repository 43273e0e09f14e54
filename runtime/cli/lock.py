"""One stockpipe process per home: a second one's ingest would land files under a running
workflow (its raw/Parquet row-count check would then fail) and DuckDB allows one writer."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator

from ..errors import StockpipeError

LOCK_NAME = ".stockpipe.lock"


class HomeBusy(StockpipeError):
    """Another stockpipe process holds the home's lock."""


@contextlib.contextmanager
def home_lock(home: Path, wait_seconds: float = 0.0, poll: float = 5.0) -> Iterator[None]:
    """Hold `<home>/.stockpipe.lock` (an OS lock, released even if the process dies) or raise
    HomeBusy naming the holder's PID; waits up to `wait_seconds` for it first."""
    try:
        import fcntl
    except ImportError:  # Windows: DuckDB's own file lock still refuses a second writer
        yield
        return
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    handle = open(home / LOCK_NAME, "a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip()[:20]
                    who = f" (PID {holder})" if holder.isdigit() else ""
                    raise HomeBusy(
                        f"another stockpipe process{who} is using {home}; wait for it to "
                        "finish, or use another --home"
                    ) from None
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()

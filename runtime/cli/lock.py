"""One stockpipe process per home: a second one's ingest would land files under a running
workflow (its raw/Parquet row-count check would then fail) and DuckDB allows one writer.

The lock is an OS lock on `<home>/.stockpipe.lock` (released even if the process dies); the
file's text names the holder (PID, command, start time) for the messages and `status`."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

from ..errors import StockpipeError

LOCK_NAME = ".stockpipe.lock"


class HomeBusy(StockpipeError):
    """Another stockpipe process holds the home's lock."""


@dataclass
class Holder:
    """What the lock file says about the process holding it."""

    pid: Optional[int] = None
    command: Optional[str] = None
    since: Optional[str] = None

    @classmethod
    def parse(cls, text: str) -> Holder:
        parts = text.strip().split()
        pid = int(parts[0]) if parts and parts[0].isdigit() else None
        command = parts[1] if len(parts) > 1 and pid is not None and parts[1] != "-" else None
        since = parts[2] if len(parts) > 2 and command is not None else None
        return cls(pid, command, since)

    def describe(self) -> str:
        """'PID 123: stockpipe run since 2026-12-01T10:42:37Z', or less when less is known."""
        if self.pid is None:
            return ""
        text = f"PID {self.pid}"
        if self.command:
            text += f": stockpipe {self.command}"
            if self.since:
                text += f" since {self.since}"
        return text

    def to_dict(self) -> Dict[str, object]:
        return {"pid": self.pid, "command": self.command, "since": self.since}


def _flock():
    try:
        import fcntl
    except ImportError:  # Windows: DuckDB's own file lock still refuses a second writer
        return None
    return fcntl


def lock_holder(home: Path) -> Optional[Holder]:
    """Who holds the home's lock right now, or None when it is free (or there is no home)."""
    fcntl = _flock()
    path = Path(home) / LOCK_NAME
    if fcntl is None or not path.is_file():
        return None
    with open(path, encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return Holder.parse(handle.read(200))
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _busy(home: Path, holder: Holder) -> HomeBusy:
    who = f" ({holder.describe()})" if holder.pid is not None else ""
    return HomeBusy(
        f"another stockpipe process{who} is using {home}; wait for it to finish, or use "
        "another --home"
    )


@contextlib.contextmanager
def home_lock(
    home: Path,
    wait_seconds: float = 0.0,
    poll: float = 0.5,
    command: Optional[str] = None,
    on_wait: Optional[Callable[[str], None]] = None,
) -> Iterator[None]:
    """Hold `<home>/.stockpipe.lock` or raise HomeBusy naming the holder; waits up to
    `wait_seconds` for it first, telling `on_wait` once what it waits for."""
    fcntl = _flock()
    if fcntl is None:
        yield
        return
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    handle = open(home / LOCK_NAME, "a+", encoding="utf-8")
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                handle.seek(0)
                holder = Holder.parse(handle.read(200))
                if time.monotonic() >= deadline:
                    raise _busy(home, holder) from None
                if on_wait is not None and not told:
                    who = holder.describe() or "another stockpipe process"
                    on_wait(f"waiting up to {wait_seconds:g}s for {who} to finish with {home}")
                    told = True
                time.sleep(poll)
        since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {command or '-'} {since}\n")
        handle.flush()
        yield
    finally:
        handle.close()

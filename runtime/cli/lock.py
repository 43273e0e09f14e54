"""One stockpipe process per home: a second one's ingest would land files under a running
workflow (its raw/Parquet row-count check would then fail) and DuckDB allows one writer.

The lock is an OS lock on `<home>/.stockpipe.lock` (released even if the process dies); the
file's text names the holder (PID, command, start time) for the messages and `status`."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Callable, Dict, Iterator, Optional

from ..errors import StockpipeError, StorageError

LOCK_NAME = ".stockpipe.lock"


class HomeBusy(StockpipeError):
    """Another stockpipe process holds the home's lock."""


class UnsafeLockPath(StockpipeError):
    """The lock path is a link or not a plain file: writing our PID there would damage it."""


def _open_lock_file(path: Path) -> IO[str]:
    """The lock file opened for update, created if missing; never through a symbolic link,
    and only if it is a regular file with no other name: the lock writes its holder's PID into
    the file, which would truncate whatever a link pointed at."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeLockPath(
                f"{path} is a symbolic link; stockpipe does not follow it (it would overwrite "
                "the link's target): remove the link and run again"
            ) from None
        raise UnsafeLockPath(f"cannot open the lock file {path}: {exc.strerror}") from None
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif info.st_nlink != 1:
        problem = f"has {info.st_nlink} names (a hard link to another file)"
    if problem:
        os.close(fd)
        raise UnsafeLockPath(
            f"the lock file {path} {problem}; stockpipe writes its PID into it: remove it and "
            "run again"
        )
    return os.fdopen(fd, "r+", encoding="utf-8")


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
    if fcntl is None or path.is_symlink() or not path.is_file():
        return None  # a link is refused by home_lock: nobody can hold it
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
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, a read-only or missing parent
        raise StorageError(
            f"cannot use {home} as the stockpipe home: {exc.strerror or exc}; pass a writable "
            "folder with --home (or $STOCKPIPE_HOME)"
        ) from None
    handle = _open_lock_file(home / LOCK_NAME)
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
        try:
            # Unbuffered: a write that fails on a full disk must not be retried by close().
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), f"{os.getpid()} {command or '-'} {since}\n".encode(), 0)
        except OSError:
            pass  # a full disk: the lock holds without the holder's line, which only names it
        yield
    finally:
        handle.close()

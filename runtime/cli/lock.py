"""One stockpipe process per home: a second one's ingest would land files under a running
workflow (its raw/Parquet row-count check would then fail) and DuckDB allows one writer."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from pathlib import Path
from typing import IO, Iterator

from ..errors import StockpipeError

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
    handle = _open_lock_file(home / LOCK_NAME)
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
        try:
            # Unbuffered: a write that fails on a full disk must not be retried by close().
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # a full disk: the lock holds without the PID, which only names the holder
        yield
    finally:
        handle.close()

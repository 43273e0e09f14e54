"""SIGTERM (a service manager, `kill`, a CI timeout) stops a command the way Ctrl-C does: the
exception unwinds through every `finally`, so the statement in flight ends or is rolled back,
the engine closes and the home's lock is released, and the exit code says which signal."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


class Stopped(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives; a KeyboardInterrupt, so code that
    cleans up after Ctrl-C (the ingest delivers what it buffered) does the same for it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def exit_code_of(exc: KeyboardInterrupt) -> int:
    """143 for SIGTERM, 130 for SIGINT (Ctrl-C), the shell's convention."""
    return exc.exit_code if isinstance(exc, Stopped) else 128 + int(signal.SIGINT)


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into Stopped for the length of one command (main thread only: a signal
    handler can be set nowhere else). Further SIGTERMs during the clean-up are ignored so the
    one-line message and the lock release are not cut short; SIGKILL still ends it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Stopped(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

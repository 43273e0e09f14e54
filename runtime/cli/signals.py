"""SIGTERM (a service manager, `kill`, a CI timeout) stops a command the way Ctrl-C does: the
exception unwinds through every `finally`, so the statement in flight ends or is rolled back,
the engine closes and the home's lock is released, and the exit code says which signal."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator, Optional


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


class Signals:
    """Which stopping signal arrived during the command, if any. DuckDB runs a query's signal
    check itself and turns the KeyboardInterrupt it gets into its own error ("Query
    interrupted"), so the exception that reaches the CLI may not say a signal stopped it."""

    def __init__(self) -> None:
        self.signum: Optional[int] = None

    def stopped(self) -> Optional[KeyboardInterrupt]:
        """The interrupt the signal meant, or None when no signal arrived."""
        if self.signum is None:
            return None
        if self.signum == signal.SIGINT:
            return KeyboardInterrupt()
        return Stopped(self.signum)


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[Signals]:
    """Turn SIGTERM into Stopped for the length of one command (main thread only: a signal
    handler can be set nowhere else), and note SIGTERM and SIGINT in the Signals it yields.
    Further SIGTERMs during the clean-up are ignored so the one-line message and the lock
    release are not cut short; SIGKILL still ends it."""
    seen = Signals()
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def on_term(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        seen.signum = signum
        raise Stopped(signum)

    def on_int(signum, frame):
        seen.signum = signum
        raise KeyboardInterrupt

    previous_term = signal.signal(signal.SIGTERM, on_term)
    previous_int = signal.signal(signal.SIGINT, on_int)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)

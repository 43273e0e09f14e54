"""Shared helpers of the workflow end-to-end tests: a fresh home per test, the CLI in-process,
the local engine, and raw-record injection in the Firehose key layout."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from runtime.settings import Settings

# A fixed past window: 7 days ending Friday 2026-11-20 is 2026-11-13..20, six XNYS sessions
# (13, 16-20) of 16 demo bars each (04:00-19:00 ET) = 96 bars per ticker.
END = date(2026, 11, 20)
BARS_PER_SESSION = 16
# Just after the window: its last session has closed, so both calendar checks can pass.
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)

_ENV = (
    "POLYGON_API_KEY", "POLYGON_BASE_URL", "STOCKPIPE_TICKERS", "STOCKPIPE_WINDOW_DAYS",
    "STOCKPIPE_HOME", "STOCKPIPE_DATABASE", "STOCKPIPE_TABLE_PREFIX",
    "STOCKPIPE_PARTITION_GRANULARITY", "STOCKPIPE_RAW_URI", "STOCKPIPE_CURATED_URI",
    "STOCKPIPE_ARCHIVE_URI", "STOCKPIPE_ATHENA_WORKGROUP", "STOCKPIPE_ARCHIVE_KEEP",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No key (auto = demo), no settings leaking in from the developer's shell."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@dataclass
class CliRun:
    code: int
    out: str
    err: str

    def json(self) -> Dict[str, Any]:
        return json.loads(self.out)

    @property
    def messages(self) -> List[str]:
        """stderr without its progress log lines (stderr is not a terminal here): the notices
        and the one-line errors."""
        return [line for line in self.err.splitlines() if not LOG_LINE.match(line)]


# A progress line as the CLI logs it when stderr is not a terminal.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (debug|info|warning|error) ")


def cli(*argv: str) -> CliRun:
    from runtime.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return CliRun(code, out.getvalue(), err.getvalue())


class Lake:
    """A home's settings with its local engine and storage, reopened on demand (the CLI opens its
    own engine on the same DuckDB file, so tests close theirs before calling it)."""

    def __init__(self, settings: Settings, engine=None):
        from runtime.engines import make_engine, make_storage

        self.settings = settings
        self._make_engine = make_engine
        self.storage = make_storage(settings)
        self._engine = engine

    @property
    def engine(self):
        if self._engine is None:
            self._engine = self._make_engine(self.settings)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def rows(self, sql: str) -> List[tuple]:
        return list(self.engine.execute(sql).rows)

    def scalar(self, sql: str) -> Any:
        return self.engine.execute(sql).scalar()

    def prod_tables(self) -> List[str]:
        """The production archives (not the view, not an archive's `_splits` companion)."""
        from runtime.steps import archives

        return sorted(archives(self.settings, self.engine))

    def ingest(self, *, end: date = END, days: int = 7, now: datetime = T0, **kw: Any):
        from runtime.ingest import run_ingest

        return run_ingest(
            self.settings, source=kw.pop("source", "demo"), end_date=end, days=days,
            storage=self.storage, now=now, **kw,
        )

    def workflow(self, from_step: str = "crawl", now: Optional[datetime] = None):
        from runtime.runner import run_workflow

        return run_workflow(
            self.settings, self.engine, self.storage, from_step, now=now or T0 + timedelta(hours=1)
        )

    def raw_records(self) -> List[Dict[str, Any]]:
        out = []
        for uri in self.storage.list(self.settings.raw_uri):
            for line in self.storage.read(uri).decode("utf-8").splitlines():
                if line.strip():
                    out.append(json.loads(line))
        return out

    def inject_raw(self, records: List[Dict[str, Any]], arrival: datetime) -> str:
        """Deliver records as Firehose would: one new object under raw/YYYY/MM/DD/HH/."""
        from runtime.records import arrival_key

        uri = arrival_key(self.settings.raw_uri, "test-stream", arrival)
        body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        self.storage.write(uri, body.encode("utf-8"))
        return uri


@pytest.fixture
def lake(home):
    lk = Lake(Settings(home=home, tickers=("AAPL",)))
    yield lk
    lk.close()


@pytest.fixture
def run_cli():
    """`stockpipe ...` in-process: returns CliRun(code, out, err)."""
    return cli


@pytest.fixture
def make_lake():
    """Lake(settings) for any home and tickers; closed at teardown."""
    made: List[Lake] = []

    def make(home: Path, tickers=("AAPL",), **changes: Any) -> Lake:
        lk = Lake(Settings(home=home, tickers=tickers, **changes))
        made.append(lk)
        return lk

    yield make
    for lk in made:
        lk.close()

"""A tiny local lake for step tests: hand-written raw records, the real local engine."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

import pytest

from runtime.settings import Settings


class MiniLake:
    def __init__(self, settings: Settings):
        from runtime.engines import make_engine, make_storage

        self.settings = settings
        self.storage = make_storage(settings)
        self.engine = make_engine(settings)
        self._n = 0

    def raw(self, records: List[Dict[str, Any]], settings: Optional[Settings] = None) -> None:
        """One Firehose-layout object holding `records` (lineage fields filled in), under the
        raw prefix of `settings` (default: the lake's own)."""
        self._n += 1
        lines = []
        for rec in records:
            full = {
                "ingested_at": "2026-11-21T12:00:00.000Z",
                "request_id": "req-test",
                "window_from": "2026-11-13",
                "window_to": "2026-11-20",
                "source": "demo",
                **rec,
            }
            lines.append(json.dumps(full) + "\n")
        uri = (f"{(settings or self.settings).raw_uri}2026/11/21/12/test-1-2026-11-21-12-00-00-"
               f"{self._n:08d}")
        self.storage.write(uri, "".join(lines).encode("utf-8"))

    def rows(self, sql: str):
        return self.engine.execute(sql).rows


def bar(t: int, ticker: str = "AAPL", **kw: Any) -> Dict[str, Any]:
    """A valid bar: o 10, h 11, l 9, c 10.5, v 1000, vw 10.25, n 7 unless overridden."""
    base = {"ticker": ticker, "t": t, "o": 10, "h": 11, "l": 9, "c": 10.5, "v": 1000,
            "vw": 10.25, "n": 7}
    base.update(kw)
    return base


def ms(*args: int) -> int:
    """UTC datetime parts -> Unix milliseconds."""
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


@pytest.fixture
def mini(tmp_path):
    lake = MiniLake(Settings(home=tmp_path / "home", tickers=("AAPL",)))
    yield lake
    lake.engine.close()


@pytest.fixture(scope="module")
def module_mini(tmp_path_factory):
    """One MiniLake (and one engine) shared by a whole test module: for modules whose tests
    each work on tables of their own, so the engine opens once instead of once per test."""
    lake = MiniLake(Settings(home=tmp_path_factory.mktemp("home"), tickers=("AAPL",)))
    yield lake
    lake.engine.close()


@pytest.fixture
def make_mini(tmp_path):
    made = []

    def make(**changes: Any) -> MiniLake:
        lake = MiniLake(Settings(home=tmp_path / f"home{len(made)}", **changes))
        made.append(lake)
        return lake

    yield make
    for lake in made:
        lake.engine.close()


@pytest.fixture
def helpers():
    return type("H", (), {"bar": staticmethod(bar), "ms": staticmethod(ms)})

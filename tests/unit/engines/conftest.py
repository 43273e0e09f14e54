"""Fixtures for the engine tests: a LocalEngine on a fresh DuckDB file, and lake folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator, List

import pytest

from runtime.engines.local import LocalEngine


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def engine(home: Path) -> Iterator[LocalEngine]:
    # Every table here has a few files: let the scan cache copy them as it copies a big table.
    eng = LocalEngine(home / "catalog.duckdb", scan_cache_min_files=1)
    yield eng
    eng.close()


@pytest.fixture
def lake(home: Path) -> Path:
    path = home / "lake"
    path.mkdir()
    return path


def parquet_files(location: Path) -> List[Path]:
    return sorted(p for p in location.rglob("*.parquet"))


def write_firehose_object(root: Path, hour: str, name: str, records: Iterable[dict]) -> Path:
    """One Firehose-style object: `root/YYYY/MM/DD/HH/name`, no extension, one JSON per line."""
    folder = root.joinpath(*hour.split("/"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path

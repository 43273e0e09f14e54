"""A tiny generated raw lake shared by the benchmark tests: 2 tickers x 7 calendar days."""

from __future__ import annotations

import datetime as dt

import pytest

from benchmarks.generate import Size, generate

# 2026-11-19..25 holds five XNYS sessions (19, 20, 23, 24, 25); Thanksgiving is the 26th.
TINY = Size(2, 7)
TINY_END = dt.date(2026, 11, 25)
TINY_SESSIONS = 5


@pytest.fixture(scope="session")
def tiny_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-tiny")
    manifest = generate(root, TINY, TINY_END)
    return root, manifest

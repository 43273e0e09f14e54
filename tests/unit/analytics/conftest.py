"""A small known dataset in the local engine: the production view and the check history.

AAPL: 20 hourly bars from 2026-11-16 14:00 UTC (09:00 ET). Close alternates 100 and 100*e^0.01,
so hourly log returns are exactly +0.01, -0.01, +0.01, ...; open is the previous close (99 for
the first bar); high/low are 0.5 above/below the body; volume is 1000 + 100*i.
MSFT: 3 bars in the same hours (volume 5, 6, 7) to prove the ticker filter.
Outside the test range: one AAPL bar a week earlier, and one AAPL bar inside the time range whose
partition value lies outside it (to prove the partition predicate is applied).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import List
from zoneinfo import ZoneInfo

import pytest

from runtime.settings import Settings

NY = ZoneInfo("America/New_York")
START = datetime(2026, 11, 16, 14, 0)  # UTC, naive like the engine's timestamps
N_AAPL = 20
TIME_FROM = datetime(2026, 11, 16, 0, 0)
TIME_TO = datetime(2026, 11, 18, 0, 0)


@dataclass
class Bar:
    ticker: str
    bar_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float
    partition: str = ""
    split_factor: float = 1.0  # the splits after the bar's day, as the adjusted view gives it

    def __post_init__(self):
        if not self.partition:
            local = self.bar_time.replace(tzinfo=timezone.utc).astimezone(NY)
            self.partition = local.strftime("%Y-%m-%d-%H")


def aapl_close(i: int) -> float:
    return 100.0 * math.exp(0.01 * (i % 2))


def aapl_bars() -> List[Bar]:
    bars = []
    for i in range(N_AAPL):
        o = 99.0 if i == 0 else aapl_close(i - 1)
        c = aapl_close(i)
        bars.append(Bar("AAPL", START + timedelta(hours=i), o, max(o, c) + 0.5, min(o, c) - 0.5,
                        c, 1000.0 + 100 * i, round((o + c) / 2, 2)))
    return bars


def all_bars() -> List[Bar]:
    bars = aapl_bars()
    bars += [Bar("MSFT", START + timedelta(hours=i), 400.0, 401.0, 399.0, 400.5, 5.0 + i, 400.2)
             for i in range(3)]
    bars.append(Bar("AAPL", START - timedelta(days=7), 90.0, 91.0, 89.0, 90.5, 1e6, 90.2))
    # Inside the time filter but filed under a partition before the range: must not be read.
    bars.append(Bar("AAPL", START + timedelta(minutes=30), 50.0, 51.0, 49.0, 50.5, 1e6, 50.2,
                    partition="2026-11-01-09"))
    return bars


def _row(b: Bar) -> str:
    ms = int(b.bar_time.replace(tzinfo=timezone.utc).timestamp() * 1000)
    return (
        f"(CAST('{b.ticker}' AS varchar), TIMESTAMP '{b.bar_time:%Y-%m-%d %H:%M:%S}', "
        f"CAST({ms} AS bigint), CAST({b.open!r} AS double), CAST({b.high!r} AS double), "
        f"CAST({b.low!r} AS double), CAST({b.close!r} AS double), CAST({b.volume!r} AS double), "
        f"CAST({b.vwap!r} AS double), CAST(10 AS bigint), TIMESTAMP '2026-11-22 00:00:00', "
        f"CAST({b.split_factor!r} AS double), "
        f"CAST('{b.partition}' AS varchar), CAST('{b.partition[:10]}' AS varchar))"
    )


DQ_ROWS = [
    # run r1 (older): a blocking failure
    ("r1", "2026-11-20 12:00:00", "duplicate_keys", "error", 2, False),
    ("r1", "2026-11-20 12:00:00", "null_values", "error", 0, True),
    # run r2 (latest): all blocking checks pass, freshness warns
    ("r2", "2026-11-21 12:00:00", "duplicate_keys", "error", 0, True),
    ("r2", "2026-11-21 12:00:00", "freshness", "warning", 1, False),
    ("r2", "2026-11-21 12:00:00", "null_values", "error", 0, True),
]


def _dq_row(r) -> str:
    return (
        f"(CAST('{r[0]}' AS varchar), TIMESTAMP '{r[1]}', CAST('{r[2]}' AS varchar), "
        f"CAST('{r[3]}' AS varchar), CAST({r[4]} AS bigint), {'true' if r[5] else 'false'})"
    )


# As the production table with day partitions (the default): the New York hour, then the day.
# (The as-traded columns are left out: no panel reads them.)
BAR_COLUMNS = ("ticker, bar_time, bar_time_ms, open, high, low, close, volume, vwap, "
               "transactions, ingested_at, split_factor, day_hour_partition, day_partition")
DQ_COLUMNS = "run_id, run_at, check_name, severity, failing_rows, passed"


def load_fixture(settings: Settings, engine, with_view: bool = True, with_dq: bool = True,
                 empty_view: bool = False) -> None:
    """CTAS the bars and history from VALUES lists, then the production view over the bars."""
    if with_view:
        engine.execute(
            f"CREATE TABLE fixture_bars AS SELECT * FROM "
            f"(VALUES {', '.join(map(_row, all_bars()))}) AS t({BAR_COLUMNS})"
        )
        where = " WHERE ticker = 'NONE'" if empty_view else ""
        engine.execute(
            f"CREATE VIEW {settings.prod_latest_view} AS SELECT * FROM fixture_bars{where}"
        )
    if with_dq:
        engine.execute(
            f"CREATE TABLE {settings.dq_table} AS SELECT * FROM "
            f"(VALUES {', '.join(map(_dq_row, DQ_ROWS))}) AS t({DQ_COLUMNS})"
        )


def load_bars(settings: Settings, engine, bars: List[Bar]) -> None:
    """A production view over just `bars` (for datasets other than the default fixture)."""
    engine.execute(
        f"CREATE TABLE custom_bars AS SELECT * FROM "
        f"(VALUES {', '.join(map(_row, bars))}) AS t({BAR_COLUMNS})"
    )
    engine.execute(f"CREATE VIEW {settings.prod_latest_view} AS SELECT * FROM custom_bars")


def make_local_engine(settings: Settings):
    from runtime.engines import make_engine

    return make_engine(settings)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", tickers=("AAPL", "MSFT"))


@pytest.fixture
def engine(settings):
    eng = make_local_engine(settings)
    yield eng
    eng.close()


@pytest.fixture
def loaded(settings, engine):
    load_fixture(settings, engine)
    return engine



@pytest.fixture
def checks_only(settings, engine):
    """History of a failed first run: check results, no production view."""
    load_fixture(settings, engine, with_view=False)
    return engine


@pytest.fixture
def empty_view(settings, engine):
    """A production view that exists but has no rows."""
    load_fixture(settings, engine, with_dq=False, empty_view=True)
    return engine

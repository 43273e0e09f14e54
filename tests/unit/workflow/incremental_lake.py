"""A lake for incremental-run tests: hand-made raw objects in the Firehose layout, and twin table
sets over the same raw prefix in one catalog ("inc": daily incremental runs; "full": rebuilt
from all raw data), so the two can be compared in one SQL statement."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from runtime import steps
from runtime.records import arrival_key
from runtime.settings import Settings

START = date(2026, 10, 1)
HOURS_UTC = (13, 14, 19, 23)  # 23:00 UTC is 19:00 (EDT) or 18:00 (EST) in New York


def ms(day: date, hour: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc).timestamp()
               * 1000)


def bar(ticker: str, t: int, version: int, ingested_at: datetime) -> Dict[str, Any]:
    """A valid bar whose prices move with `version` (a restatement changes them)."""
    base = 100 + (t // 3_600_000) % 50 + version * 0.25
    return {
        "ticker": ticker, "t": t, "o": base, "h": base + 1, "l": base - 1, "c": base + 0.5,
        "v": 1000 + version, "vw": base + 0.25, "n": 7 + version,
        "ingested_at": ingested_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        # the demo source's window end is the bar's split basis (transform casts it to a date)
        "request_id": f"req-{version}", "window_from": f"{ingested_at:%Y-%m-%d}",
        "window_to": f"{ingested_at:%Y-%m-%d}", "source": "demo",
    }


class Twins:
    """One home, one engine, two table sets over the same raw objects."""

    def __init__(self, home, granularity: str = "day", tickers: Tuple[str, ...] = ("AAPL",)):
        from runtime.engines import make_engine, make_storage

        self.inc = Settings(home=home, tickers=tickers, partition_granularity=granularity)
        self.full = self.inc.replace(table_prefix="full", raw_uri_override=self.inc.raw_uri)
        self.storage = make_storage(self.inc)
        self.engine = make_engine(self.inc)
        self.tickers = tickers

    def close(self) -> None:
        self.engine.close()

    def reopen(self) -> None:
        from runtime.engines import make_engine

        self.engine.close()
        self.engine = make_engine(self.inc)

    # ---- raw objects --------------------------------------------------------------------
    def deliver(self, records: Iterable[Dict[str, Any]], arrival: datetime) -> str:
        uri = arrival_key(self.inc.raw_uri, "test-stream", arrival)
        body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        self.storage.write(uri, body.encode("utf-8"))
        return uri

    def daily(self, run: int, days: int = 8, restated_days: int = 2) -> List[str]:
        """Run `run`'s ingest: one object per ticker over the `days`-day window ending on day
        `run + days - 1`; its last `restated_days` days carry restated values."""
        arrival = datetime.combine(START + timedelta(days=run + days), datetime.min.time(),
                                   tzinfo=timezone.utc) + timedelta(hours=15)
        uris = []
        for ticker in self.tickers:
            records = []
            for d in range(days):
                day = START + timedelta(days=run + d)
                version = run if d >= days - restated_days else 0
                records += [bar(ticker, ms(day, h), version, arrival) for h in HOURS_UTC]
            uris.append(self.deliver(records, arrival))
        return uris

    # ---- steps --------------------------------------------------------------------------
    def run(self, settings: Optional[Settings] = None, engine=None, *, full: bool = False,
            now: Optional[datetime] = None) -> Dict[str, Any]:
        """crawl, transform, dedup (the steps that build tables)."""
        s, e = settings or self.inc, engine or self.engine
        out = {"crawl": steps.crawl(s, e, self.storage)}
        out["transform"] = steps.transform(s, e, self.storage, full_refresh=full, now=now)
        out["dedup"] = steps.dedup(s, e, self.storage, full_refresh=full, now=now)
        return out

    def rebuild_full(self) -> None:
        self.run(self.full, full=True)

    def difference(self, role: str) -> Tuple[int, int, int]:
        """(rows only in inc, rows only in full, rows in inc) of table `role`, as multisets."""
        a, b = self.inc.table(role), self.full.table(role)
        cols = ", ".join(steps.typed_columns(self.inc))

        def count(sql: str) -> int:
            return int(self.engine.execute(sql).scalar())

        only = "SELECT count(*) FROM (SELECT {c} FROM {x} EXCEPT ALL SELECT {c} FROM {y}) d"
        return (
            count(only.format(c=cols, x=a, y=b)),
            count(only.format(c=cols, x=b, y=a)),
            count(f"SELECT count(*) FROM {a}"),
        )

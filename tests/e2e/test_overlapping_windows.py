"""Five daily ingests of overlapping 7-day windows, one bar restated by the source from the
fourth on: after dedup every bar appears once, with the latest restated values."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from runtime.demo import demo_fetch
from runtime.polygon import FetchResult, Page

pytestmark = pytest.mark.e2e

# Windows end 2026-11-16 .. 2026-11-20 (start = end - 7 days); their union is 2026-11-09..20:
# sessions 9-13 and 16-20 = 10 sessions x 16 demo bars.
ENDS = [date(2026, 11, 16) + timedelta(days=i) for i in range(5)]
UNION_BARS = 10 * 16
RESTATED_MS = 1_795_014_000_000  # 2026-11-18 10:00 EST, inside the last three windows


class RestatingSource:
    """A Polygon stand-in serving demo bars; from `restate_from` on, one bar's close moves."""

    def __init__(self):
        self.restate = False

    def fetch_aggregates(self, ticker, start, end):
        result = demo_fetch(ticker, start, end)
        pages = []
        for page in result.pages:
            bars = []
            for bar in page.results:
                bar = dict(bar)
                if self.restate and bar["t"] == RESTATED_MS:
                    bar["c"] = round((bar["h"] + bar["l"]) / 2 + 0.0001, 4)
                bars.append(bar)
            pages.append(Page(page.request_id, bars))
        return FetchResult(ticker, start, end, pages, source="polygon")

    base_url = "http://127.0.0.1:9"

    def get_pages(self, label, url):  # the splits request: none known
        return [Page("splits", [])]

    def close(self):
        pass


def test_each_bar_once_with_the_latest_restated_values(home, make_lake):
    lake = make_lake(home, ("AAPL",), polygon_api_key="test-not-a-real-key")
    source = RestatingSource()
    raw_total = 0
    for day, end in enumerate(ENDS):
        source.restate = day >= 3
        now = datetime(end.year, end.month, end.day, 16, tzinfo=timezone.utc) + timedelta(days=1)
        summary = lake.ingest(end=end, days=7, now=now, source="polygon", client=source)
        raw_total += summary.bars
    wf = lake.workflow(now=datetime(2026, 11, 21, 12, tzinfo=timezone.utc))
    assert wf.blocked is None, wf.blocked
    s = lake.settings
    assert lake.scalar(f"SELECT count(*) FROM {s.raw_table}") == raw_total
    assert raw_total == 5 * 6 * 16
    assert lake.scalar(f"SELECT count(*) FROM {s.sans_dup_table}") == UNION_BARS
    assert lake.scalar(
        f"SELECT count(*) FROM (SELECT ticker, bar_time_ms FROM {s.sans_dup_table} "
        f"GROUP BY ticker, bar_time_ms HAVING count(*) > 1) d"
    ) == 0
    # The restated bar: three raw versions (windows 3-5), the last two restated.
    versions = lake.rows(
        f"SELECT close, ingested_at FROM {s.parquet_table} WHERE bar_time_ms = {RESTATED_MS} "
        "ORDER BY ingested_at"
    )
    assert len(versions) == 3
    original, restated = versions[0][0], versions[-1][0]
    assert versions[1][0] == restated != original
    published = lake.rows(
        f"SELECT close, ingested_at FROM stock_aggregate_prod_latest "
        f"WHERE bar_time_ms = {RESTATED_MS}"
    )
    assert published == [(restated, versions[-1][1])]
    # Every published bar carries the newest ingested_at any window gave it.
    newest = dict(lake.rows(
        f"SELECT bar_time_ms, max(ingested_at) FROM {s.parquet_table} GROUP BY bar_time_ms"
    ))
    kept = dict(lake.rows(
        "SELECT bar_time_ms, ingested_at FROM stock_aggregate_prod_latest"
    ))
    assert kept == newest
